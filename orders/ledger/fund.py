"""The solidarity fund's account in the ledger: entries with account = fund, signed from the fund's side
(+ into the fund), its running balance in SolidarityFund, moved only here, under locks.fund_lock, never
below zero (a CHECK constraint says so even when two moves race: the row lock serialises them).

- **An order's share** (its tier's difference with the base price) is a projection, like the order's due:
  `fund_order_sync` writes the difference between what the lines say and what the order's fund entries add
  up to. A discount is reserved when the order is placed (the order services check first, under the fund's
  lock, that the fund covers it), given back when the order is cancelled or released, and follows the
  weighing. A support surplus enters the fund once the sale is closed, when no member can cancel any more:
  money a member may still take back is never spent on someone else's discount.
- **When the fund cannot follow a weighing** (a heavier solidarity basket, a lighter support one after the
  fund was spent), the part it cannot cover stays with the order: a member entry « remise non couverte par
  le fonds » raises what the order costs, so that the member, the supplier and the fund still add up.
- **Gifts** (« don », « panier suspendu ») come from the member's credit (two entries: the member's account
  down, the fund up) or are recorded by a coordinator as received on site.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils.translation import gettext as _

from marketplace.models import User
from orders import locks
from orders.models import LedgerEntry, Order, SolidarityFund

ZERO = Decimal("0")
Kind = LedgerEntry.Kind
FUND = LedgerEntry.Account.FUND


class FundShort(Exception):
    """The fund holds less than what was asked of it."""

    def __init__(self, available: Decimal):
        super().__init__(available)
        self.available = available


def fund_balance() -> Decimal:
    fund = SolidarityFund.objects.filter(pk=1).first()
    return fund.balance if fund else ZERO


def fund_move(
    *, amount: Decimal, kind: str, reason: str, user_id: int, order: Order | None = None, by=None, **fields
) -> LedgerEntry:
    fund = locks.fund_lock()
    if amount < 0 and fund.balance + amount < 0:
        raise FundShort(fund.balance)
    try:
        with transaction.atomic():
            SolidarityFund.objects.filter(pk=fund.pk).update(balance=F("balance") + amount)
    except IntegrityError as error:  # the floor, in the database
        raise FundShort(fund.balance) from error
    return LedgerEntry.objects.create(
        account=FUND,
        user_id=user_id,
        order=order,
        kind=kind,
        amount=amount,
        reason=reason[:200],
        created_by=by,
        **fields,
    )


def fund_available_locked() -> Decimal:
    """The fund's balance under its lock (the order services decide on a discount with it)."""
    return locks.fund_lock().balance


# An order's share -------------------------------------------------------------------------------------------


def order_fund_target(order: Order, *, sale_closed: bool) -> Decimal:
    """What the order should have given to (+) or taken from (−) the fund by now."""
    if not order.is_placed:
        return ZERO
    share = sum((line.fund_share for line in order.lines.all()), ZERO)
    if share > 0 and not sale_closed:
        return ZERO  # a support surplus counts once the sale is closed
    return share


def order_fund_sums(order: Order) -> tuple[Decimal, Decimal]:
    """(what the order's entries moved the fund by, what the member paid in its stead: ≤ 0)."""
    sums = {
        row["kind"]: row["total"]
        for row in LedgerEntry.objects.filter(
            order=order, kind__in=(*LedgerEntry.TIER_KINDS, Kind.FUND_SHORT)
        )
        .values("kind")
        .annotate(total=Sum("amount"))
    }
    return sums.get(Kind.TIER_DISCOUNT, ZERO) + sums.get(Kind.TIER_SUPPORT, ZERO), sums.get(
        Kind.FUND_SHORT, ZERO
    )


def fund_order_sync(
    order: Order, *, in_fund: Decimal | None = None, short: Decimal | None = None, by: User | None = None
) -> Decimal:
    """Bring the order's fund entries in line with its lines (under the order lock; the fund is locked only
    when something moves). `in_fund` and `short` are the order's sums (order_fund_sums), when the caller
    already read its entries. Returns what the fund moved by."""
    if in_fund is None or short is None:
        in_fund, short = order_fund_sums(order)
    if not order.tier_percent and not in_fund and not short:
        return ZERO  # a base-price order that never touched the fund: no query
    sale_closed = order.sale.closed_at is not None
    gap = order_fund_target(order, sale_closed=sale_closed) - (in_fund + short)
    if not gap:
        return ZERO
    number = order.number
    moved = ZERO
    if gap > 0 and short < 0:  # first, what the member paid for the fund goes back to them
        back = min(gap, -short)
        _short_entry(order, back, by)
        gap -= back
    if gap > 0:
        kind = Kind.TIER_SUPPORT if order.tier_percent > 0 else Kind.TIER_DISCOUNT
        reason = (
            _("Soutien, commande n° %(number)s")
            if kind == Kind.TIER_SUPPORT
            else _("Remise rendue au fonds, commande n° %(number)s")
        )
        fund_move(
            amount=gap,
            kind=kind,
            reason=reason % {"number": number},
            user_id=order.user_id,
            order=order,
            by=by,
        )
        moved = gap
    elif gap < 0:
        fund = locks.fund_lock()
        take = min(-gap, fund.balance)
        if take:
            kind = Kind.TIER_SUPPORT if order.tier_percent > 0 else Kind.TIER_DISCOUNT
            reason = (
                _("Soutien ajusté, commande n° %(number)s")
                if kind == Kind.TIER_SUPPORT
                else _("Remise solidaire, commande n° %(number)s")
            )
            fund_move(
                amount=-take,
                kind=kind,
                reason=reason % {"number": number},
                user_id=order.user_id,
                order=order,
                by=by,
            )
            moved = -take
        if -gap > take:
            _short_entry(order, -(-gap - take), by)
    return moved


def _short_entry(order: Order, amount: Decimal, by) -> None:
    LedgerEntry.objects.create(
        user_id=order.user_id,
        order=order,
        kind=Kind.FUND_SHORT,
        amount=amount,
        reason=(
            _("Pesée : part de la remise que le fonds solidaire ne couvre pas, commande n° %(number)s")
            if amount < 0
            else _("Pesée : part rendue par le fonds solidaire, commande n° %(number)s")
        )
        % {"number": order.number},
        created_by=by,
    )


def sale_support_collect(*, sale_id: int) -> int:
    """Once a sale is closed: each support order's surplus enters the fund (in the closing transaction;
    the orders are frozen). Returns how many orders gave."""
    given = 0
    orders = Order.objects.filter(sale_id=sale_id, status=Order.Status.PLACED, tier_percent__gt=0).order_by(
        "pk"
    )
    for order_id in orders.values_list("pk", flat=True):
        order = locks.order_lock(order_id)
        if fund_order_sync(order) > 0:
            given += 1
    return given
