"""What happens by the clock (beat → orders.tasks): announce a sale when it opens, remind the members who
have not ordered, close a sale, make the next sales of the recurring schedules. `clock_run` is a collective's
visit: all of it, then the collective's next moment in the clock's due-index (orders.closing.due).

Each job that must happen once marks itself done (`opened_notified_at`, `reminded_at`, `closed_at`) in the
same transaction as its work, on a row claimed by `locks.sale_claim` (skip locked): a second worker (or
beat firing twice) skips the row or finds it already marked, and a worker killed in the middle rolls the
whole transaction back, mark included, so the next run simply does it again. E-mails and sheets are
follow-ups written in that transaction (marketplace.followups), so a rolled-back run sends nothing and a
committed one loses nothing.

Sales whose row is held by an order being placed (FOR SHARE, see locks) are skipped for this run and taken
by the next one, a minute later.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone

from marketplace import central_stock, followups
from marketplace import selectors as marketplace_selectors
from marketplace.models import Collective
from orders import locks
from orders.checkout import services as checkout_services
from orders.closing.due import due_refresh
from orders.ledger import fund
from orders.models import (
    MemberPreferences,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    PaymentStatus,
    RecurringSchedule,
    Sale,
)
from orders.payments import services as payment_services
from orders.sales import services as sale_services
from orders.statements import services as statement_services
from orders.waiting import offers as offer_waits
from orders.waiting import services as waiting_services
from pickup_points import services as point_services
from producers import agreements
from producers.models import Producer

logger = logging.getLogger(__name__)

REMINDER_BEFORE_CLOSING = Sale.REMINDER_BEFORE_CLOSING


# Open -------------------------------------------------------------------------------------------------------


@transaction.atomic
def sale_open_notify(*, sale_id: int, now: datetime | None = None) -> int:
    """Tell every member that a published sale is open (closing time, pickup points), once. Returns how many
    e-mails were queued; 0 when there is nothing to do (not open yet, already told, closed, or busy)."""
    now = now or timezone.now()
    sale = locks.sale_claim(
        pk=sale_id,
        is_published=True,
        opened_notified_at__isnull=True,
        closed_at__isnull=True,
        opens_at__lte=now,
        closes_at__gt=now,
    )
    if sale is None:
        return 0
    sale.opened_notified_at = now
    sale.save(update_fields=["opened_notified_at"])
    user_ids = marketplace_selectors.active_member_ids(collective=Collective.objects.current())
    sale_services.member_emails_queue(sale_id=sale.pk, user_ids=user_ids, kind="open")
    return len(user_ids)


# Remind -----------------------------------------------------------------------------------------------------


@transaction.atomic
def sale_remind(*, sale_id: int, now: datetime | None = None) -> int:
    """24 hours before closing, remind the members who have not ordered and did not opt out, once.

    A sale that opened less than 24 hours before its closing gets no reminder: its opening e-mail is
    recent enough."""
    now = now or timezone.now()
    sale = locks.sale_claim(
        pk=sale_id,
        is_published=True,
        reminded_at__isnull=True,
        closed_at__isnull=True,
        opens_at__lte=now,
        opens_at__lt=F("closes_at") - REMINDER_BEFORE_CLOSING,
        closes_at__gt=now,
        closes_at__lte=now + REMINDER_BEFORE_CLOSING,
    )
    if sale is None:
        return 0
    sale.reminded_at = now
    sale.save(update_fields=["reminded_at"])
    ordered = set(
        Order.objects.filter(sale=sale, status=Order.Status.PLACED).values_list("user_id", flat=True)
    )
    opted_out = set(MemberPreferences.objects.filter(reminders=False).values_list("user_id", flat=True))
    user_ids = [
        user_id
        for user_id in marketplace_selectors.active_member_ids(collective=Collective.objects.current())
        if user_id not in ordered | opted_out
    ]
    sale_services.member_emails_queue(sale_id=sale.pk, user_ids=user_ids, kind="reminder")
    return len(user_ids)


# Close ------------------------------------------------------------------------------------------------------


def _producer_totals(sale: Sale) -> dict[int, Decimal]:
    rows = (
        OrderLine.objects.filter(order__sale=sale, order__status=Order.Status.PLACED)
        .values("offer__producer_id")
        .annotate(total=Sum("amount"))
    )
    return {row["offer__producer_id"]: row["total"] for row in rows}


def _minimums_enforce(sale: Sale, now: datetime) -> None:
    """Cancel the lines of every producer whose minimum order amount (if set) the sale did not reach: the
    stock goes back to the offers, each order's total is recomputed, an order left empty is cancelled and
    frees its slot; members and producers hear of it after the commit."""
    totals = _producer_totals(sale)
    missed = {
        producer.pk: (producer, totals[producer.pk])
        for producer in Producer.objects.filter(pk__in=totals, minimum_order_amount__isnull=False)
        if totals[producer.pk] < producer.minimum_order_amount
    }
    if not missed:
        return
    lines = list(
        OrderLine.objects.filter(
            order__sale=sale, order__status=Order.Status.PLACED, offer__producer_id__in=missed
        )
        .select_related("order__booking", "offer")
        .order_by("order_id", "pk")
    )
    # Lock order: offers (ascending pk, by their conditional UPDATEs) → slots → orders; the sale is held.
    given_back: dict[int, int] = defaultdict(int)
    for line in lines:
        given_back[line.offer_id] += line.quantity
    checkout_services.stock_give_back(quantities=given_back)
    removed_by_order: dict[int, list[OrderLine]] = defaultdict(list)
    for line in lines:
        removed_by_order[line.order_id].append(line)
    OrderLine.objects.filter(pk__in=[line.pk for line in lines]).delete()
    remaining = dict(
        OrderLine.objects.filter(order_id__in=removed_by_order)
        .values("order_id")
        .annotate(total=Sum("amount"))
        .values_list("order_id", "total")
    )
    orders = {line.order_id: line.order for line in lines}
    emptied = sorted(
        (order for order_id, order in orders.items() if order_id not in remaining),
        key=lambda order: (order.booking.slot_id if order.booking else 0, order.pk),
    )
    for order in emptied:  # slots in ascending order, like every other path that takes several
        if order.booking is not None:
            point_services.slot_release(booking=order.booking)
    changed, events = [], []
    for order_id in sorted(orders):
        order = orders[order_id]
        names = sorted({missed[line.offer.producer_id][0].name for line in removed_by_order[order_id]})
        note = "minimum not reached: " + ", ".join(names)
        if order_id in remaining:
            order.total = remaining[order_id]
            event = OrderEvent(order=order, kind=OrderEvent.Kind.LINES_CANCELLED, note=note[:300], at=now)
        else:
            order.total = Decimal("0")
            event = order.transition(
                to=Order.Status.CANCELLED, kind=OrderEvent.Kind.CANCELLED, note=note, at=now
            )
        events.append(event)  # one INSERT for them all
        order.updated_at = now  # bulk_update does not touch auto_now fields
        changed.append(order)
    Order.objects.bulk_update(changed, ["total", "status", "booking", "basket_number", "updated_at"])
    OrderEvent.objects.bulk_create(events)
    # Money already paid for the cancelled lines goes back (card refunds leave after the commit).
    for order in (
        Order.objects.filter(pk__in=sorted(orders), payments__isnull=False).distinct().order_by("pk")
    ):
        if order.is_placed:
            payment_services.excess_refund(order)
        else:
            payment_services.on_order_cancelled(order)
    _queue_minimum_emails(sale, missed, removed_by_order)


def _queue_minimum_emails(
    sale: Sale, missed: dict[int, tuple[Producer, Decimal]], removed_by_order: dict[int, list[OrderLine]]
) -> None:
    schema = connection.schema_name
    for order_id, lines in removed_by_order.items():
        followups.followup_add(
            "orders.tasks.order_lines_cancelled_send",
            schema_name=schema,
            order_id=order_id,
            removed=[f"{line.quantity} × {line.name}" for line in lines],
        )
    for producer_id, (_producer, total) in missed.items():
        followups.followup_add(
            "orders.tasks.producer_minimum_missed_send",
            schema_name=schema,
            sale_id=sale.pk,
            producer_id=producer_id,
            total=str(total),
        )


def on_sale_closed(sale: Sale) -> None:
    """Hook called by sale_close inside its transaction, once the orders are final.

    The delivery sheets (per producer, per pickup point, the coordinator's summary, buying groups' purchase
    orders) are a follow-up recorded in this transaction (marketplace.followups), so that the close stays
    short and the sheets are made even if the worker dies right after the commit or the broker is down.
    Making them is idempotent (each sheet replaces its previous version); if the worker dies during the
    close, the whole close (closed_at and the follow-up included) rolls back and is redone.
    """
    schema = connection.schema_name
    followups.followup_add(
        "orders.tasks.sheets_make",
        key=f"{schema}:sale-{sale.pk}:sheets",
        queue="sheets",
        schema_name=schema,
        sale_id=sale.pk,
    )


@transaction.atomic
def sale_close(*, sale_id: int, now: datetime | None = None) -> bool:
    """Close a published sale whose closing time has passed, exactly once: the orders freeze (closed_at
    set, the order services refuse any change), producers' minimums are enforced, then on_sale_closed.
    Returns False when there is nothing to do: not due, already closed, or being closed by another worker."""
    now = now or timezone.now()
    sale = locks.sale_claim(pk=sale_id, is_published=True, closed_at__isnull=True, closes_at__lte=now)
    if sale is None:
        return False
    sale.closed_at = now
    sale.save(update_fields=["closed_at"])
    _unpaid_release(sale)
    _minimums_enforce(sale, now)
    fund.sale_support_collect(sale_id=sale.pk)  # the support surplus of frozen orders enters the fund
    waiting_services.sale_waits_lapse(sale=sale, now=now)
    offer_waits.sale_offer_waits_lapse(sale=sale, now=now)
    on_sale_closed(sale)
    return True


@transaction.atomic
def sale_stock_deliver(*, sale_id: int, now: datetime | None = None) -> bool:
    """Once a closed sale's distribution is over, exactly once: what its orders hold of shared products was
    handed over, so it leaves the producers' central stocks and their reservations together."""
    now = now or timezone.now()
    sale = locks.sale_claim(
        pk=sale_id, closed_at__isnull=False, distribution_ends_at__lte=now, stock_delivered_at__isnull=True
    )
    if sale is None:
        return False
    central_stock.central_stock_deliver(quantities=shared_pending_quantities(sale_ids=[sale.pk]))
    sale.stock_delivered_at = now
    sale.save(update_fields=["stock_delivered_at"])
    return True


