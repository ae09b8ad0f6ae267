"""The only place that takes row locks for ordering, always in this order:

    sale → offers (ascending pk) → central stocks of shared products (ascending pk, marketplace.locks)
    → slots (ascending pk, pickup_points.locks) → waiting-list entries of a slot or of a product
      (orders.waiting)
    → order → payments (ascending pk)
    → the member's account (ledger) → the solidarity fund → the distribution's basket counter
    (pickup_points.locks.basket_book)

A payment is locked only after its order (a webhook, a refund, a checkout attaching its session), and never
while Stripe is being called: Stripe answers first, then the rows are locked, re-read and updated.

Placing, changing or cancelling an order holds the sale FOR SHARE, so orders of one sale go through side by
side while the closing job (which takes the sale FOR UPDATE) waits for them, and they wait for it. Offer rows
are locked by one conditional UPDATE (offers_move), in ascending pk order. An order row is locked last, to
check that nobody changed it since it was read (a double submit): see services.order_update.

Placing an order writes its rows first (order, lines, ledger entry, history, follow-up: nobody else waits on
them), then takes what others compete for, as late as it can: the offers' stock, the slot's place, and, as
its very last statement, the distribution's basket counter (pickup_points.locks.basket_book), so that
checkouts of one sale wait on one another only for what they really share, and on the counter only for one
statement and the commit.

Waiting lists (orders.waiting): an entry of a slot's list moves only by conditional UPDATEs taken while
that slot's row is locked (offering, expiring, declining, lapsing and accepting a held place all lock the
slot first), so the places a slot frees go to its list one at a time, in line order, each to one member.
Only leaving a list while still waiting (no place held) touches an entry without its slot. The lists of
sold-out products (orders.waiting.offers) work the same under their offer's row (offer_lock, then the shared
product's central stock): held units are counted in the offer's `sold`; a checkout consuming a hold moves
(and so locks) every offer of the holds it takes first (offers_move, a zero move for an offer it takes
exactly the held units of), then reads the holds again and marks them taken, so that a hold ended or topped
up meanwhile (by the clock or by freed units, which hold the offer's row) is seen and set right.

Producers' statements (orders.statements) are written under one lock per collective, `statements_lock`
(a transaction-level advisory lock: issuing and numbering, preparing and paying transfers take it first),
then transfer → statements (ascending pk). Stripe Connect transfers (orders.payments.connect) are attached
under statements_lock too: statements_lock → Stripe transfer → its statement; a reversal is locked alone (its
refund's order lock may be held: order → reversal); a card top-up before the member's account.

Sheets made in parts (orders.sheets): sheet build → the sheet it is merged into.

A solidarity price tier is locked alone, while it is deleted or given to a member (orders.solidarity).

A point's cash box at a distribution (orders.cashbox) is locked alone: counting and closing take it, and
nothing else is locked with it (payments recorded meanwhile make a count stale, which closing checks).
"""

from __future__ import annotations

from django.db import connection

from marketplace import rows
from orders.models import (
    CardTopUp,
    CashBox,
    MemberAccount,
    MemberPreferences,
    MemberTier,
    MonthlyStatement,
    Offer,
    OfferWait,
    Order,
    Payment,
    PriceTier,
    RecurringSchedule,
    Sale,
    Sheet,
    SheetBuild,
    SlotWait,
    SolidarityFund,
    Statement,
    StripeReversal,
    StripeSync,
    StripeTransfer,
    Transfer,
)
from pickup_points import locks as point_locks
from pickup_points.models import PickupSlot, SlotBooking

_ORDER_BOOK_UPDATE = f"""
    UPDATE {Order._meta.db_table} o
    SET number = %(number)s, booking_id = b.id, basket_number = b.basket_number
    FROM booked b WHERE o.id = %(order)s
    RETURNING b.id, b.basket_number
"""  # noqa: S608 - the model's table
_ORDER_BOOK = point_locks.BASKET_BOOKED + _ORDER_BOOK_UPDATE


def order_basket_book(*, order: Order, slot: PickupSlot) -> SlotBooking:
    """The order's booking with its basket number (pickup_points.locks.basket_book), and the order's number,
    booking and basket number written, in one statement: the last of a checkout."""
    booking = point_locks.basket_book(
        slot=slot, user_id=order.user_id, statement=_ORDER_BOOK, order=order.pk, number=order.number
    )
    order.booking = booking
    order.basket_number = booking.basket_number
    return booking


# A sale's columns named one by one, never `*` (marketplace.rows says why).
SALE_COLUMNS = rows.columns(Sale, "s")


def sale_share(sale_id: int) -> Sale | None:
    query = f"SELECT {SALE_COLUMNS} FROM {Sale._meta.db_table} s WHERE id = %s FOR SHARE"  # noqa: S608
    return next(iter(Sale.objects.raw(query, [sale_id])), None)


_MEMBER_TIER = f"""
    FROM {MemberTier._meta.db_table} mt JOIN {PriceTier._meta.db_table} t ON t.id = mt.tier_id
    WHERE mt.user_id = %(user)s AND t.is_active
"""  # noqa: S608 - the models' tables
_SALE_SHARE_FOR_MEMBER = f"""
    SELECT {SALE_COLUMNS}, EXISTS (
        SELECT 1 FROM {Order._meta.db_table} o
        WHERE o.sale_id = s.id AND o.user_id = %(user)s AND o.status = %(placed)s
    ) AS member_has_order,
    (SELECT t.id {_MEMBER_TIER}) AS member_tier_id,
    (SELECT t.percent {_MEMBER_TIER}) AS member_tier_percent,
    EXISTS (
        SELECT 1 FROM {SlotWait._meta.db_table} w
        WHERE w.sale_id = s.id AND w.user_id = %(user)s AND w.status = ANY(%(open)s)
    ) AS member_waits,
    EXISTS (
        SELECT 1 FROM {OfferWait._meta.db_table} w
        WHERE w.sale_id = s.id AND w.user_id = %(user)s AND w.status = ANY(%(open)s)
    ) AS member_offer_waits
    FROM {Sale._meta.db_table} s WHERE s.id = %(sale)s FOR SHARE OF s
"""  # noqa: S608 - the models' tables


