"""A sale's close and its PDF sheets with 1 and with 2 rendering workers, each its own process (as on its own
host), fed through Redis like production: the close records one follow-up per sheet on the "sheets" queue.

The collective and the sales are close_load.py's (40 producers × 5 products, 3 points; BENCH_CLOSE_ORDERS,
default 2000, the largest size is used). For each worker count: the workers are started and pinged, then a
sale of N orders is closed by `sale_close` (its follow-ups commit with it), and the clock runs until every
sheet of that sale has been swapped in. Printed: seconds with 1 and with 2 workers, and the ratio (the
parallel speed-up; on a 2-core machine 2 workers can at best halve the time, minus the database's share).
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
from orders.models import Sale, Sheet

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
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answers = app.control.ping(timeout=1) or []
        if len([a for a in answers if any(name.startswith("render") for name in a)]) >= count:
            return processes
    raise RuntimeError("the rendering workers did not answer")


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
    renders = FollowUp.objects.filter(schema_name=schema, kwargs__sale_id=sale_id)
    while time.perf_counter() - started < TIMEOUT_S:
        planned = renders.filter(task="orders.tasks.sheets_make", done_at__isnull=False).exists()
        if planned and not renders.filter(task="orders.tasks.sheet_make", done_at__isnull=True).exists():
            break
        time.sleep(0.2)
    else:
        raise RuntimeError("the sheets were not made in time")
    took = time.perf_counter() - started
    sheets = Sheet.objects.filter(sale_id=sale_id)
    return took, sheets.count(), sum(sheet.pages for sheet in sheets)


def main() -> None:
    rng = random.Random(47)
    users, farms, points = close_load.collective_setup()
    app.control.purge()
    results = {}
    for count in (1, 2):
        sale_id, lines = close_load.sale_with_orders(ORDERS, users, farms, points, rng)
        processes = workers_start(count)
        try:
            results[count] = close_and_wait(sale_id)
        finally:
            workers_stop(processes)
        took, sheets, pages = results[count]
        print(
            f"{count} worker(s): {ORDERS} orders, {lines} lines → {sheets} sheets, "
            f"{pages} pages in {took:.1f} s"
        )
    app.control.purge()  # the sheets' e-mails, for a "celery" worker nobody started
    one, two = results[1][0], results[2][0]
    print(
        f"close + sheets of {ORDERS} orders: 1 worker {one:.1f} s, 2 workers {two:.1f} s, "
        f"ratio {two / one:.2f}"
    )


if __name__ == "__main__":
    main()
