"""The operator's detailed health page (django-health-check): the database, Redis (cache and Celery broker),
both storages, a Celery worker on each queue, and the clock (beat's last tick).

`/sante/` stays the load balancer's cheap floor (marketplace.views.public.health); this page runs every check
and is for the platform operator only (staff on the public host), or for a monitor holding
HEALTH_CHECK_TOKEN (`Authorization: Bearer …`); `?format=json` or `Accept: application/json` for the latter.
"""

from __future__ import annotations

import dataclasses
import datetime
import secrets

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.http import HttpResponseForbidden
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.contrib.celery import Ping
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

# Public-schema cache key (the sweep runs in the public schema, so does this page).
BEAT_TICK_KEY = "health:beat-tick"


def beat_tick_record(*, now: datetime.datetime | None = None) -> None:
    """Called by beat's every-minute task. In the cache rather than a row: no write to PostgreSQL every
    minute, and a Redis that lost it (restart) is a Redis the broker check already reports."""
    cache.set(BEAT_TICK_KEY, (now or timezone.now()).timestamp(), timeout=24 * 3600)


def beat_tick_last() -> datetime.datetime | None:
    stamp = cache.get(BEAT_TICK_KEY)
    return datetime.datetime.fromtimestamp(stamp, tz=datetime.UTC) if stamp is not None else None


@dataclasses.dataclass
class BeatClock(HealthCheck):
    """Beat's every-minute task ran less than `max_age` ago (beat is up, and a worker took its tick)."""

    max_age: datetime.timedelta = dataclasses.field(default=datetime.timedelta(minutes=3), repr=False)

    def run(self) -> None:
        last = beat_tick_last()
        if last is None:
            raise ServiceUnavailable("No beat tick recorded")
        age = timezone.now() - last
        if age > self.max_age:
            raise ServiceUnavailable(f"Last beat tick {int(age.total_seconds())} s ago")


@dataclasses.dataclass
class CeleryQueues(Ping):
    """A worker answers a ping (short timeout) and every queue the platform uses has one."""

    queues: tuple[str, ...] = ("celery",)

    def __repr__(self) -> str:
        return f"Celery(queues={','.join(self.queues)})"

    def check_active_queues(self, *active_workers):
        active = {
            queue.get("name")
            for queues in (
                self.app.control.inspect(active_workers, timeout=self.timeout.total_seconds()).active_queues()
                or {}
            ).values()
            for queue in queues
        }
        for queue in sorted(set(self.queues) - active):
            raise ServiceUnavailable(f"No worker for Celery task queue {queue}")


def _broker_client():
    from redis.asyncio import Redis

    return Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2)


def _checks():
    from config.celery import app

    return [
        "health_check.checks.Database",
        "health_check.checks.Cache",
        ("health_check.contrib.redis.Redis", {"client_factory": _broker_client}),
        ("health_check.checks.Storage", {"alias": "default"}),
        ("health_check.checks.Storage", {"alias": "private"}),
        (
            CeleryQueues,
            {
                "app": app,
                "timeout": datetime.timedelta(seconds=settings.HEALTH_CELERY_TIMEOUT),
                "queues": tuple(settings.FOLLOWUP_TIME_LIMITS),
            },
        ),
        (BeatClock, {"max_age": datetime.timedelta(seconds=settings.HEALTH_BEAT_MAX_AGE)}),
    ]


def _has_token(request) -> bool:
    expected = settings.HEALTH_CHECK_TOKEN
    given = request.headers.get("Authorization", "")
    return bool(expected) and secrets.compare_digest(given.encode(), f"Bearer {expected}".encode())


class OperatorHealthView(HealthCheckView):
    template_name = "marketplace/operator/health.html"

    def get_checks(self):
        self.checks = _checks()
        return super().get_checks()

    async def dispatch(self, request, *args, **kwargs):
        if not _has_token(request):
            user = await request.auser()
            if not user.is_authenticated:
                return await sync_to_async(redirect_to_login)(request.get_full_path())
            if not (user.is_staff or user.is_superuser):
                return HttpResponseForbidden()
        response = await super().dispatch(request, *args, **kwargs)
        # The library answers 500 when a check fails; monitors and proxies read 503 as "unavailable".
        if response.status_code == 500:
            response.status_code = 503
        return response
