"""A sale's close and its PDF sheets with 1 and with 2 rendering workers, each its own process (as on its own
host), fed through Redis like production: the close records one follow-up per sheet on the "sheets" queue.

The collective and the sales are close_load.py's (40 producers × 5 products, 3 points; BENCH_CLOSE_ORDERS,
default 2000, the largest size is used). For each worker count: the workers are started and pinged, then a
sale of N orders is closed by `sale_close` (its follow-ups commit with it), and the clock runs until every
sheet of that sale has been swapped in (plans, sheets, parts and merges: nothing left on the sheets
queue). Then the floor: WeasyPrint rendering one plain table of the same rows (close_load.floor), in the
same run. Printed: seconds with 1 and with 2 workers, each as a ratio to the floor (goals ≤ 1.2× and
≤ 0.65×), the speed-up, and the peak RSS of each rendering process (VmHWM of the worker's pool process);
then the same in CPU time (each worker's user + system seconds during the close, against the floor's),
which other work on a shared machine does not stretch as it stretches the wall time.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import close_load  # sets Django up on the benchmark database (see _setup.py)
from django.db import connection
from django.utils import timezone

from config.celery import app
from marketplace.models import FollowUp
from orders.closing import jobs
from orders.models import Order, OrderLine, Sale, Sheet, SheetBuild

ROOT = Path(__file__).resolve().parent.parent
ORDERS = max(close_load.SIZES)
TIMEOUT_S = 1800


def workers_start(count: int) -> list[subprocess.Popen]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.bench"}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "sheets", "-c", "1"]
            + ["-n", f"render{index}@%h", "-l", "warning", "--without-gossip", "--without-mingle"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for index in range(count)
    ]
    deadline = time.monotonic() + 300  # a busy machine starts Django slowly
    while time.monotonic() < deadline:
        answers = app.control.ping(timeout=1) or []
        if len([a for a in answers if any(name.startswith("render") for name in a)]) >= count:
            return processes
    raise RuntimeError("the rendering workers did not answer")


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in task.read_text().split():
            found += [int(child), *_children(int(child))]
    return found


def peak_rss_mib(processes: list[subprocess.Popen]) -> float:
    """The highest peak RSS (VmHWM) among the workers' processes (the pool process renders)."""
    peak = 0
    for process in processes:
        for pid in [process.pid, *_children(process.pid)]:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except FileNotFoundError:
                continue
            peak = max(peak, int(status.split("VmHWM:")[1].split()[0]))
    return peak / 1024


def workers_cpu_s(processes: list[subprocess.Popen]) -> list[float]:
    """CPU seconds (user + system) used so far by each worker, its pool process included: what the wall
    time would be on cores of its own, since other work on a shared machine stretches the wall time."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = []
    for process in processes:
        total = 0
        for pid in [process.pid, *_children(process.pid)]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        used.append(total / ticks)
    return used


def workers_stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait(timeout=60)


def close_and_wait(sale_id: int) -> tuple[float, int, int]:
    """Seconds from the close to the last sheet swapped in; (seconds, sheets, pages)."""
    schema = connection.schema_name
    Sale.objects.filter(pk=sale_id).update(closes_at=timezone.now() - timedelta(seconds=1))
    started = time.perf_counter()
    assert jobs.sale_close(sale_id=sale_id)
    plan = FollowUp.objects.filter(
        schema_name=schema, task="orders.tasks.sheets_make", kwargs__sale_id=sale_id, done_at__isnull=False
    )
    # Every follow-up of the sheets queue: the whole sheets (which name the sale) but also the parts and the
    # merges (which name their build), so the clock stops when the last sign-in sheet is merged in.
    queued = FollowUp.objects.filter(schema_name=schema, queue="sheets")
    while time.perf_counter() - started < TIMEOUT_S:
        if plan.exists() and not queued.filter(done_at__isnull=True, failed_at__isnull=True).exists():
            break
        time.sleep(0.2)
    else:
        raise RuntimeError("the sheets were not made in time")
    took = time.perf_counter() - started
    if queued.filter(failed_at__isnull=False).exists() or SheetBuild.objects.filter(sale_id=sale_id).exists():
        raise RuntimeError("a sheet or a part of one failed")
    sheets = Sheet.objects.filter(sale_id=sale_id)
    return took, sheets.count(), sum(sheet.pages for sheet in sheets)


def main() -> None:
    rng = random.Random(47)
    users, farms, points = close_load.collective_setup()
    app.control.purge()
    results, peaks, cpus = {}, {}, {}
    for count in (1, 2):
        sale_id, lines = close_load.sale_with_orders(ORDERS, users, farms, points, rng)
        processes = workers_start(count)
        try:
            before = workers_cpu_s(processes)
            results[count] = close_and_wait(sale_id)
            cpus[count] = [
                after - start for after, start in zip(workers_cpu_s(processes), before, strict=True)
            ]
            peaks[count] = peak_rss_mib(processes)
        finally:
            workers_stop(processes)
        took, sheets, pages = results[count]
        kept = OrderLine.objects.filter(order__sale_id=sale_id, order__status=Order.Status.PLACED).count()
        print(
            f"{count} worker(s): {ORDERS} orders, {lines} lines → {sheets} sheets, "
            f"{pages} pages in {took:.1f} s (CPU of each worker: "
            f"{', '.join(f'{cpu:.1f} s' for cpu in cpus[count])}); peak RSS of a rendering process "
            f"{peaks[count]:.0f} MiB",
            flush=True,
        )
    app.control.purge()  # the sheets' e-mails, for a "celery" worker nobody started
    floor = close_load.forked(close_load.floor(kept))
    floor_s, floor_cpu = floor["floor_s"], floor["floor_cpu"]
    one, two = results[1][0], results[2][0]
    print(
        f"close + sheets of {ORDERS} orders ({kept} lines): floor (WeasyPrint, one plain table of the same "
        f"rows) {floor_s:.1f} s; 1 worker {one:.1f} s = {one / floor_s:.2f}× the floor (goal ≤ 1.2×); "
        f"2 workers {two:.1f} s = {two / floor_s:.2f}× (goal ≤ 0.65×); speed-up {one / two:.2f}"
    )
    print(
        f"in CPU time (what a machine with a free core per worker would take): floor {floor_cpu:.1f} s; "
        f"1 worker {max(cpus[1]):.1f} s = {max(cpus[1]) / floor_cpu:.2f}×; 2 workers, the busier "
        f"{max(cpus[2]):.1f} s = {max(cpus[2]) / floor_cpu:.2f}× (both {sum(cpus[2]):.1f} s)"
    )
    close_load.report(
        f"close + sheets of {ORDERS} orders, 1 worker", f"{one:.1f} s", f"{floor_s:.1f} s", one / floor_s
    )
    close_load.report(
        f"close + sheets of {ORDERS} orders, 2 workers", f"{two:.1f} s", f"{floor_s:.1f} s", two / floor_s
    )


if __name__ == "__main__":
    main()
