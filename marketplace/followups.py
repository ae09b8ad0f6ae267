"""Work that must follow a commit, as state: a transactional outbox.

A service that wants an e-mail sent, a sheet made or Stripe told after its transaction calls `followup_add`
inside that transaction. The row commits with the work that caused it, or not at all; after the commit it
is queued to Celery. If the broker is down, the worker dies or the message is lost, the row stays pending
and `followups_sweep` (beat, every minute) queues it again. `followup_run` claims a row with a lease (a
conditional UPDATE, no lock held while working), runs its task's code in the row's collective, and marks it
done; a failure is retried later with a growing delay. So a follow-up is delayed by a fault, never lost,
and run again only if a worker died between doing it and recording it (then within its lease).

During a web request, the follow-ups it commits are handed to the broker once its response has gone out
(Django's request_finished, sent when the server closes the response): the member does not wait for the
broker, and a process killed in between leaves rows that the sweeper queues.

Tasks are named by their dotted Celery name, so that a service never imports the tasks module.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tenants.utils import schema_context
from kombu.exceptions import OperationalError as BrokerDown  # what publishing raises when the broker is down

from marketplace import inserts
from marketplace.models import FollowUp

logger = logging.getLogger(__name__)

# (follow-up id, queue) committed during the current web request, queued once its response is out; None
# outside a request (a task, a command, a test calling a service): queued at the commit.
_after_response: ContextVar[list[tuple[int, str]] | None] = ContextVar("followups_pending", default=None)


def _request_begins(**_kwargs) -> None:
    _after_response.set([])


def _request_ends(**_kwargs) -> None:
    pending = _after_response.get()
    _after_response.set(None)
    for followup_id, queue in pending or ():
        followup_queue(followup_id, queue=queue)


request_started.connect(_request_begins, dispatch_uid="marketplace.followups.request_started")
request_finished.connect(_request_ends, dispatch_uid="marketplace.followups.request_finished")


def _queue_committed(followup_id: int, queue: str) -> None:
    pending = _after_response.get()
    if pending is None:
        followup_queue(followup_id, queue=queue)
    else:
        pending.append((followup_id, queue))


def _lease(queue: str) -> timedelta:
    """How long a claimed follow-up is left to its worker: its queue's hard time limit, plus a margin."""
    limit = settings.FOLLOWUP_TIME_LIMITS.get(queue, settings.FOLLOWUP_TIME_LIMITS["celery"])[1]
    return timedelta(seconds=limit + 30)


def followup_add(
    task: str, *, key: str | None = None, queue: str = "celery", delay: timedelta | None = None, **kwargs
) -> FollowUp | None:
    """Record that `task` must run with `kwargs` (and `schema_name` of the current collective) once this
    transaction commits. With a `key` already recorded, nothing is added (None)."""
    schema_name = connection.schema_name  # type: ignore[attr-defined]  # django-tenants' connection
    now = timezone.now()
    fields = {"schema_name": schema_name, "task": task, "kwargs": kwargs, "queue": queue}
    due_at = now + (delay or timedelta(0))
    if delay is None:  # handed to the broker as this transaction commits (followup_queue says if it failed)
        fields["queued_at"] = now
    if key is not None:
        followup, created = FollowUp.objects.get_or_create(key=key, defaults={**fields, "due_at": due_at})
        if not created:
            return None
    else:
        followup = FollowUp(**fields, due_at=due_at)
        inserts.insert(followup)  # with the order's other rows, in the checkout (marketplace.inserts)
    if delay is None:
        transaction.on_commit(lambda: _queue_committed(followup.pk, queue))
    return followup


