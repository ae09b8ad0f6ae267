"""Reads for the coordinator's sale pages (and the collective home page's open sales)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from orders.models import Order, OrderLine, Sale
from pickup_points.selectors import distribution_hours, distribution_hours_read
from producers import weighing


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


def with_pickup_hours(sales) -> list[Sale]:
    """The sales, each with `pickup_hours`: its points' real hours from the slots (one query for all), or
    None when the distribution has no slot yet (then the sale's own distribution hours are shown). A sale
    read with its slots (`pickup_slots`: checkout.selectors.sale_for_member) needs no query."""
    sales = list(sales)
    unread = [sale.distribution_id for sale in sales if not hasattr(sale, "pickup_slots")]
    hours = distribution_hours(distribution_ids=unread) if unread else {}
    for sale in sales:
        if hasattr(sale, "pickup_slots"):
            sale.pickup_hours = distribution_hours_read(
                distribution_id=sale.distribution_id, column=sale.pickup_slots
            )
        else:
            sale.pickup_hours = hours.get(sale.distribution_id)
    return sales


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


@dataclass(frozen=True)
class ProductSold:
    name: str
    producer_name: str
    is_variable_weight: bool
    piece_kg: Decimal | None
    quantity: int
    amount: Decimal

    def pieces_text(self, quantity: int | None = None) -> str:
        return weighing.pieces_text(pieces=self.quantity, piece_kg=self.piece_kg, amount=self.amount)


def sale_totals_per_product(*, sale: Sale) -> list[ProductSold]:
    rows = (
        OrderLine.objects.filter(order__sale=sale, order__status=Order.Status.PLACED)
        .values(
            "offer_id", "name", "offer__producer__name", "is_variable_weight", "offer__estimated_weight_kg"
        )
        .annotate(quantity=Sum("quantity"), amount=Sum("amount"))
        .order_by("offer__producer__name", "name")
    )
    return [
        ProductSold(
            name=row["name"],
            producer_name=row["offer__producer__name"],
            is_variable_weight=row["is_variable_weight"],
            piece_kg=row["offer__estimated_weight_kg"],
            quantity=row["quantity"],
            amount=row["amount"],
        )
        for row in rows
    ]


def sale_totals_per_producer(*, sale: Sale) -> QuerySet:
    return (
        OrderLine.objects.filter(order__sale=sale, order__status=Order.Status.PLACED)
        .values("offer__producer_id", "offer__producer__name")
        .annotate(amount=Sum("amount"), lines=Count("pk"))
        .order_by("offer__producer__name")
    )
