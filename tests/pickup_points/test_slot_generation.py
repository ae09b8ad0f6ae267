"""Slots come from the point's rules: its hours on the distribution's weekday, cut by the slot length,
with the default capacity; none on a closure date. Times are Europe/Paris wall-clock times, clock changes
included."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from pickup_points import services
from pickup_points.models import PickupSlot, Weekday
from tests.conftest import text
from tests.pickup_points.factories import FRIDAY, book, enter, household, next_weekday, slot_at

SUNDAY = Weekday.SUNDAY


def _times(distribution, point) -> list[tuple[str, str, int]]:
    return [
        (
            f"{timezone.localtime(slot.starts_at):%H:%M}",
            f"{timezone.localtime(slot.ends_at):%H:%M}",
            slot.capacity,
        )
        for slot in PickupSlot.objects.filter(distribution=distribution, point=point).order_by("starts_at")
    ]


def _last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def _next_clock_change(month: int) -> date:
    """The next last Sunday of March (summer time) or October (winter time) after today."""
    today = timezone.localdate()
    for year in (today.year, today.year + 1):
        if (day := _last_sunday(year, month)) > today:
            return day
    raise AssertionError("unreachable")


def test_slots_follow_hours_length_and_capacity(points):
    assert _times(points.distribution, points.a) == [
        ("17:00", "17:15", 6),
        ("17:15", "17:30", 6),
        ("17:30", "17:45", 6),
        ("17:45", "18:00", 6),
        ("18:00", "18:15", 6),
        ("18:15", "18:30", 6),
        ("18:30", "18:45", 6),
        ("18:45", "19:00", 6),
    ]
    assert _times(points.distribution, points.b) == [
        ("10:00", "10:30", 4),
        ("10:30", "11:00", 4),
        ("11:00", "11:30", 4),
        ("11:30", "12:00", 4),
    ]


def test_several_ranges_a_day_and_a_shorter_last_slot(points):
    enter(points.alpha)
    services.point_update(
        point=points.a,
        slot_minutes=45,
        hours=[
            (FRIDAY, time(17, 0), time(19, 0)),
            (FRIDAY, time(9, 0), time(10, 0)),
            (Weekday.MONDAY, time(8, 0), time(9, 0)),
        ],
    )
    assert _times(points.distribution, points.a) == [
        ("09:00", "09:45", 6),
        ("09:45", "10:00", 6),
        ("17:00", "17:45", 6),
        ("17:45", "18:30", 6),
        ("18:30", "19:00", 6),
    ]


def test_no_hours_that_weekday_means_no_slots(points, browse):
    enter(points.alpha)
    saturday = services.distribution_create(date=next_weekday(Weekday.SATURDAY), points=[points.a])
    assert _times(saturday, points.a) == []
    page = text(browse(points.alpha, points.alpha.coordinator).get(f"/distributions/{saturday.pk}/"))
    assert "Aucun créneau : ce point n'a pas d'horaires ce jour de la semaine." in page
    # Adding Saturday hours gives the upcoming distribution its slots.
    services.point_update(
        point=points.a,
        hours=[(FRIDAY, time(17, 0), time(19, 0)), (Weekday.SATURDAY, time(10, 0), time(10, 30))],
    )
    assert _times(saturday, points.a) == [("10:00", "10:15", 6), ("10:15", "10:30", 6)]


def test_no_slots_on_a_closure_date(points, browse):
    enter(points.alpha)
    friday = next_weekday(FRIDAY, points.distribution.date)
    services.closure_create(
        point=points.a, starts_on=friday - timedelta(days=2), ends_on=friday, reason="Élections"
    )
    distribution = services.distribution_create(date=friday, points=[points.a, points.b])
    assert _times(distribution, points.a) == []
    assert len(_times(distribution, points.b)) == 4
    page = text(browse(points.alpha, points.alpha.member).get(f"/retrait/{distribution.pk}/"))
    assert "Fermé ce jour-là : Élections." in page


def test_a_closure_over_an_unbooked_distribution_removes_its_slots_and_reopening_restores_them(
    points, browse
):
    client = browse(points.alpha, points.alpha.staff)
    day = points.distribution.date.isoformat()
    response = client.post(
        f"/points/{points.a.pk}/fermetures/",
        {"starts_on": day, "ends_on": day, "reason": "Salle réquisitionnée"},
    )
    assert response.status_code == 302
    enter(points.alpha)
    assert _times(points.distribution, points.a) == []
    page = text(client.get(response["Location"]))
    assert "Fermeture enregistrée." in page and "Salle réquisitionnée" in page

    closure = points.a.closures.get()
    client.post(f"/points/{points.a.pk}/fermetures/{closure.pk}/supprimer/")
    enter(points.alpha)
    assert len(_times(points.distribution, points.a)) == 8


def test_a_closure_over_a_booked_distribution_is_refused(points, browse):
    enter(points.alpha)
    book(points.slot(points.a, 17, 15), [household(points.alpha, 1), household(points.alpha, 2)])
    client = browse(points.alpha, points.alpha.staff)
    day = points.distribution.date
    response = client.post(
        f"/points/{points.a.pk}/fermetures/",
        {"starts_on": (day - timedelta(days=1)).isoformat(), "ends_on": day.isoformat(), "reason": "Travaux"},
    )
    assert response.status_code == 400
    day_label = services.day_label(day)
    assert (
        f"La distribution du {day_label} a déjà 2 réservations à ce point : "
        "impossible de le fermer ce jour-là. Annulez ou déplacez d'abord ces réservations."
    ) in text(response)
    enter(points.alpha)
    assert not points.a.closures.exists()
    assert len(_times(points.distribution, points.a)) == 8


def test_closure_ending_before_it_starts_is_refused(points, browse):
    response = browse(points.alpha, points.alpha.staff).post(
        f"/points/{points.a.pk}/fermetures/",
        {"starts_on": "2030-05-10", "ends_on": "2030-05-09", "reason": "x"},
    )
    assert response.status_code == 400
    assert "La date de fin doit être la date de début ou une date ultérieure." in text(response)
    enter(points.alpha)
    assert not points.a.closures.exists()
    with pytest.raises(ValidationError):
        services.closure_create(
            point=points.a, starts_on=date(2030, 5, 10), ends_on=date(2030, 5, 9), reason="x"
        )


def test_summer_time_sunday_keeps_wall_clock_times(points, browse):
    """On the day clocks go forward, slots still start at 10:00 Paris time (08:00 UTC, not 09:00)."""
    enter(points.alpha)
    change = _next_clock_change(3)
    services.point_update(
        point=points.a,
        slot_minutes=30,
        hours=[(SUNDAY, time(10, 0), time(11, 0)), (SUNDAY, time(1, 30), time(3, 30))],
    )
    before = services.distribution_create(date=change - timedelta(days=7), points=[points.a])
    on_change = services.distribution_create(date=change, points=[points.a])

    ten_before, ten_on_change = slot_at(before, points.a, 10), slot_at(on_change, points.a, 10)
    assert ten_before.starts_at == datetime.combine(before.date, time(9, 0), tzinfo=UTC)  # 10:00 +01:00
    assert ten_on_change.starts_at == datetime.combine(change, time(8, 0), tzinfo=UTC)  # 10:00 +02:00
    assert _times(on_change, points.a)[-2:] == [("10:00", "10:30", 6), ("10:30", "11:00", 6)]
    # 02:00–03:00 does not exist that night: no slot in the gap, none twice, each 30 real minutes long.
    assert _times(on_change, points.a)[:2] == [("01:30", "03:00", 6), ("03:00", "03:30", 6)]
    slots = list(PickupSlot.objects.filter(distribution=on_change, point=points.a).order_by("starts_at"))
    assert all(slot.ends_at - slot.starts_at == timedelta(minutes=30) for slot in slots)
    assert all(earlier.ends_at <= later.starts_at for earlier, later in zip(slots, slots[1:], strict=False))

    member = browse(points.alpha, points.alpha.member)
    page = text(member.get(f"/retrait/{on_change.pk}/"))
    assert "10:00 – 10:30" in page and "10:30 – 11:00" in page


def test_winter_time_sunday_keeps_wall_clock_times(points):
    enter(points.alpha)
    change = _next_clock_change(10)
    services.point_update(point=points.a, slot_minutes=60, hours=[(SUNDAY, time(9, 0), time(11, 0))])
    distribution = services.distribution_create(date=change, points=[points.a])
    assert _times(distribution, points.a) == [("09:00", "10:00", 6), ("10:00", "11:00", 6)]
    first = PickupSlot.objects.filter(distribution=distribution, point=points.a).order_by("starts_at").first()
    assert first.starts_at == datetime.combine(change, time(8, 0), tzinfo=UTC)  # 09:00 +01:00


def test_changing_hours_keeps_the_slots_of_a_distribution_with_bookings(points, browse):
    enter(points.alpha)
    book(points.slot(points.a, 17, 15), [household(points.alpha, 1)])
    client = browse(points.alpha, points.alpha.staff)
    rules = {"slot_minutes": "30", "slot_capacity": "6"}
    assert client.post(f"/points/{points.a.pk}/creneaux/", rules).status_code == 302
    response = client.post(
        f"/points/{points.a.pk}/horaires/",
        {
            "hours-TOTAL_FORMS": "1",
            "hours-INITIAL_FORMS": "1",
            "hours-0-weekday": str(FRIDAY),
            "hours-0-starts_at": "16:00",
            "hours-0-ends_at": "17:00",
        },
        follow=True,
    )
    page = text(response)
    assert "Les horaires sont enregistrés." in page
    assert (
        f"La distribution du {services.day_label(points.distribution.date)} a déjà des réservations ici : "
        "ses créneaux restent comme ils étaient."
    ) in page
    enter(points.alpha)
    assert len(_times(points.distribution, points.a)) == 8
    # A new distribution follows the new rules.
    later = services.distribution_create(
        date=next_weekday(FRIDAY, points.distribution.date), points=[points.a]
    )
    assert _times(later, points.a) == [("16:00", "16:30", 6), ("16:30", "17:00", 6)]
