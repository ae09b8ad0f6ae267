"""Reads for the distribution-day page (moved from pickup_points: it shows orders and their money)."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, OuterRef, Prefetch

from orders.models import OrderLine, Payment
from orders.payments.balance import order_balance
from pickup_points.models import Distribution, PickupPoint, PickupSlot, SlotBooking


def day_baskets(
    *, distribution: Distribution, point: PickupPoint, producer_ids: list[int] | None = None
) -> list[PickupSlot]:
    """The distribution-day page: each slot of the point with its bookings (`day_bookings`), each booking
    with its household and its order (or None), the order with its lines, payments and refunds, and its
    balance (`balance`) and shown lines (`day_lines`) as `day_order`, in a fixed number of queries.

    With `producer_ids` (a producer weighing): only the baskets holding their products, and only those
    lines of each basket; the other producers' products are none of their business.
    """
    bookings = SlotBooking.objects.select_related("user", "order").order_by("basket_number")
    lines = OrderLine.objects.select_related("offer")
    if producer_ids is not None:
        bookings = bookings.filter(
            Exists(
                OrderLine.objects.filter(order__booking=OuterRef("pk"), offer__producer_id__in=producer_ids)
            )
        )
    slots = list(
        PickupSlot.objects.filter(distribution=distribution, point=point)
        .prefetch_related(
            Prefetch("bookings", queryset=bookings, to_attr="day_bookings"),
            Prefetch("day_bookings__order__lines", queryset=lines),
            "day_bookings__order__ledger_entries",
            Prefetch(
                "day_bookings__order__payments",
                queryset=Payment.objects.prefetch_related("refunds"),
            ),
        )
        .order_by("starts_at", "pk")
    )
    for slot in slots:
        for booking in slot.day_bookings:
            order = booking.day_order = _order_of(booking)
            if order is None:
                continue
            order.balance = order_balance(order)
            order.day_lines = [
                line
                for line in order.lines.all()
                if producer_ids is None or line.offer.producer_id in producer_ids
            ]
    return slots


def _order_of(booking: SlotBooking):
    """The booking's order, or None for a booking made without one (the reverse one-to-one raises)."""
    try:
        return booking.order
    except ObjectDoesNotExist:
        return None


def booking_for_query(*, query) -> SlotBooking | None:
    """The booking a typed number or a scanned code points at, anywhere in the collective (a number needs
    the day page's distribution and point: see `booking_at`)."""
    return (
        SlotBooking.objects.select_related("slot__point", "distribution", "user")
        .filter(pk=query.booking_id)
        .first()
    )


def booking_at(*, distribution: Distribution, point: PickupPoint, basket_number: int) -> SlotBooking | None:
    return (
        SlotBooking.objects.select_related("slot__point", "distribution", "user")
        .filter(distribution=distribution, basket_number=basket_number)
        .first()
    )
