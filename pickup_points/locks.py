"""The only place that takes row locks in this app, always in this order:

    pickup points (ascending pk) → slots (ascending pk) → distribution → bookings → basket counter

Configuration changes (hours, closures, extra slots, regeneration) lock the point first, then the slots they
touch. Booking takes the slot through its conditional UPDATE (services.slot_take), then, as the last
statement of its transaction, the distribution's basket counter (basket_book: one upsert that numbers and
inserts the booking), so bookings of one distribution wait on one another only for that statement and the
commit; releasing takes the slot, then the booking. The ordering code locks its sale and offers before
taking a slot, and numbers the basket at its very end.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.utils import timezone

from pickup_points.models import BasketCounter, Distribution, PickupPoint, PickupSlot, SlotBooking


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


# The counter's upsert and the booking's insert; a statement that books ends with what it returns from
# `booked` (basket_book's default: the booking's id and number).
BASKET_BOOKED = f"""
    WITH counter AS (
        INSERT INTO {BasketCounter._meta.db_table} AS c (distribution_id, last) VALUES (%(distribution)s, 1)
        ON CONFLICT (distribution_id) DO UPDATE SET last = c.last + 1
        RETURNING c.last
    ), booked AS (
        INSERT INTO {SlotBooking._meta.db_table}
            (slot_id, distribution_id, user_id, basket_number, status, checked_in_at, created_at)
        SELECT %(slot)s, %(distribution)s, %(user)s, counter.last, %(status)s, NULL, %(now)s FROM counter
        RETURNING id, basket_number
    )
"""  # noqa: S608 - the models' tables
_BASKET_BOOK = BASKET_BOOKED + "SELECT id, basket_number FROM booked"  # noqa: S608 - the same


def basket_book(*, slot: PickupSlot, user_id: int, statement: str = _BASKET_BOOK, **params) -> SlotBooking:
    """The household's booking in `slot` (its place already taken), with the distribution's next basket
    number, in one statement: the counter's row stays locked until the caller commits, so call it last.
    Numbers follow one another per distribution and are never given twice (a rolled-back booking gives
    its number back); a second booking of the household for the distribution raises IntegrityError.
    `statement` may be BASKET_BOOKED followed by the caller's own last write, using `booked` and `params`,
    and returning the booking's id and number (orders.locks.order_basket_book)."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            statement,
            {
                **params,
                "distribution": slot.distribution_id,
                "slot": slot.pk,
                "user": user_id,
                "status": SlotBooking.Status.BOOKED,
                "now": now,
            },
        )
        booking_id, number = cursor.fetchone()
    booking = SlotBooking(
        pk=booking_id,
        slot=slot,
        distribution_id=slot.distribution_id,
        user_id=user_id,
        basket_number=number,
        status=SlotBooking.Status.BOOKED,
        created_at=now,
    )
    booking._state.adding = False
    return booking
