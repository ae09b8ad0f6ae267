"""What the pickup-point pages share with the distribution-day page (orders/day, which sits above this app):
who may open it, a point's distribution, and the day page's address for a basket."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse

from marketplace.models import Role
from pickup_points.models import Distribution, PickupPoint, SlotBooking

STAFF_ROLES = (Role.POINT_STAFF, Role.COORDINATOR)
# Producers open the distribution-day page too, only to weigh their own products.
DAY_ROLES = (*STAFF_ROLES, Role.PRODUCER)


def distribution_at(point: PickupPoint, distribution_id: int) -> Distribution:
    """A distribution of that point, or 404."""
    return get_object_or_404(
        Distribution.objects.filter(points=point).select_related("sale"), pk=distribution_id
    )


def day_url(booking: SlotBooking) -> str:
    """The distribution-day page (URL name point_day, served by orders/day), at the booking's basket."""
    url = reverse(
        "point_day", kwargs={"point_id": booking.slot.point_id, "distribution_id": booking.distribution_id}
    )
    return f"{url}#panier-{booking.basket_number}"
