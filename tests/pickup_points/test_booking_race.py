"""Many households racing for the last places of a slot, on the real PostgreSQL with real threads: never
more bookings than places, and the slot's counter always equals its booking rows."""

import threading
from datetime import time

import pytest
from django.db import connection

from pickup_points import services
from pickup_points.models import PickupSlot, SlotBooking
from tests.pickup_points.factories import FRIDAY, enter, household, next_weekday

RACERS = 20


def _race(alpha, slot_id: int, people) -> list[str]:
    barrier = threading.Barrier(len(people))
    outcomes: list[str] = []

    def reserve(user) -> None:
        try:
            enter(alpha)
            barrier.wait()
            services.slot_reserve(slot_id=slot_id, user=user)
            outcomes.append("booked")
        except services.SlotFull:
            outcomes.append("full")
        finally:
            connection.close()

    threads = [threading.Thread(target=reserve, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_twenty_households_race_for_the_last_three_places(alpha):
    enter(alpha)
    point = services.point_create(
        name="Mairie", address="1 place", town="Agen", slot_minutes=30, slot_capacity=5
    )
    services.point_update(point=point, hours=[(FRIDAY, time(17, 0), time(17, 30))])
    distribution = services.distribution_create(date=next_weekday(FRIDAY), points=[point])
    slot = PickupSlot.objects.get(distribution=distribution, point=point)
    early = [household(alpha, number) for number in range(2)]
    for person in early:
        services.slot_reserve(slot_id=slot.pk, user=person)
    racers = [household(alpha, number) for number in range(100, 100 + RACERS)]

    outcomes = _race(alpha, slot.pk, racers)

    enter(alpha)
    assert sorted(outcomes) == ["booked"] * 3 + ["full"] * (RACERS - 3)
    slot.refresh_from_db()
    bookings = SlotBooking.objects.filter(slot=slot)
    assert slot.reserved == bookings.count() == slot.capacity == 5
    assert sorted(bookings.values_list("basket_number", flat=True)) == [1, 2, 3, 4, 5]
    assert len(set(bookings.values_list("user_id", flat=True))) == 5


@pytest.mark.django_db(transaction=True)
def test_bookings_and_cancellations_at_once_keep_the_counter_right(alpha):
    """Half the households cancel while the other half book: the counter still matches the rows."""
    enter(alpha)
    point = services.point_create(
        name="Mairie", address="1 place", town="Agen", slot_minutes=30, slot_capacity=6
    )
    services.point_update(point=point, hours=[(FRIDAY, time(17, 0), time(17, 30))])
    distribution = services.distribution_create(date=next_weekday(FRIDAY), points=[point])
    slot = PickupSlot.objects.get(distribution=distribution, point=point)
    leaving = [services.slot_reserve(slot_id=slot.pk, user=household(alpha, number)) for number in range(6)]
    coming = [household(alpha, number) for number in range(200, 212)]
    barrier = threading.Barrier(len(leaving) + len(coming))
    booked: list[int] = []

    def cancel(booking) -> None:
        try:
            enter(alpha)
            barrier.wait()
            services.slot_release(booking=booking)
        finally:
            connection.close()

    def reserve(user) -> None:
        try:
            enter(alpha)
            barrier.wait()
            services.slot_reserve(slot_id=slot.pk, user=user)
            booked.append(user.pk)
        except services.SlotFull:
            pass
        finally:
            connection.close()

    threads = [threading.Thread(target=cancel, args=(booking,)) for booking in leaving]
    threads += [threading.Thread(target=reserve, args=(user,)) for user in coming]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    enter(alpha)
    slot.refresh_from_db()
    rows = SlotBooking.objects.filter(slot=slot)
    assert slot.reserved == rows.count() == len(booked)
    assert len(booked) <= 6
    assert sorted(rows.values_list("user_id", flat=True)) == sorted(booked)
    assert rows.values("basket_number").distinct().count() == len(booked)
