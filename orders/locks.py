"""The only place that takes row locks for ordering, always in this order:

    sale → offers (ascending pk) → central stocks of shared products (ascending pk, marketplace.locks)
    → slots (ascending pk, pickup_points.locks) → order → payments (ascending pk)
    → the member's account (ledger)

A payment is locked only after its order (a webhook, a refund, a checkout attaching its session), and never
while Stripe is being called: Stripe answers first, then the rows are locked, re-read and updated.

Placing, changing or cancelling an order holds the sale FOR SHARE, so orders of one sale go through side by
side while the closing job (which takes the sale FOR UPDATE) waits for them, and they wait for it. Offer rows
are locked by their conditional UPDATEs, issued in ascending pk order. An order row is locked last, to check
that nobody changed it since it was read (a double submit): see services.order_update.

Producers' statements (orders.statements) are written under one lock per collective, `statements_lock`
(a transaction-level advisory lock: issuing and numbering, preparing and paying transfers take it first),
then transfer → statements (ascending pk).
"""

from __future__ import annotations

from django.db import connection

from orders.models import (
    MemberAccount,
    MemberPreferences,
    MonthlyStatement,
    Order,
    Payment,
    RecurringSchedule,
    Sale,
    Sheet,
    Statement,
    Transfer,
)


def sale_share(sale_id: int) -> Sale | None:
    query = f"SELECT * FROM {Sale._meta.db_table} WHERE id = %s FOR SHARE"  # noqa: S608 - the model's table
    return next(iter(Sale.objects.raw(query, [sale_id])), None)


def sale_lock(sale_id: int) -> Sale:
    return Sale.objects.select_for_update(of=("self",)).get(pk=sale_id)


def order_lock(order_id: int) -> Order:
    return Order.objects.select_for_update(of=("self",)).get(pk=order_id)


def payment_lock(payment_id: int) -> Payment:
    return Payment.objects.select_for_update().get(pk=payment_id)


def payments_lock(order: Order) -> list[Payment]:
    """Every payment of an order (its order row already locked), in ascending pk order."""
    return list(order.payments.select_for_update().order_by("pk"))


def sale_claim(**conditions) -> Sale | None:
    """The sale matching `conditions`, locked, unless another worker holds it (skip locked): a job that
    must run once claims its sale with this and marks itself done in the same transaction."""
    return Sale.objects.select_for_update(of=("self",), skip_locked=True).filter(**conditions).first()


def schedule_lock(schedule_id: int) -> RecurringSchedule:
    return RecurringSchedule.objects.select_for_update().get(pk=schedule_id)


def preferences_lock(user) -> MemberPreferences:
    preferences, _created = MemberPreferences.objects.select_for_update().get_or_create(user=user)
    return preferences


def sheet_lock(*, sale: Sale, kind: str, producer, point) -> Sheet | None:
    """The sheet of one subject of a sale, locked while a new version is swapped in (None: the first)."""
    return (
        Sheet.objects.select_for_update().filter(sale=sale, kind=kind, producer=producer, point=point).first()
    )


def account_lock(user_id: int) -> MemberAccount:
    """A member's account row (created at first use), locked while its balance and entries move; taken
    after the order's row when an order is involved."""
    MemberAccount.objects.get_or_create(user_id=user_id)
    return MemberAccount.objects.select_for_update().get(user_id=user_id)


def statements_lock() -> None:
    """One writer of statements and transfers at a time in this collective (numbers follow one another)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{connection.schema_name}:statements"])  # type: ignore[attr-defined]


def statements_rows_lock(statement_ids) -> list[Statement]:
    return list(
        Statement.objects.select_for_update(of=("self",))
        .filter(pk__in=list(statement_ids))
        .select_related("producer__bank_account", "sale")
        .order_by("pk")
    )


def transfer_lock(transfer_id: int) -> Transfer:
    return Transfer.objects.select_for_update().get(pk=transfer_id)


def monthly_statement_lock(*, producer_id: int, month) -> MonthlyStatement | None:
    return MonthlyStatement.objects.select_for_update().filter(producer_id=producer_id, month=month).first()