def shared_pending_quantities(
    *, sale_ids: list[int] | None = None, product_ids: list[int] | None = None
) -> dict[int, int]:
    """Shared product id → what placed orders hold of it and was not yet handed over (the sales not yet
    marked delivered): what this collective holds of the central stocks' reservations."""
    lines = OrderLine.objects.filter(
        order__status=Order.Status.PLACED,
        order__sale__stock_delivered_at__isnull=True,
        offer__product__shared_product__isnull=False,
    )
    if sale_ids is not None:
        lines = lines.filter(order__sale_id__in=sale_ids)
    if product_ids is not None:
        lines = lines.filter(offer__product_id__in=product_ids)
    return dict(
        lines.values("offer__product__shared_product_id")
        .annotate(total=Sum("quantity"))
        .values_list("offer__product__shared_product_id", "total")
    )


def _unpaid_release(sale: Sale) -> None:
    """Card orders still waiting for their payment when the sale closes are released (their members are
    told); a payment that still arrives later is refunded in full by payment_services.payment_sync."""
    awaiting = Order.objects.filter(
        sale=sale, status=Order.Status.PLACED, payment_status=PaymentStatus.AWAITING
    ).order_by("pk")
    for order_id in awaiting.values_list("pk", flat=True):
        checkout_services.order_release(order_id=order_id)


