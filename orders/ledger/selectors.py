"""Reads of the ledger for pages and for the order balance: what an order's own entries add to its
payments (goodwill lowers what is due; credit counts as paid), a member's entries and account balance."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum

from marketplace.models import Membership, Role
from marketplace.selectors import memberships_of_collective
from orders.models import LedgerEntry, MemberAccount, Order, ShopSettings

ZERO = Decimal("0")


@dataclass(frozen=True)
class OrderLedger:
    goodwill: Decimal  # lowers what is due (geste commercial)
    credit: Decimal  # credit spent on the order, less credit kept from it
    fund_short: Decimal = ZERO  # ≤ 0: what the solidarity fund could not cover after a weighing (owed)


def order_ledger(order: Order) -> OrderLedger:
    """From the order's entries (prefetch `ledger_entries` for many orders)."""
    goodwill = credit = fund_short = ZERO
    for entry in order.ledger_entries.all():
        if entry.kind == LedgerEntry.Kind.GOODWILL:
            goodwill += entry.amount
        elif entry.kind in LedgerEntry.CREDIT_KINDS:
            credit += entry.amount
        elif entry.kind == LedgerEntry.Kind.FUND_SHORT:
            fund_short += entry.amount
    return OrderLedger(goodwill=goodwill, credit=credit, fund_short=fund_short)


def account_balance_from_entries(*, user_id: int) -> Decimal:
    """The account part (credit, top-ups), summed from the entries: MemberAccount.balance must agree."""
    total = LedgerEntry.objects.filter(
        user_id=user_id, order__isnull=True, account=LedgerEntry.Account.MEMBER
    ).aggregate(total=Sum("amount"))
    return total["total"] or ZERO


def account_balance(*, user_id: int) -> Decimal:
    account = MemberAccount.objects.filter(user_id=user_id).first()
    return account.balance if account else ZERO


def credit_available(*, user_id: int) -> Decimal:
    """What the member may spend from their account: their credit plus the overdraft the collective allows."""
    shop = ShopSettings.current()
    if not shop.credit_allowed:
        return ZERO
    return max(account_balance(user_id=user_id) + shop.credit_overdraft, ZERO)


@dataclass(frozen=True)
class MemberLedger:
    entries: list[LedgerEntry]
    total: Decimal  # negative: the member owes; positive: owed to them
    account: Decimal  # credit on the account (« avoir »)
    credit_allowed: bool

    @property
    def owed(self) -> Decimal:
        return -self.total


def member_ledger(*, user) -> MemberLedger:
    """The member's own entries, newest first, with their order numbers: « Mon solde »."""
    entries = list(
        LedgerEntry.objects.filter(user=user, account=LedgerEntry.Account.MEMBER)
        .select_related("order")
        .order_by("-created_at", "-pk")
    )
    return MemberLedger(
        entries=entries,
        total=sum((entry.amount for entry in entries), ZERO),
        account=sum((entry.amount for entry in entries if entry.order_id is None), ZERO),
        credit_allowed=ShopSettings.current().credit_allowed,
    )


@dataclass(frozen=True)
class MemberTotal:
    total: Decimal  # negative: the member owes; positive: owed to them

    @property
    def owed(self) -> Decimal:
        return -self.total


def member_total(*, user) -> MemberTotal:
    """The member's balance in one aggregate (« Mes commandes » shows only this line)."""
    total = LedgerEntry.objects.filter(user=user).aggregate(total=Sum("amount"))["total"]
    return MemberTotal(total=total or ZERO)


def sale_money_in_entries(*, sale_id: int) -> Decimal:
    """Payments less refunds of a sale, from the ledger (a treasurer's check against the payments)."""
    total = LedgerEntry.objects.filter(order__sale_id=sale_id, kind__in=LedgerEntry.MONEY_KINDS).aggregate(
        total=Sum("amount")
    )
    return total["total"] or ZERO


@dataclass(frozen=True)
class MemberBalanceRow:
    user: object
    account: Decimal  # credit (« avoir »)
    total: Decimal  # every entry: negative, the member owes


def member_balances(*, collective) -> list[MemberBalanceRow]:
    """Every active member of the collective with their balances, in two queries (coordinators' page)."""
    memberships = [
        membership
        for membership in memberships_of_collective(collective=collective, status=Membership.Status.ACTIVE)
        if Role.MEMBER in membership.roles
    ]
    totals: dict[int, Decimal] = defaultdict(Decimal)
    accounts: dict[int, Decimal] = defaultdict(Decimal)
    rows = (
        LedgerEntry.objects.filter(account=LedgerEntry.Account.MEMBER)
        .values("user_id")
        .annotate(total=Sum("amount"), account=Sum("amount", filter=Q(order__isnull=True)))
    )
    for row in rows:
        totals[row["user_id"]] = row["total"]
        accounts[row["user_id"]] = row["account"] or ZERO
    return [
        MemberBalanceRow(user=m.user, account=accounts[m.user_id], total=totals[m.user_id])
        for m in memberships
    ]


def credit_allowed_here() -> bool:
    return ShopSettings.current().credit_allowed


def entries_of_period(*, start, end) -> list[LedgerEntry]:
    """Every entry dated from `start` to `end` (dates, both included, in the collective's time zone), oldest
    first, with its order and sale: the accountant's export."""
    return list(
        LedgerEntry.objects.filter(created_at__date__gte=start, created_at__date__lte=end)
        .select_related("user", "order__sale")
        .order_by("created_at", "pk")
    )
