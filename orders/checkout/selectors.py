"""Reads for the member's pages (sale shop, cart, orders) and for e-mails and sheets (VAT breakdown)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from marketplace.money import money
from orders.models import MemberPreferences, Offer, Order, OrderLine, Payment, Sale
from pickup_points.models import PickupSlot


@dataclass(frozen=True)
class VatRow:
    rate: Decimal
    amount_incl_vat: Decimal
    vat: Decimal
    amount_excl_vat: Decimal


def vat_breakdown(lines: Iterable[OrderLine]) -> list[VatRow]:
    """Per VAT rate: the amount incl. VAT (sum of the rounded lines), the VAT it contains, and the rest."""
    per_rate: dict[Decimal, Decimal] = defaultdict(Decimal)
    for line in lines:
        per_rate[line.vat_rate] += line.amount
    rows = []
    for rate, amount in sorted(per_rate.items()):
        vat = money(amount * rate / (Decimal(100) + rate))
        rows.append(VatRow(rate=rate, amount_incl_vat=amount, vat=vat, amount_excl_vat=amount - vat))
    return rows


def sale_offers(*, sale: Sale) -> QuerySet[Offer]:
    return (
        Offer.objects.filter(sale=sale)
        .select_related("producer", "product__category", "product__shared_product")
        .order_by("producer__name", "product__category__position", "name")
    )


def sale_slots(*, sale: Sale) -> QuerySet[PickupSlot]:
    return (
        PickupSlot.objects.filter(distribution_id=sale.distribution_id, point__is_active=True)
        .select_related("point")
        .order_by("point__name", "starts_at")
    )


def _orders_with_lines() -> QuerySet[Order]:
    return Order.objects.select_related("sale", "booking__slot__point").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("offer__producer"))
    )


def order_detail(*, order_id: int) -> Order:
    return _orders_with_lines().select_related("user").get(pk=order_id)


def orders_of_user(*, user) -> QuerySet[Order]:
    return (
        Order.objects.filter(user=user)
        .select_related("sale", "booking__slot__point")
        # What `money_line` reads for each order (orders.payments.balance): no query per order.
        .prefetch_related(
            "lines",
            "ledger_entries",
            Prefetch("payments", queryset=Payment.objects.prefetch_related("refunds")),
        )
        .order_by("-created_at")
    )


def sale_for_members(*, sale_id: int) -> Sale | None:
    """A published sale, whatever its status (members may look at a closed or coming sale)."""
    return Sale.objects.filter(pk=sale_id, is_published=True).select_related("distribution").first()


def order_of_member(*, sale: Sale, user) -> Order | None:
    return (
        Order.objects.filter(sale=sale, user=user, status=Order.Status.PLACED)
        .select_related("booking")
        .first()
    )


def order_of_user(*, order_id: int, user) -> Order | None:
    return _orders_with_lines().filter(pk=order_id, user=user).first()


def order_quantities(*, order: Order) -> dict[int, int]:
    return dict(order.lines.values_list("offer_id", "quantity"))


@dataclass(frozen=True)
class ProducerGroup:
    producer: object
    rows: list


def offers_by_producer(rows) -> list[ProducerGroup]:
    """(offer, field) rows grouped by producer, in the order of the offers."""
    groups: dict[int, ProducerGroup] = {}
    for offer, field in rows:
        group = groups.setdefault(offer.producer_id, ProducerGroup(producer=offer.producer, rows=[]))
        group.rows.append((offer, field))
    return list(groups.values())


@dataclass(frozen=True)
class BasketTotal:
    amount: Decimal
    items: int
    is_estimate: bool  # weighed goods in the basket: the amount follows the weighing


def basket_total(*, offers: Iterable[Offer], quantities: dict[int, int]) -> BasketTotal:
    """The running total of the sale page, from offers already loaded (no query): each line rounded once,
    as the order will be; weighed goods at their estimated price."""
    lines = [(offer, quantities[offer.pk]) for offer in offers if quantities.get(offer.pk)]
    return BasketTotal(
        amount=sum((offer.amount_for(quantity) for offer, quantity in lines), Decimal("0")),
        items=sum(quantity for _offer, quantity in lines),
        is_estimate=any(offer.is_variable_weight for offer, _quantity in lines),
    )


@dataclass(frozen=True)
class CartLine:
    offer: Offer
    quantity: int
    amount: Decimal


@dataclass(frozen=True)
class CartSummary:
    lines: list[CartLine]
    total: Decimal
    has_variable_weight: bool
    vat: list[VatRow]


def cart_summary(*, sale: Sale, quantities: dict[int, int]) -> CartSummary:
    """The cart as the member will pay it: amounts from the sale's frozen prices, rounded once per line."""
    offers = sale_offers(sale=sale).filter(pk__in=list(quantities))
    lines = [
        CartLine(offer=offer, quantity=quantities[offer.pk], amount=offer.amount_for(quantities[offer.pk]))
        for offer in offers
    ]
    pseudo_lines = [OrderLine(vat_rate=line.offer.vat_rate, amount=line.amount) for line in lines]
    return CartSummary(
        lines=lines,
        total=sum((line.amount for line in lines), Decimal("0")),
        has_variable_weight=any(line.offer.is_variable_weight for line in lines),
        vat=vat_breakdown(pseudo_lines),
    )


@dataclass(frozen=True)
class PointSlots:
    point: object
    slots: list


def slots_by_point(slots) -> list[PointSlots]:
    groups: dict[int, PointSlots] = {}
    for slot in slots:
        groups.setdefault(slot.point_id, PointSlots(point=slot.point, slots=[])).slots.append(slot)
    return list(groups.values())


def member_preferences(*, user) -> MemberPreferences:
    """A member's preferences in the current collective; the defaults (unsaved) if never changed."""
    return MemberPreferences.objects.filter(user=user).first() or MemberPreferences(user=user)
