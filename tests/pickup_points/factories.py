"""Helpers to build pickup-point data in a test collective and read pages as a person would.

Tenant models live in the collective's schema: `enter(cast)` switches the connection to it
(tests/conftest.py puts it back on public after each test).
"""

from __future__ import annotations

from datetime import date, time, timedelta

from django.db import connection
from django.utils import timezone

from marketplace.models import Membership, Role, User
from pickup_points import services
from pickup_points.models import (
    Closure,
    Distribution,
    PickupPoint,
    PickupSlot,
    PointStaff,
    SlotBooking,
    Weekday,
)
from tests.conftest import PASSWORD, Cast

FRIDAY = Weekday.FRIDAY


def next_weekday(weekday: int, after: date | None = None) -> date:
    """The first `weekday` strictly after `after` (today by default)."""
    after = after or timezone.localdate()
    return after + timedelta(days=(weekday - after.weekday() - 1) % 7 + 1)


def enter(cast: Cast) -> None:
    connection.set_tenant(cast.collective)


def household(cast: Cast, number: int, *, roles=(Role.MEMBER,)) -> User:
    """A member of the collective with a name and a phone, as the staff's list shows them."""
    user = User.objects.create_user(
        email=f"foyer{number}@{cast.collective.slug}.test",
        password=PASSWORD,
        first_name="Foyer",
        last_name=f"Numéro-{number}",
        phone=f"06 00 00 {number // 100:02d} {number % 100:02d}",
    )
    Membership.objects.create(user=user, collective=cast.collective, roles=list(roles))
    return user


def slot_at(distribution: Distribution, point: PickupPoint, hour: int, minute: int = 0) -> PickupSlot:
    return next(
        slot
        for slot in PickupSlot.objects.filter(distribution=distribution, point=point)
        if timezone.localtime(slot.starts_at).time() == time(hour, minute)
    )


def book(slot: PickupSlot, users) -> list[SlotBooking]:
    return [services.slot_reserve(slot_id=slot.pk, user=user) for user in users]


def pickup_objects(cast: Cast, *, name: str, household: User) -> dict[str, int]:
    """One of each pickup object in `cast`'s collective, as URL parameters (for the isolation tests)."""
    enter(cast)
    point = services.point_create(name=name, address="1 rue", town="Ville", slot_minutes=30, slot_capacity=2)
    services.point_update(point=point, hours=[(FRIDAY, time(9, 0), time(10, 0))])
    point.staff.add(cast.staff)
    closure = services.closure_create(
        point=point, starts_on=date(2030, 1, 1), ends_on=date(2030, 1, 1), reason="Fermeture secrète"
    )
    distribution = services.distribution_create(date=next_weekday(FRIDAY), points=[point])
    slot = PickupSlot.objects.filter(distribution=distribution, point=point).order_by("starts_at").first()
    booking = services.slot_reserve(slot_id=slot.pk, user=household)
    connection.set_schema_to_public()
    return {
        "point_id": point.pk,
        "closure_id": closure.pk,
        "user_id": cast.staff.pk,
        "distribution_id": distribution.pk,
        "slot_id": slot.pk,
        "booking_id": booking.pk,
    }


def pickup_state(cast: Cast) -> tuple:
    """Everything a request could change in `cast`'s pickup data."""
    enter(cast)
    state = (
        sorted(PickupPoint.objects.values_list("pk", "name", "slot_minutes", "slot_capacity", "is_active")),
        sorted(PointStaff.objects.values_list("point_id", "user_id")),
        sorted(PickupSlot.objects.values_list("pk", "capacity", "reserved", "is_open")),
        sorted(SlotBooking.objects.values_list("pk", "user_id", "status")),
        sorted(Distribution.objects.values_list("pk", "date")),
        sorted(Closure.objects.values_list("pk", "reason")),
    )
    connection.set_schema_to_public()
    return state
