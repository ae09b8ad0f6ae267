"""One beat tick of the clock (orders.tasks.tenants_due_sales) through a real Celery worker on Redis.

Makes BENCH_CLOCK_COLLECTIVES real collectives (default 60, each its own schema, cloned from the template)
with nothing due, then times, from the moment beat would send the tick to the moment the worker has done
everything it caused (a sentinel task sent after it to the same single worker process runs last):

- the floor: one no-op task through the same worker;
- every collective visited (what each minute's tick did before the due-index, and what the hourly pass
  `tenants_clock_check` does now), against its own floor: as many no-op tasks;
- the minute tick with the due-index, nothing due, with the real collectives, then with BENCH_CLOCK_ROWS
  (default 10 000) more collectives as cheap rows (a Collective and its ClockDue row, no schema: the tick
  reads only the index, so a schema would change nothing), against the floor;
- the no-op fan-out to all of those rows: the least the old tick would cost at that size.

Median of 5 runs each (3 for the fan-outs).
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

from _setup import django_for_bench, report

django_for_bench()

import _clock_tasks  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from config.celery import app  # noqa: E402
from marketplace import services as marketplace_services  # noqa: E402
from marketplace import tenancy  # noqa: E402
from marketplace.models import ClockDue, Collective, User  # noqa: E402
from orders import tasks  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
REAL = int(os.environ.get("BENCH_CLOCK_COLLECTIVES", "60"))
ROWS = int(os.environ.get("BENCH_CLOCK_ROWS", "10000"))


def worker_start() -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.bench",
        "PYTHONPATH": str(ROOT / "bench"),
        "CONN_MAX_AGE": "60",  # as in production (config/settings/production.py): one connection per worker
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "celery", "-P", "solo"]
        + ["-I", "_clock_tasks", "-n", "clock@%h", "-l", "warning", "--without-gossip", "--without-mingle"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 240  # a loaded machine takes its time to start Celery
    while time.monotonic() < deadline:
        if any("clock@" in name for answer in app.control.ping(timeout=1) or [] for name in answer):
            return process
    process.kill()
    raise RuntimeError("the worker did not answer")


def round_trip(send) -> float:
    """Seconds from `send()` to the worker having done all it sent. The tick itself runs here (beat's task
    would run it on a worker: one hop more, the floor's), so that the sentinel is queued after its fan-out."""
    cache.clear()  # the ticks' once-a-minute keys (marketplace.followups.beat_tick_claim), the sentinels
    key = f"bench-sentinel-{uuid.uuid4().hex}"
    started = time.perf_counter()
    send()
    _clock_tasks.sentinel.delay(key=key)
    while cache.get(key) is None:
        if time.perf_counter() - started > 900:
            raise RuntimeError("the worker did not finish")
        time.sleep(0.002)
    return time.perf_counter() - started


def median(send, runs: int = 5) -> float:
    return statistics.median(round_trip(send) for _ in range(runs))


def noop_fanout(count: int):
    def send():
        for _ in range(count):
            _clock_tasks.noop.delay(schema_name="x")

    return send


def cheap_rows(count: int) -> None:
    """Collectives without a schema, each with its row in the index: due between an hour and a month ahead."""
    rng = random.Random(47)
    now = timezone.now()
    collectives = Collective.objects.bulk_create(
        Collective(schema_name=f"c_cheap{i:05d}", slug=f"cheap{i:05d}", name=f"Collectif {i}")
        for i in range(count)
    )
    ClockDue.objects.bulk_create(
        ClockDue(collective=collective, next_due=now + timedelta(minutes=rng.randint(60, 43_200)))
        for collective in collectives
    )


def main() -> None:
    tenancy.public_tenant_ensure()
    tenancy.template_tenant_ensure()
    owner = User.objects.create_user(email="coord@clockbench.test", password="bench-password-2026")
    started = time.perf_counter()
    for i in range(REAL):
        marketplace_services.collective_create(
            owner=owner, name=f"Horloge {i}", slug=f"horloge{i}", kind="drive", town="Agen", join_mode="open"
        )
    connection.set_schema_to_public()
    print(f"{REAL} collectives made in {time.perf_counter() - started:.1f} s")
    app.control.purge()
    worker = worker_start()
    try:
        floor = median(lambda: None)
        print(f"floor: one no-op task through the worker: {floor * 1000:.1f} ms")

        every = median(tasks.tenants_clock_check, runs=3)
        every_floor = median(noop_fanout(REAL), runs=3)
        print(
            f"every collective visited ({REAL}; the old minute tick, the hourly pass now): {every:.2f} s; "
            f"{REAL} no-op tasks: {every_floor:.2f} s"
        )

        assert ClockDue.objects.count() == REAL  # each visit wrote its collective's row
        real_tick = median(tasks.tenants_due_sales)
        print(f"tick with the due-index, {REAL} collectives, nothing due: {real_tick * 1000:.1f} ms")

        cheap_rows(ROWS)
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            visited = tasks.tenants_due_sales()
        assert visited == 0, visited
        started = time.perf_counter()
        for _ in range(20):
            cache.clear()
            tasks.tenants_due_sales()
        in_process = (time.perf_counter() - started) / 20
        tick = median(tasks.tenants_due_sales)
        total = ROWS + REAL
        print(
            f"tick with the due-index, {total} collectives, nothing due: {tick * 1000:.1f} ms through the "
            f"worker; the tick's own work {in_process * 1000:.1f} ms, {len(queries)} statement(s)"
        )
        fanout = median(noop_fanout(total), runs=1)
        print(f"the old tick's floor at {total} collectives: {total} no-op tasks, {fanout:.1f} s")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
        app.control.purge()

    report(
        f"clock: every collective visited ({REAL}, the old tick / the hourly pass)",
        f"{every:.2f} s",
        f"{REAL} no-op tasks {every_floor:.2f} s",
        every / every_floor,
    )
    report(
        f"clock: one tick, {total} collectives (index rows), nothing due",
        f"{tick * 1000:.0f} ms",
        f"one no-op task {floor * 1000:.0f} ms",
        tick / floor,
    )
    report(
        f"clock: the old tick's floor at {total} collectives",
        f"{fanout:.1f} s",
        f"the new tick {tick * 1000:.0f} ms",
        fanout / tick,
    )


if __name__ == "__main__":
    main()
