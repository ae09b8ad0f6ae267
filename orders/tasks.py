"""Thin Celery tasks of the ordering app: they take the schema and ids, load, and call one function."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from celery import shared_task
from django_tenants.utils import schema_context

from marketplace import clock
from marketplace.followups import beat_tick_claim
from marketplace.models import Collective, User
from orders import emails
from orders.checkout import selectors as checkout_selectors
from orders.closing import jobs
from orders.models import Sale
from orders.payments import connect, gateway
from orders.payments import services as payment_services
from orders.sheets import services as sheet_services
from orders.statements import reconciliation
from orders.statements import services as statement_services
from orders.waiting import offers as offer_waits
from orders.waiting import selectors as waiting_selectors
from orders.waiting import services as waiting_services
from producers.models import Producer


@shared_task
def order_confirmation_send(*, schema_name: str, order_id: int, kind: str) -> None:
    collective = Collective.objects.get(schema_name=schema_name)
    with schema_context(schema_name):
        emails.order_email(
            collective=collective, order=checkout_selectors.order_detail(order_id=order_id), kind=kind
        )


# Clock jobs (beat → the collectives that are due → one task per collective) --------------------------------


@shared_task
def tenants_due_sales() -> int:
    """Beat, every minute, in the public schema: one task per collective whose clock job is due in the
    due-index (marketplace.clock), once a minute whatever the number of beats. Returns how many were sent."""
    if not beat_tick_claim("due-sales"):
        return 0
    schemas = clock.due_schemas()
    for schema_name in schemas:
        sales_due_process.delay(schema_name=schema_name)
    return len(schemas)


@shared_task
def tenants_clock_check() -> int:
    """Beat, every hour, in the public schema: every active collective, due or not, so that a row of the
    due-index that is missing or wrong delays its collective's work by an hour at most."""
    if not beat_tick_claim("clock-check"):
        return 0
    schemas = list(Collective.objects.active_tenants().values_list("schema_name", flat=True))
    for schema_name in schemas:
        sales_due_process.delay(schema_name=schema_name)
    return len(schemas)


@shared_task
def sales_due_process(*, schema_name: str) -> None:
    """A collective's clock job: whatever is due (orders.closing.jobs.clock_run), then its next moment."""
    with schema_context(schema_name):
        jobs.clock_run()


@shared_task
def sale_member_email_send(
    *,
    schema_name: str,
    sale_id: int,
    user_id: int,
    kind: str,
    closes_at: str | None = None,
    previous: str | None = None,
) -> None:
    """`closes_at`, `previous` (ISO datetimes): a "moved" e-mail's new and old closing."""
    collective = Collective.objects.get(schema_name=schema_name)
    with schema_context(schema_name):
        sale = Sale.objects.select_related("distribution").get(pk=sale_id)
        if not sale.is_open:  # sent late (workers down, broker out): « ouverte » or « ferme bientôt » no more
            return
        if kind == "moved" and sale.closes_at != datetime.fromisoformat(closes_at or ""):
            return  # moved again meanwhile: that move's e-mail says the closing that holds
        emails.sale_member_email(
            collective=collective,
            sale=sale,
            user=User.objects.get(pk=user_id),
            kind=kind,
            previous=datetime.fromisoformat(previous) if previous else None,
        )


@shared_task
def order_lines_cancelled_send(*, schema_name: str, order_id: int, removed: list[str]) -> None:
    collective = Collective.objects.get(schema_name=schema_name)
    with schema_context(schema_name):
        order = checkout_selectors.order_detail(order_id=order_id)
        emails.order_lines_cancelled_email(collective=collective, order=order, removed=removed)


@shared_task
def producer_minimum_missed_send(*, schema_name: str, sale_id: int, producer_id: int, total: str) -> None:
    collective = Collective.objects.get(schema_name=schema_name)
    with schema_context(schema_name):
        emails.producer_minimum_missed_email(
            collective=collective,
            sale=Sale.objects.get(pk=sale_id),
            producer=Producer.objects.get(pk=producer_id),
            total=Decimal(total),
        )


@shared_task
def sheets_make(*, schema_name: str, sale_id: int) -> int:
    """Queue the PDF sheets of a closed sale, one follow-up each (see orders.sheets)."""
    with schema_context(schema_name):
        return sheet_services.sheets_make(sale_id=sale_id)


