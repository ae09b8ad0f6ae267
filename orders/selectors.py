"""Reads of the ordering app for views, templates and e-mails."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from marketplace.money import money
from orders.models import MemberPreferences, Offer, Order, OrderLine, Payment, PaymentMethod, Sale
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


def sales_for_coordinator() -> QuerySet[Sale]:
    return (
        Sale.objects.select_related("distribution")
        .annotate(order_count=Count("orders", filter=Q(orders__status=Order.Status.PLACED), distinct=True))
        .order_by("-opens_at")
    )


def sales_open_or_coming() -> QuerySet[Sale]:
    """Published sales that members can see: open now, or opening later."""
    now = timezone.now()
    return (
        Sale.objects.filter(is_published=True, closes_at__gt=now, closed_at__isnull=True)
        .select_related("distribution")
        .order_by("opens_at")
    )


def sale_offers(*, sale: Sale) -> QuerySet[Offer]:
    return (
        Offer.objects.filter(sale=sale)
        .select_related("producer", "product", "product__category")
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
        Order.objects.filter(user=user).select_related("sale", "booking__slot__point").order_by("-created_at")
    )


def sale_orders(
    *, sale: Sale, status: str = "", point_id: int | None = None, query: str = ""
) -> QuerySet[Order]:
    orders = (
        Order.objects.filter(sale=sale)
        .select_related("user", "booking__slot__point")
        .order_by("basket_number", "pk")
    )
    if status:
        orders = orders.filter(status=status)
    if point_id:
        orders = orders.filter(booking__slot__point_id=point_id)
    if query:
        orders = orders.filter(
            Q(user__last_name__icontains=query)
            | Q(user__first_name__icontains=query)
            | Q(user__email__icontains=query)
        )
    return orders


def sale_totals_per_product(*, sale: Sale) -> QuerySet:
    return (
        OrderLine.objects.filter(order__sale=sale, order__status=Order.Status.PLACED)
        .values("offer_id", "name", "unit", "offer__producer__name", "is_variable_weight")
        .annotate(quantity=Sum("quantity"), amount=Sum("amount"))
        .order_by("offer__producer__name", "name")
    )


def sale_totals_per_producer(*, sale: Sale) -> QuerySet:
    return (
        OrderLine.objects.filter(order__sale=sale, order__status=Order.Status.PLACED)
        .values("offer__producer_id", "offer__producer__name")
        .annotate(amount=Sum("amount"), lines=Count("pk"))
        .order_by("offer__producer__name")
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
        CartLine(
            offer=offer, quantity=quantities[offer.pk], amount=money(offer.unit_amount * quantities[offer.pk])
        )
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


@dataclass
class OrderMoneyRow:
    order: Order
    balance: object  # payments.Balance
    by_method: dict[str, Decimal]


@dataclass
class SalePaymentsReport:
    rows: list[OrderMoneyRow]
    per_method: list[tuple[str, Decimal, Decimal]]  # (label, received, refunded)
    due: Decimal
    received: Decimal
    refunded: Decimal
    authorized: Decimal
    remaining: Decimal


def sale_payments_report(*, sale: Sale) -> SalePaymentsReport:
    """Per order and per payment method: what was paid, refunded, authorised and is still due. Orders that
    were cancelled appear while money is attached to them (to be refunded, or refunded)."""
    from orders.payments import order_balance

    orders = list(
        Order.objects.filter(sale=sale)
        .filter(Q(status=Order.Status.PLACED) | Q(payments__isnull=False))
        .distinct()
        .select_related("user")
        .prefetch_related("lines", Prefetch("payments", queryset=Payment.objects.prefetch_related("refunds")))
        .order_by("basket_number", "pk")
    )
    received_by: dict[str, Decimal] = defaultdict(Decimal)
    refunded_by: dict[str, Decimal] = defaultdict(Decimal)
    rows = []
    for order in orders:
        by_method: dict[str, Decimal] = defaultdict(Decimal)
        for payment in order.payments.all():
            if payment.status == Payment.Status.SUCCEEDED:
                by_method[payment.method] += payment.amount
                received_by[payment.method] += payment.amount
            refunded_by[payment.method] += payment.refunded
        rows.append(OrderMoneyRow(order=order, balance=order_balance(order), by_method=dict(by_method)))
    labels = dict(PaymentMethod.choices)
    per_method = [
        (labels[method], received_by[method], refunded_by[method])
        for method in PaymentMethod.values
        if received_by[method] or refunded_by[method]
    ]
    return SalePaymentsReport(
        rows=rows,
        per_method=per_method,
        due=sum((row.balance.due for row in rows), Decimal("0")),
        received=sum((row.balance.received for row in rows), Decimal("0")),
        refunded=sum((row.balance.refunded for row in rows), Decimal("0")),
        authorized=sum((row.balance.authorized for row in rows), Decimal("0")),
        remaining=sum((row.balance.remaining for row in rows), Decimal("0")),
    )
