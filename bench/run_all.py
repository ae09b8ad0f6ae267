"""Run every benchmark script of this folder, one process each, print their output as it comes, then one
summary table of the lines they reported (`_setup.report`: lines starting with `BENCH|`)."""

import subprocess
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
failed = []
rows: list[tuple[str, ...]] = []
for script in sorted(here.glob("*.py")):
    if script.name.startswith("_") or script.name == "run_all.py":
        continue
    print(f"== {script.name}", flush=True)
    process = subprocess.Popen(
        [sys.executable, "-u", str(script)], cwd=here, stdout=subprocess.PIPE, text=True, bufsize=1
    )
    assert process.stdout is not None
    for line in process.stdout:
        print(line, end="", flush=True)
        if line.startswith("BENCH|"):
            cells = line.rstrip("\n").split("|")[1:]
            rows.append(tuple((cells + ["", "", "", ""])[:4]))
    if process.wait() != 0:
        failed.append(script.name)

print("\n== summary (what | figure | floor | ratio)")
header = ("what", "figure", "floor", "ratio")
widths = [max(len(row[index]) for row in [header, *rows]) for index in range(4)]
for row in [header, tuple("-" * width for width in widths), *rows]:
    print("| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |")
if failed:
    print("failed: " + ", ".join(failed))
sys.exit(1 if failed else 0)
