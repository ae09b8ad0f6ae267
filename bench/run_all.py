"""Run every benchmark script of this folder, one process each, and print their figures."""

import subprocess
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
failed = 0
for script in sorted(here.glob("*.py")):
    if script.name.startswith("_") or script.name == "run_all.py":
        continue
    print(f"== {script.name}", flush=True)
    failed += subprocess.run([sys.executable, str(script)], cwd=here).returncode != 0
sys.exit(1 if failed else 0)