def followup_queue(followup_id: int, *, queue: str = "celery") -> bool:
    """Hand a follow-up to the broker; when the broker is down, leave it to the sweeper (the page that
    committed it must not fail). Its `queued_at` is set by whoever calls this (followup_add, the sweeper),
    and cleared here if the broker refused it."""
    if current_app.conf.task_always_eager:  # unit tests: run it here and now, as an eager task would
        followup_run(followup_id=followup_id)
        return True
    task = "marketplace.tasks.followup_render" if queue == "sheets" else "marketplace.tasks.followup_run"
    try:
        # One attempt (no kombu retry policy): a broker that does not answer leaves the row to the sweeper
        # at once, instead of holding the web worker for the policy's retries; and 0.17 ms of CPU less on
        # each publish (0.67 → 0.50 ms measured here).
        current_app.send_task(task, kwargs={"followup_id": followup_id}, queue=queue, retry=False)
    except (BrokerDown, OSError) as error:
        logger.warning("follow-up %s not queued (%s): the sweeper will", followup_id, error)
        # Recorded as queued when it was added (one statement less for every follow-up that is): not so.
        FollowUp.objects.filter(pk=followup_id, done_at__isnull=True).update(queued_at=None)
        return False
    return True


def _backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=30 * 2 ** (attempts - 1)), timedelta(minutes=30))


def followup_run(*, followup_id: int, now: datetime | None = None) -> bool:
    """Claim the follow-up, do its work in its collective, record the outcome. False when there was nothing
    to do: done already, or claimed by a worker whose lease still runs."""
    now = now or timezone.now()
    followup = FollowUp.objects.filter(pk=followup_id).first()
    if followup is None or followup.done_at or followup.failed_at:
        return False
    claimed = (
        FollowUp.objects.filter(pk=followup_id, done_at__isnull=True, failed_at__isnull=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + _lease(followup.queue), attempts=followup.attempts + 1)
    )
    if not claimed:
        return False
    task = import_string(followup.task)
    try:
        with schema_context(followup.schema_name):
            task(**followup.kwargs)  # its code, in this process
    except Exception as error:
        attempts = followup.attempts + 1
        gave_up = attempts >= settings.FOLLOWUP_MAX_ATTEMPTS
        logger.warning(
            "follow-up %s (%s) failed, attempt %s: %s", followup.pk, followup.task, attempts, error
        )
        FollowUp.objects.filter(pk=followup_id).update(
            lease_until=None,
            queued_at=None,
            due_at=timezone.now() + _backoff(attempts),
            last_error=f"{type(error).__name__}: {error}"[:2000],
            failed_at=timezone.now() if gave_up else None,
        )
        if current_app.conf.task_always_eager and current_app.conf.task_eager_propagates:
            raise  # unit tests see the failure, as they would of an eager task
        return False
    FollowUp.objects.filter(pk=followup_id).update(done_at=timezone.now(), lease_until=None)
    logger.info("follow-up %s (%s) done", followup.pk, followup.task)
    return True


def followups_sweep(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Queue again every follow-up that is due and neither done, nor running under a lease, nor queued in
    the last QUEUED_GRACE (it may still be waiting in the broker). Returns how many were queued."""
    now = now or timezone.now()
    grace = now - timedelta(seconds=settings.FOLLOWUP_QUEUED_GRACE_SECONDS)
    due = (
        FollowUp.objects.filter(done_at__isnull=True, failed_at__isnull=True, due_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=grace))
        .order_by("due_at", "pk")
        .values_list("pk", "queue")[:limit]
    )
    queued = 0
    for followup_id, queue in list(due):
        FollowUp.objects.filter(pk=followup_id).update(queued_at=timezone.now())
        if not followup_queue(followup_id, queue=queue):
            break  # the broker is down: the next sweep tries again
        queued += 1
    return queued


def followups_pending(*, schema_name: str, task: str, **kwargs) -> int:
    """How many follow-ups of `task` with these arguments are still to be done in a collective."""
    return FollowUp.objects.filter(
        schema_name=schema_name,
        task=task,
        kwargs__contains=kwargs,
        done_at__isnull=True,
        failed_at__isnull=True,
    ).count()


def beat_tick_claim(name: str, *, now: datetime | None = None) -> bool:
    """True for the first run of the periodic task `name` in this minute: a second beat started by
    mistake (or a redelivered tick) then does nothing, instead of doubling the fan-out."""
    minute = (now or timezone.now()).replace(second=0, microsecond=0)
    return cache.add(f"beat-tick:{name}:{minute:%Y%m%d%H%M}", 1, timeout=120)