def sale_share_for_member(sale_id: int, user_id: int) -> Sale | None:
    """The sale FOR SHARE, as sale_share, with `member_has_order` (whether the member already has an order
    placed in it), whether they are on one of its slots' waiting lists (`member_waits`) or its products'
    (`member_offer_waits`), and the member's active price tier (`member_tier_id`, `member_tier_percent`:
    None for the base price), in the same statement."""
    query = Sale.objects.raw(
        _SALE_SHARE_FOR_MEMBER,
        {"user": user_id, "placed": Order.Status.PLACED, "sale": sale_id, "open": list(SlotWait.OPEN)},
    )
    return next(iter(query), None)


# One statement for every offer of an order: the offers are locked in ascending pk order first (the
# MATERIALIZED CTE, sorted before its rows are locked), then each takes its delta only if its stock allows
# (a delta > 0) or gives it back (< 0). PostgreSQL re-checks the WHERE on the latest version of a row it
# had to wait for, so stock is never oversold. Returns the ids of the offers that moved.
_OFFERS_MOVE = f"""
    WITH wanted (id, delta) AS (SELECT * FROM unnest(%(ids)s::bigint[], %(deltas)s::integer[])),
    locked AS MATERIALIZED (
        SELECT o.id FROM {Offer._meta.db_table} o WHERE o.id = ANY(%(ids)s::bigint[])
        ORDER BY o.id FOR NO KEY UPDATE OF o
    )
    UPDATE {Offer._meta.db_table} o SET sold = o.sold + w.delta
    FROM wanted w
    WHERE o.id = w.id AND o.id IN (SELECT id FROM locked)
      AND CASE WHEN w.delta > 0 THEN o.quantity IS NULL OR o.sold <= o.quantity - w.delta
               ELSE o.sold >= -w.delta END
    RETURNING o.id
"""  # noqa: S608 - the model's table


def offers_move(deltas: dict[int, int]) -> set[int]:
    """Move the `sold` counters of offers (lock order: ascending pk); the ids that could move."""
    ids = sorted(deltas)
    with connection.cursor() as cursor:
        cursor.execute(_OFFERS_MOVE, {"ids": ids, "deltas": [deltas[offer_id] for offer_id in ids]})
        return {row[0] for row in cursor.fetchall()}


def offer_lock(offer_id: int) -> Offer | None:
    """One offer's row, with its product (FOR NO KEY UPDATE, as offers_move takes it): a waiting list of a
    sold-out product moves only under it (orders.waiting.offers)."""
    return (
        Offer.objects.select_for_update(of=("self",), no_key=True)
        .select_related("product")
        .filter(pk=offer_id)
        .first()
    )


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


def sheet_build_lock(build_id: int) -> SheetBuild | None:
    """A sheet made in parts, locked while one of its parts is recorded (the last one queues the merge,
    once) or while it is merged; taken before the sheet's own lock. None: superseded or merged already."""
    return SheetBuild.objects.select_for_update().filter(pk=build_id).first()


def sheet_builds_lock(sale_id: int) -> list[SheetBuild]:
    """Every sheet of a sale still being made in parts (ascending pk), when the sheets are made again."""
    return list(SheetBuild.objects.select_for_update().filter(sale_id=sale_id).order_by("pk"))


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


def stripe_transfer_lock(transfer_id: int) -> StripeTransfer:
    return (
        StripeTransfer.objects.select_for_update(of=("self",)).select_related("statement").get(pk=transfer_id)
    )


def stripe_reversal_lock(reversal_id: int) -> StripeReversal:
    return StripeReversal.objects.select_for_update(of=("self",)).get(pk=reversal_id)


def card_topup_lock(topup_id: int) -> CardTopUp:
    return CardTopUp.objects.select_for_update().get(pk=topup_id)


def stripe_sync_lock(month) -> StripeSync:
    """A month of Stripe's balance copy (created at first use), locked while its lines are replaced."""
    StripeSync.objects.get_or_create(month=month)
    return StripeSync.objects.select_for_update().get(month=month)


def cash_box_lock(*, distribution_id: int, point_id: int) -> CashBox:
    """A point's cash box at a distribution (created at first use), locked while it is counted or closed."""
    CashBox.objects.get_or_create(distribution_id=distribution_id, point_id=point_id)
    return CashBox.objects.select_for_update().get(distribution_id=distribution_id, point_id=point_id)


def price_tier_lock(tier_id: int) -> PriceTier | None:
    """A solidarity price tier, locked while it is deleted or given to a member (orders.solidarity.services),
    so that nobody gets a tier being deleted."""
    return PriceTier.objects.select_for_update().filter(pk=tier_id).first()


def fund_lock() -> SolidarityFund:
    """The solidarity fund's row (created at first use), locked while its balance and entries move; taken
    after the order's row and after a member's account when they are involved."""
    SolidarityFund.objects.get_or_create(pk=1)
    return SolidarityFund.objects.select_for_update().get(pk=1)