def unpaid_orders_release(*, now: datetime | None = None) -> int:
    """Card orders whose payment delay has passed: ask Stripe once more (a payment may have come without
    its webhook yet), then release those still unpaid. Returns how many were released."""
    now = now or timezone.now()
    released = 0
    overdue = Order.objects.filter(
        status=Order.Status.PLACED, payment_status=PaymentStatus.AWAITING, hold_until__lte=now
    ).order_by("pk")
    for order_id in overdue.values_list("pk", flat=True):
        try:
            for payment_id in Payment.objects.filter(
                order_id=order_id, status=Payment.Status.PENDING, stripe_session_id__isnull=False
            ).values_list("pk", flat=True):
                payment_services.payment_sync(payment_id=payment_id)
            released += checkout_services.order_release(order_id=order_id)
        except Exception:  # noqa: BLE001 - logged; retried by the next run
            logger.exception("release of order %s of %s failed", order_id, connection.schema_name)
    return released


# Fan-out ----------------------------------------------------------------------------------------------------


def due_sales_process(*, now: datetime | None = None) -> dict[str, int]:
    """Everything due in the current collective: openings to announce, reminders, closings. Each sale is its
    own transaction, so one failing sale does not hold back the others (it is logged and retried next run)."""
    now = now or timezone.now()
    published = Sale.objects.filter(is_published=True, closed_at__isnull=True)
    due = {
        "opened": (
            sale_open_notify,
            published.filter(opened_notified_at__isnull=True, opens_at__lte=now, closes_at__gt=now),
        ),
        "reminded": (
            sale_remind,
            published.filter(
                reminded_at__isnull=True,
                opens_at__lte=now,
                closes_at__gt=now,
                closes_at__lte=now + REMINDER_BEFORE_CLOSING,
            ),
        ),
        "closed": (sale_close, published.filter(closes_at__lte=now)),
        "delivered": (
            sale_stock_deliver,
            Sale.objects.filter(
                closed_at__isnull=False, stock_delivered_at__isnull=True, distribution_ends_at__lte=now
            ),
        ),
    }
    done = {"released": unpaid_orders_release(now=now)}
    done["waits_expired"] = waiting_services.offers_expire(now=now)
    done["waits_offered"] = waiting_services.free_places_offer(now=now)
    done["product_waits_expired"] = offer_waits.holds_expire(now=now)
    done["product_waits_offered"] = offer_waits.free_units_offer(now=now)
    for name, (job, sales) in due.items():
        done[name] = 0
        for sale_id in sales.order_by("closes_at", "pk").values_list("pk", flat=True):
            try:
                done[name] += bool(job(sale_id=sale_id, now=now))
            except Exception:  # noqa: BLE001 - logged; the sale is retried by the next run
                logger.exception("%s: sale %s of %s failed", name, sale_id, connection.schema_name)
    done["statements"] = statements_due_issue(now=now)
    return done


