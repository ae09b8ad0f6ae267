"""Reads of solidarity prices: the tiers, the members' tiers (coordinators only), the fund's page."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum

from marketplace.models import Membership, Role
from marketplace.selectors import memberships_of_collective
from orders.ledger import fund
from orders.models import LedgerEntry, MemberTier, PriceTier, Sale

ZERO = Decimal("0")
Kind = LedgerEntry.Kind


def tiers(*, active_only: bool = False) -> list[PriceTier]:
    queryset = PriceTier.objects.annotate(member_count=Count("members"))
    if active_only:
        queryset = queryset.filter(is_active=True)
    return list(queryset.order_by("position", "percent", "pk"))


@dataclass(frozen=True)
class MemberTierRow:
    user: object
    tier: PriceTier | None
    chosen_by_member: bool


def member_tier_rows(*, collective) -> list[MemberTierRow]:
    """Every active member with their tier, in two queries (for coordinators only)."""
    memberships = [
        membership
        for membership in memberships_of_collective(collective=collective, status=Membership.Status.ACTIVE)
        if Role.MEMBER in membership.roles
    ]
    rows = {row.user_id: row for row in MemberTier.objects.select_related("tier")}
    return [
        MemberTierRow(
            user=m.user,
            tier=rows[m.user_id].tier if m.user_id in rows else None,
            chosen_by_member=rows[m.user_id].chosen_by_member if m.user_id in rows else False,
        )
        for m in memberships
    ]


def own_tier(*, user) -> MemberTier | None:
    return MemberTier.objects.filter(user=user).select_related("tier").first()


@dataclass(frozen=True)
class SaleFundRow:
    sale: Sale
    discounts: Decimal  # what the fund paid for the solidarity tier's discounts (positive)
    support: Decimal  # what the support tier gave
    orders: int


@dataclass(frozen=True)
class FundOverview:
    balance: Decimal
    entries: list[LedgerEntry]
    per_sale: list[SaleFundRow]
    gifts: Decimal
    baskets: Decimal
    basket_count: int


def fund_overview(*, limit: int = 200) -> FundOverview:
    """The fund for coordinators: balance, its entries newest first (with who gave), what each sale took
    and gave (three queries)."""
    entries = list(
        LedgerEntry.objects.filter(account=LedgerEntry.Account.FUND)
        .select_related("user", "order__sale")
        .order_by("-created_at", "-pk")[:limit]
    )
    per_sale_rows = (
        LedgerEntry.objects.filter(account=LedgerEntry.Account.FUND, kind__in=LedgerEntry.TIER_KINDS)
        .values("order__sale_id")
        .annotate(
            discounts=Sum("amount", filter=Q(kind=Kind.TIER_DISCOUNT)),
            support=Sum("amount", filter=Q(kind=Kind.TIER_SUPPORT)),
            orders=Count("order_id", distinct=True),
        )
    )
    sales = Sale.objects.in_bulk([row["order__sale_id"] for row in per_sale_rows])
    per_sale = sorted(
        (
            SaleFundRow(
                sale=sales[row["order__sale_id"]],
                discounts=-(row["discounts"] or ZERO),
                support=row["support"] or ZERO,
                orders=row["orders"],
            )
            for row in per_sale_rows
        ),
        key=lambda row: row.sale.opens_at,
        reverse=True,
    )
    gifts = LedgerEntry.objects.filter(
        account=LedgerEntry.Account.FUND, kind__in=LedgerEntry.GIFT_KINDS
    ).aggregate(
        gifts=Sum("amount", filter=Q(kind=Kind.GIFT)),
        baskets=Sum("amount", filter=Q(kind=Kind.SUSPENDED_BASKET)),
        basket_count=Count("pk", filter=Q(kind=Kind.SUSPENDED_BASKET)),
    )
    return FundOverview(
        balance=fund.fund_balance(),
        entries=entries,
        per_sale=per_sale,
        gifts=gifts["gifts"] or ZERO,
        baskets=gifts["baskets"] or ZERO,
        basket_count=gifts["basket_count"] or 0,
    )


@dataclass(frozen=True)
class PublicGift:
    """A gift as other members see it: when, what, how much; never who."""

    created_at: object
    kind_label: str
    amount: Decimal


@dataclass(frozen=True)
class FundForMembers:
    balance: Decimal
    recent: list[PublicGift]
    has_tiers: bool


def fund_for_members(*, limit: int = 5) -> FundForMembers:
    recent = [
        PublicGift(created_at=entry.created_at, kind_label=str(entry.get_kind_display()), amount=entry.amount)
        for entry in LedgerEntry.objects.filter(
            account=LedgerEntry.Account.FUND, kind__in=LedgerEntry.GIFT_KINDS
        )
        .only("created_at", "kind", "amount")
        .order_by("-created_at", "-pk")[:limit]
    ]
    return FundForMembers(
        balance=fund.fund_balance(),
        recent=recent,
        has_tiers=PriceTier.objects.filter(is_active=True).exists(),
    )