@shared_task
def sheet_make(
    *, schema_name: str, sale_id: int, kind: str, producer_id: int | None, point_id: int | None
) -> bool:
    with schema_context(schema_name):
        return (
            sheet_services.sheet_make(sale_id=sale_id, kind=kind, producer_id=producer_id, point_id=point_id)
            is not None
        )


@shared_task
def sheet_part_make(*, schema_name: str, build_id: int, index: int) -> bool:
    with schema_context(schema_name):
        return sheet_services.sheet_part_make(build_id=build_id, index=index) is not None


@shared_task
def sheet_merge(*, schema_name: str, build_id: int) -> bool:
    with schema_context(schema_name):
        return sheet_services.sheet_merge(build_id=build_id) is not None


@shared_task
def sheet_email_send(*, schema_name: str, sheet_id: int) -> bool:
    with schema_context(schema_name):
        return sheet_services.sheet_email(sheet_id=sheet_id)


# Payments (orders.payments): each call is idempotent, so a redelivered task does no harm --------------------


@shared_task(autoretry_for=(gateway.StripeError,), retry_backoff=5, max_retries=5)
def refund_send(*, schema_name: str, refund_id: int) -> None:
    with schema_context(schema_name):
        payment_services.refund_send(refund_id=refund_id)


@shared_task(autoretry_for=(gateway.StripeError,), retry_backoff=5, max_retries=5)
def authorization_cancel(*, schema_name: str, payment_id: int) -> None:
    with schema_context(schema_name):
        payment_services.authorization_cancel(payment_id=payment_id)


@shared_task(autoretry_for=(gateway.StripeError,), retry_backoff=5, max_retries=5)
def checkout_expire(*, schema_name: str, payment_id: int) -> None:
    with schema_context(schema_name):
        payment_services.checkout_expire(payment_id=payment_id)


@shared_task
def stripe_transfer_send(*, schema_name: str, transfer_id: int) -> None:
    with schema_context(schema_name):
        connect.transfer_send(transfer_id=transfer_id)


@shared_task
def stripe_reversal_send(*, schema_name: str, reversal_id: int) -> None:
    with schema_context(schema_name):
        connect.reversal_send(reversal_id=reversal_id)


@shared_task
def stripe_balance_fetch(*, schema_name: str, month: str) -> None:
    with schema_context(schema_name):
        reconciliation.stripe_balance_fetch(month=date.fromisoformat(month))


# Producers' statements (orders.statements) ---------------------------------------------------------------


@shared_task
def statement_pdf_make(*, schema_name: str, statement_id: int) -> None:
    with schema_context(schema_name):
        statement_services.statement_pdf_make(statement_id=statement_id)


@shared_task
def statement_email_send(*, schema_name: str, statement_id: int) -> bool:
    with schema_context(schema_name):
        return statement_services.statement_email(statement_id=statement_id)


@shared_task
def monthly_statement_make(*, schema_name: str, producer_id: int, month: str, send: bool) -> None:
    with schema_context(schema_name):
        statement_services.monthly_statement_make(
            producer_id=producer_id, month=date.fromisoformat(month), send=send
        )


# Waiting lists (orders.waiting) ---------------------------------------------------------------------------


@shared_task
def slot_waits_offer(*, schema_name: str, slot_id: int) -> None:
    with schema_context(schema_name):
        waiting_services.slot_waits_offer(slot_id=slot_id)


@shared_task
def offer_waits_offer(*, schema_name: str, offer_id: int) -> None:
    with schema_context(schema_name):
        offer_waits.offer_waits_offer(offer_id=offer_id)


@shared_task
def offer_wait_email_send(*, schema_name: str, wait_id: int, kind: str) -> None:
    collective = Collective.objects.get(schema_name=schema_name)
    with schema_context(schema_name):
        emails.offer_wait_email(
            collective=collective, wait=waiting_selectors.offer_wait_for_email(wait_id=wait_id), kind=kind
        )


@shared_task
def point_waits_end(*, schema_name: str, sale_id: int, slot_id: int, user_id: int) -> None:
    with schema_context(schema_name):
        waiting_services.point_waits_end(sale_id=sale_id, slot_id=slot_id, user=User.objects.get(pk=user_id))


@shared_task
def slot_wait_email_send(*, schema_name: str, wait_id: int, kind: str) -> None:
    collective = Collective.objects.get(schema_name=schema_name)
    with schema_context(schema_name):
        emails.slot_wait_email(
            collective=collective, wait=waiting_selectors.wait_for_email(wait_id=wait_id), kind=kind
        )
