"""When the current collective next needs its clock job (orders.closing.jobs.clock_run), from its own tables:
the due-index's recomputation (marketplace.clock). Each source gives the earliest moment at which the job
would do something; the collective's moment is the earliest of them, or None (nothing until a change).

A source may answer too early (the visit finds nothing and recomputes), never too late: that would be a sale
closed late. What a service changes between two visits lowers the moment itself (marketplace.clock.due_lower).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Count, F, Min, Q
from django.utils import timezone

from marketplace import clock, locks
from marketplace.models import FollowUp
from orders.models import MonthlyStatement, OfferWait, Order, PaymentStatus, RecurringSchedule, Sale, SlotWait
from orders.statements import services as statement_services
from producers import agreements

REMINDER_BEFORE_CLOSING = Sale.REMINDER_BEFORE_CLOSING
# A schedule that could not make all its sales (days taken by other sales) tries again this much later, as the
# hourly beat did before the index.
SCHEDULE_RETRY = timedelta(hours=1)


def _sales(now: datetime) -> list[datetime | None]:
    """Published sales still open or to open: their opening e-mail, their reminder, their closing (one query;
    Sale.clock_next says the same of one sale)."""
    moments = Sale.objects.filter(is_published=True, closed_at__isnull=True).aggregate(
        opening=Min("opens_at", filter=Q(opened_notified_at__isnull=True)),
        reminder=Min(
            F("closes_at") - REMINDER_BEFORE_CLOSING,
            filter=Q(reminded_at__isnull=True, opens_at__lt=F("closes_at") - REMINDER_BEFORE_CLOSING),
        ),
        closing=Min("closes_at"),
    )
    return list(moments.values())


def _holds() -> datetime | None:
    """Card orders awaiting their payment are released when their hold ends (one query)."""
    return Order.objects.filter(
        status=Order.Status.PLACED, payment_status=PaymentStatus.AWAITING, hold_until__isnull=False
    ).aggregate(at=Min("hold_until"))["at"]


def _wait_offers() -> datetime | None:
    """A place or units held for a member by a waiting list go to the next in line when the hold ends."""
    ends = [
        model.objects.filter(status=model.Status.OFFERED).aggregate(at=Min("offered_until"))["at"]
        for model in (SlotWait, OfferWait)
    ]
    return min((end for end in ends if end is not None), default=None)


def _statements(now: datetime) -> datetime | None:
    """A closed sale's statements are issued when its distribution is over and every weighed line weighed (a
    weighing lowers the moment itself: orders.payments.services.line_weigh)."""
    if statement_services.sales_to_state(now=now):
        return now
    return Sale.objects.filter(
        closed_at__isnull=False, statement_run__isnull=True, distribution_ends_at__gt=now
    ).aggregate(at=Min("distribution_ends_at"))["at"]


def _months(now: datetime) -> datetime | None:
    """A producer's month is sent once it is over (statements.months_over_send), unless already queued."""
    schema = connection.schema_name  # type: ignore[attr-defined]  # django-tenants' connection
    months = {
        f"{schema}:monthly-{producer_id}-{month:%Y-%m}:send": month
        for producer_id, month in MonthlyStatement.objects.filter(emailed_at__isnull=True)
        .order_by()
        .values_list("producer_id", "month")
    }
    queued = set(FollowUp.objects.filter(key__in=list(months)).values_list("key", flat=True))
    waiting = [month for key, month in months.items() if key not in queued]
    if not waiting:
        return None
    first = min(waiting)
    after = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return timezone.make_aware(datetime.combine(after, time.min))


def _schedules(now: datetime) -> datetime | None:
    """A schedule makes its next sale when one of its sales closes (the closing is a moment already); one
    that could not make all its sales tries again later."""
    short = (
        RecurringSchedule.objects.filter(is_active=True)
        .annotate(upcoming=Count("sales", filter=Q(sales__closes_at__gt=now)))
        .filter(upcoming__lt=F("sales_ahead"))
    )
    return now + SCHEDULE_RETRY if short.exists() else None


def collective_next_due(*, now: datetime | None = None) -> datetime | None:
    now = now or timezone.now()
    moments = [
        *_sales(now),
        _holds(),
        _wait_offers(),
        _statements(now),
        _months(now),
        _schedules(now),
        agreements.agreement_warning_next(today=timezone.localdate(now)),
    ]
    found = [moment for moment in moments if moment is not None]
    return min(found) if found else None


@transaction.atomic
def due_refresh(*, now: datetime | None = None) -> datetime | None | bool:
    """Recompute and store the current collective's moment. False when a service of the collective is
    committing a change right now: the row is left as it is (due), and the next tick recomputes."""
    schema = connection.schema_name  # type: ignore[attr-defined]
    if not locks.clock_try_lock(schema):
        return False
    next_due = collective_next_due(now=now)
    clock.due_store(next_due=next_due, schema_name=schema)
    return next_due