def statements_due_issue(*, now: datetime | None = None) -> int:
    """The end of a sale's life: once it is closed, distributed and weighed, its producers' statements are
    issued (orders.statements), their PDFs and e-mails being follow-ups; months that are over are sent."""
    issued = 0
    for sale_id in statement_services.sales_to_state(now=now):
        try:
            statement_services.statements_issue(sale_id=sale_id, now=now)
            issued += 1
        except Exception:  # noqa: BLE001 - logged; the sale is retried by the next run
            logger.exception("statements: sale %s of %s failed", sale_id, connection.schema_name)
    statement_services.months_over_send(now=now)
    return issued


def schedules_run(*, now: datetime | None = None) -> int:
    """Make the next sales of every active recurring schedule; returns how many were created."""
    created = 0
    for schedule_id in (
        RecurringSchedule.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True)
    ):
        try:
            created += len(sale_services.schedule_sales_create(schedule_id=schedule_id, now=now))
        except ValidationError as error:
            logger.warning(
                "schedule %s of %s: no sale created: %s", schedule_id, connection.schema_name, error.messages
            )
    return created


def clock_run(*, now: datetime | None = None) -> dict[str, int]:
    """A visit of the clock to the current collective: every job that may be due (each its own transaction,
    each finding nothing when nothing is due), then the collective's next moment in the due-index."""
    now = now or timezone.now()
    done = due_sales_process(now=now)
    done["scheduled"] = schedules_run(now=now)
    done["agreements"] = agreements.agreements_ending_notify(today=timezone.localdate(now))
    due_refresh(now=now)
    return done
