"""The only place that takes row locks in this app, always in this order:

    pickup points (ascending pk) → slots (ascending pk) → distribution → bookings

Configuration changes (hours, closures, extra slots, regeneration) lock the point first, then the slots they
touch. Booking takes the slot through its conditional UPDATE (services.slot_reserve), then the distribution
to number the basket; releasing takes the slot, then the booking. The ordering code locks its sale and
offers before calling slot_reserve, so it must never hold a distribution or booking lock when it does.
"""

from __future__ import annotations

from collections.abc import Iterable

from pickup_points.models import Distribution, PickupPoint, PickupSlot, SlotBooking


def points_lock(point_ids: Iterable[int]) -> list[PickupPoint]:
    return list(PickupPoint.objects.select_for_update().filter(pk__in=list(point_ids)).order_by("pk"))


def point_lock(point_id: int) -> PickupPoint:
    return PickupPoint.objects.select_for_update().get(pk=point_id)


def slots_lock(*, point_id: int, distribution_ids: Iterable[int]) -> list[PickupSlot]:
    return list(
        PickupSlot.objects.select_for_update()
        .filter(point_id=point_id, distribution_id__in=list(distribution_ids))
        .order_by("pk")
    )


def slot_lock(slot_id: int) -> PickupSlot:
    return PickupSlot.objects.select_for_update().get(pk=slot_id)


def distribution_lock(distribution_id: int) -> Distribution:
    # `of=("self",)` keeps the lock on the distribution row only, whatever the caller joins later.
    return Distribution.objects.select_for_update(of=("self",)).get(pk=distribution_id)


def booking_lock(booking_id: int) -> SlotBooking | None:
    return SlotBooking.objects.select_for_update().filter(pk=booking_id).first()
