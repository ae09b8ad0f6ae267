"""Tasks of the clock benchmark (bench/clock_tick.py), loaded into its worker with `-I _clock_tasks`."""

from celery import shared_task
from django.core.cache import cache


@shared_task(name="bench.noop")
def noop(**kwargs) -> None:
    """What one task of a fan-out costs when it does nothing (the old tick's floor)."""


@shared_task(name="bench.sentinel")
def sentinel(*, key: str) -> None:
    """Sent after the tick to the same single worker process: when it runs, everything before it is done."""
    cache.set(key, 1, timeout=600)
