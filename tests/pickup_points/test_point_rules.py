"""Staff change their point's rules and slots; bad input gets a clear French message and saves nothing;
lowering a capacity never drops bookings."""

import re
from datetime import time

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from pickup_points import services
from pickup_points.models import OpeningHours, PickupPoint, PickupSlot, SlotBooking
from tests.conftest import text, words
from tests.pickup_points.factories import FRIDAY, book, enter, household


def _place(point: PickupPoint, **changes) -> dict:
    data = {
        "name": point.name,
        "address": point.address,
        "postcode": point.postcode,
        "town": point.town,
        "map_url": point.map_url,
        "access_instructions": point.access_instructions,
        "rules": point.rules,
        "accessibility": point.accessibility,
    }
    data.update({key: str(value) for key, value in changes.items()})
    return data


def _rules(point: PickupPoint, **changes) -> dict:
    data = {"slot_minutes": str(point.slot_minutes), "slot_capacity": str(point.slot_capacity)}
    data.update({key: str(value) for key, value in changes.items()})
    return data


def _hours(**changes) -> dict:
    data = {
        "hours-TOTAL_FORMS": "1",
        "hours-INITIAL_FORMS": "1",
        "hours-0-weekday": str(FRIDAY),
        "hours-0-starts_at": "17:00",
        "hours-0-ends_at": "19:00",
    }
    data.update({key: str(value) for key, value in changes.items()})
    return data


def _form(point: PickupPoint, **changes) -> dict:
    """Everything the old single page sent at once: each page now reads only its own part of it."""
    changed = {key: str(value) for key, value in changes.items()}
    return {**_place(point), **_rules(point), **_hours(), **changed}


def _page_of(changes: dict) -> str:
    if any(key.startswith("hours-") for key in changes):
        return "horaires/"
    if set(changes) & {"slot_minutes", "slot_capacity"}:
        return "creneaux/"
    return ""


def _saved(points) -> tuple:
    enter(points.alpha)
    point = PickupPoint.objects.get(pk=points.a.pk)
    return (
        point.name,
        point.slot_minutes,
        point.slot_capacity,
        sorted(OpeningHours.objects.filter(point=point).values_list("weekday", "starts_at", "ends_at")),
        sorted(PickupSlot.objects.filter(point=point).values_list("starts_at", "capacity")),
    )


def test_staff_describe_their_point(browse, points):
    client = browse(points.alpha, points.alpha.staff)
    response = client.post(
        f"/points/{points.a.pk}/",
        _place(
            points.a,
            access_instructions="Entrée côté parking.",
            rules="Masque conseillé.",
            accessibility="Plain-pied.",
            map_url="https://www.openstreetmap.org/#map=18/44.2/0.6",
        ),
    )
    assert response.status_code == 302 and response["Location"] == f"/points/{points.a.pk}/"
    assert "Le lieu est enregistré." in text(client.get(response["Location"]))
    booking_page = text(browse(points.alpha, points.alpha.member).get(f"/retrait/{points.distribution.pk}/"))
    assert "Entrée côté parking." in booking_page and "Masque conseillé." in booking_page
    assert "Plain-pied." in booking_page
    assert 'href="https://www.openstreetmap.org/#map=18/44.2/0.6"' in booking_page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"slot_minutes": 0}, "La durée d'un créneau doit être d'au moins 1 minute."),
        ({"slot_minutes": -15}, "La durée d'un créneau doit être d'au moins 1 minute."),
        ({"slot_capacity": 0}, "Un créneau doit accueillir au moins 1 foyer."),
        ({"slot_capacity": -2}, "Un créneau doit accueillir au moins 1 foyer."),
        ({"hours-0-ends_at": "16:00"}, "L'heure de fin doit être après l'heure de début."),
        ({"hours-0-ends_at": "17:00"}, "L'heure de fin doit être après l'heure de début."),
        (
            {
                "hours-TOTAL_FORMS": 2,
                "hours-1-weekday": FRIDAY,
                "hours-1-starts_at": "18:30",
                "hours-1-ends_at": "20:00",
            },
            "Le vendredi, les horaires 17:00–19:00 et 18:30–20:00 se chevauchent.",
        ),
        ({"hours-0-ends_at": ""}, "Indiquez le jour, l'heure de début et l'heure de fin."),
        ({"postcode": "470"}, "Un code postal a 5 chiffres, par ex. 47000."),
    ],
)
def test_bad_rules_are_refused_and_nothing_is_saved(browse, points, changes, message):
    """Each settings page posts its own part; bad input there saves nothing, and the other parts (sent
    along, as a tampered form would) are left as they were."""
    before = _saved(points)
    response = browse(points.alpha, points.alpha.staff).post(
        f"/points/{points.a.pk}/{_page_of(changes)}",
        _form(points.a, **{"name": "Nouveau nom", "slot_capacity": 3, **changes}),
    )
    assert response.status_code == 400
    assert message in text(response)
    assert _saved(points) == before


@pytest.mark.parametrize(
    ("page", "data", "notice"),
    [
        ("", {"name": "Salle Jean-Moulin"}, "Le lieu est enregistré."),
        ("horaires/", {"hours-0-starts_at": "16:00"}, "Les horaires sont enregistrés."),
        ("creneaux/", {"slot_capacity": 9}, "Les créneaux et les foyers par créneau sont enregistrés."),
    ],
)
def test_each_settings_page_saves_only_its_own_part(browse, points, page, data, notice):
    """The whole old form sent to one page, with one change of each part: only that page's part moves."""
    name, minutes, capacity, hours, _slots = _saved(points)
    everything = _form(points.a, name="Salle Jean-Moulin", slot_capacity=9, **{"hours-0-starts_at": "16:00"})
    client = browse(points.alpha, points.alpha.staff)
    response = client.post(f"/points/{points.a.pk}/{page}", everything)
    assert response.status_code == 302 and response["Location"] == f"/points/{points.a.pk}/{page}"
    assert notice in text(client.get(response["Location"]))
    after_name, after_minutes, after_capacity, after_hours, _ = _saved(points)
    assert (after_name != name) == (page == "")
    assert (after_hours != hours) == (page == "horaires/")
    assert (after_capacity != capacity) == (page == "creneaux/")
    assert after_minutes == minutes


def test_bad_hours_keep_the_place_and_the_capacity(browse, points):
    client = browse(points.alpha, points.alpha.staff)
    client.post(f"/points/{points.a.pk}/", _place(points.a, name="Salle Jean-Moulin"))
    client.post(f"/points/{points.a.pk}/creneaux/", _rules(points.a, slot_capacity=9))
    response = client.post(f"/points/{points.a.pk}/horaires/", _hours(**{"hours-0-ends_at": "16:00"}))
    assert response.status_code == 400
    assert "L'heure de fin doit être après l'heure de début." in text(response)
    assert 'value="16:00"' in text(response)  # what was typed stays for correction
    name, _minutes, capacity, hours, _slots = _saved(points)
    assert (name, capacity) == ("Salle Jean-Moulin", 9)
    assert hours == [(FRIDAY, time(17, 0), time(19, 0))]


def test_the_settings_pages_have_one_sub_navigation_and_one_button_each(browse, points):
    client = browse(points.alpha, points.alpha.staff)
    buttons = {
        "": "Enregistrer le lieu",
        "horaires/": "Enregistrer les horaires",
        "creneaux/": "Enregistrer les créneaux",
        "fermetures/": "Ajouter la fermeture",
    }
    for page, button in buttons.items():
        html = text(client.get(f"/points/{points.a.pk}/{page}"))
        assert 'aria-label="Réglages du point de retrait"' in html
        for link in buttons:
            assert f'href="/points/{points.a.pk}/{link}"' in html
        assert button in html
        assert html.count(f'<form method="post" action="/points/{points.a.pk}/') == 1  # one form per page
    assert "Foyers par créneau" in text(client.get(f"/points/{points.a.pk}/creneaux/"))
    assert "Foyers par créneau" not in text(client.get(f"/points/{points.a.pk}/"))


def test_adding_an_hours_row_without_javascript_saves_nothing_and_keeps_what_was_typed(browse, points):
    before = _saved(points)
    client = browse(points.alpha, points.alpha.staff)
    data = _hours(
        **{
            "hours-TOTAL_FORMS": 2,
            "hours-1-weekday": FRIDAY,
            "hours-1-starts_at": "08:00",
            "hours-1-ends_at": "",
            "add_row": "1",
        }
    )
    response = client.post(f"/points/{points.a.pk}/horaires/", data)
    assert response.status_code == 200
    page = text(response)
    assert 'name="hours-TOTAL_FORMS" value="3"' in page
    assert 'value="08:00"' in page and 'value="17:00"' in page
    assert 'name="hours-2-weekday"' in page
    assert "Indiquez le jour" not in page  # the half-typed row is not judged yet
    assert "Enregistrez : deux lignes vides" not in page
    assert _saved(points) == before


def test_adding_an_hours_row_without_javascript_keeps_the_remove_ticks(browse, points):
    client = browse(points.alpha, points.alpha.staff)
    data = _hours(**{"hours-0-DELETE": "on", "add_row": "1"})
    page = text(client.post(f"/points/{points.a.pk}/horaires/", data))
    assert re.search(r'<input[^>]*name="hours-0-DELETE"[^>]*checked', page)
    # Saving then removes the ticked row, as the person asked before adding one.
    data = _hours(**{"hours-0-DELETE": "on"})
    assert client.post(f"/points/{points.a.pk}/horaires/", data).status_code == 302
    assert not points.a.opening_hours.exists()


def test_the_service_refuses_overlapping_hours_too(points):
    enter(points.alpha)
    before = _saved(points)
    with pytest.raises(ValidationError) as refused:
        services.point_update(
            point=points.a,
            slot_capacity=2,
            hours=[(FRIDAY, time(17, 0), time(19, 0)), (FRIDAY, time(9, 0), time(17, 30))],
        )
    assert refused.value.messages == ["Le vendredi, les horaires 09:00–17:30 et 17:00–19:00 se chevauchent."]
    assert _saved(points) == before


def test_the_database_refuses_what_the_forms_refuse(points):
    enter(points.alpha)
    for row in [
        OpeningHours(point=points.a, weekday=FRIDAY, starts_at=time(19, 0), ends_at=time(18, 0)),
        OpeningHours(point=points.a, weekday=9, starts_at=time(8, 0), ends_at=time(9, 0)),
    ]:
        with pytest.raises(IntegrityError), transaction.atomic():
            row.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        PickupPoint.objects.filter(pk=points.a.pk).update(slot_minutes=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        PickupSlot.objects.filter(point=points.a).update(reserved=-1)


def test_several_ranges_a_day_and_removing_one(browse, points):
    client = browse(points.alpha, points.alpha.staff)
    data = _hours(
        **{
            "hours-TOTAL_FORMS": 2,
            "hours-1-weekday": FRIDAY,
            "hours-1-starts_at": "08:00",
            "hours-1-ends_at": "08:30",
        },
    )
    assert client.post(f"/points/{points.a.pk}/horaires/", data).status_code == 302
    enter(points.alpha)
    assert OpeningHours.objects.filter(point=points.a).count() == 2
    assert PickupSlot.objects.filter(point=points.a, distribution=points.distribution).count() == 10
    page = text(client.get(f"/points/{points.a.pk}/horaires/"))
    assert 'value="08:00"' in page and 'value="17:00"' in page

    hours = list(OpeningHours.objects.filter(point=points.a).order_by("starts_at"))
    data = {
        "hours-TOTAL_FORMS": "2",
        "hours-INITIAL_FORMS": "2",
        "hours-0-weekday": str(FRIDAY),
        "hours-0-starts_at": "08:00",
        "hours-0-ends_at": "08:30",
        "hours-0-DELETE": "on",
        "hours-1-weekday": str(FRIDAY),
        "hours-1-starts_at": "17:00",
        "hours-1-ends_at": "19:00",
    }
    assert len(hours) == 2
    assert client.post(f"/points/{points.a.pk}/horaires/", data).status_code == 302
    enter(points.alpha)
    assert list(OpeningHours.objects.filter(point=points.a).values_list("starts_at", flat=True)) == [
        time(17, 0)
    ]


def test_lowering_the_default_capacity_keeps_bookings_and_says_so(browse, points):
    enter(points.alpha)
    slot = points.slot(points.a, 17, 15)
    services.slot_update(slot=slot, capacity=8)
    book(slot, [household(points.alpha, number) for number in range(8)])
    services.slot_update(slot=slot, capacity=6)  # back to the default, still 8 bookings
    client = browse(points.alpha, points.alpha.staff)
    response = client.post(f"/points/{points.a.pk}/creneaux/", _rules(points.a, slot_capacity=5), follow=True)
    page = text(response)
    assert "Les créneaux et les foyers par créneau sont enregistrés." in page
    assert (
        "17:15 – 17:30 : ce créneau a déjà 8 réservations pour 5 foyers par créneau : "
        "les réservations sont conservées."
    ) in page
    enter(points.alpha)
    slot.refresh_from_db()
    assert (slot.capacity, slot.reserved) == (5, 8)
    assert SlotBooking.objects.filter(slot=slot).count() == 8
    assert set(PickupSlot.objects.filter(point=points.a).values_list("capacity", flat=True)) == {5}
    # Nobody else can book it until it has room again.
    with pytest.raises(services.SlotFull):
        services.slot_reserve(slot_id=slot.pk, user=household(points.alpha, 99))


def test_a_new_default_capacity_leaves_slots_adjusted_by_hand(points):
    enter(points.alpha)
    adjusted = points.slot(points.a, 18)
    services.slot_update(slot=adjusted, capacity=10)
    services.point_update(point=points.a, slot_capacity=4)
    adjusted.refresh_from_db()
    assert adjusted.capacity == 10
    assert points.slot(points.a, 17).capacity == 4


def test_lowering_one_slot_capacity_below_its_bookings(browse, points):
    enter(points.alpha)
    slot = points.slot(points.a, 17, 30)
    services.slot_update(slot=slot, capacity=8)
    book(slot, [household(points.alpha, number) for number in range(8)])
    client = browse(points.alpha, points.alpha.staff)
    response = client.post(
        f"/points/{points.a.pk}/creneaux/{slot.pk}/", {"action": "capacity", "capacity": "6"}
    )
    assert response.status_code == 302
    page = text(client.get(response["Location"]))
    assert (
        "Ce créneau a déjà 8 réservations pour 6 foyers par créneau : les réservations sont conservées."
    ) in page
    enter(points.alpha)
    slot.refresh_from_db()
    assert (slot.capacity, slot.reserved, slot.bookings.count()) == (6, 8, 8)
    day = words(client.get(f"/points/{points.a.pk}/distributions/{points.distribution.pk}/"))
    assert "17:30 – 17:45 8 réservés / 6 foyers par créneau" in day and "Foyers attendus : 8" in day


@pytest.mark.parametrize("capacity", ["0", "-3", "beaucoup"])
def test_a_slot_capacity_must_be_a_positive_number(browse, points, capacity):
    enter(points.alpha)
    slot = points.slot(points.a, 17)
    client = browse(points.alpha, points.alpha.staff)
    response = client.post(
        f"/points/{points.a.pk}/creneaux/{slot.pk}/", {"action": "capacity", "capacity": capacity}
    )
    page = text(client.get(response["Location"]))
    assert "Créneau 17:00 – 17:15 :" in page
    assert ("Un créneau doit accueillir au moins 1 foyer." in page) or (
        "Indiquez un nombre entier de foyers." in page
    )
    enter(points.alpha)
    slot.refresh_from_db()
    assert slot.capacity == 6


def test_staff_close_and_reopen_a_slot(browse, points):
    enter(points.alpha)
    slot = points.slot(points.a, 17)
    staff = browse(points.alpha, points.alpha.staff)
    staff.post(f"/points/{points.a.pk}/creneaux/{slot.pk}/", {"action": "close"})
    member_page = text(browse(points.alpha, points.alpha.member).get(f"/retrait/{points.distribution.pk}/"))
    assert "17:00 – 17:15" not in member_page and "17:15 – 17:30" in member_page
    enter(points.alpha)
    with pytest.raises(services.SlotFull, match="vient d'être fermé"):
        services.slot_reserve(slot_id=slot.pk, user=points.alpha.member)
    staff.post(f"/points/{points.a.pk}/creneaux/{slot.pk}/", {"action": "open"})
    member_page = text(browse(points.alpha, points.alpha.member).get(f"/retrait/{points.distribution.pk}/"))
    assert "17:00 – 17:15" in member_page


def test_staff_open_an_extra_slot(browse, points):
    client = browse(points.alpha, points.alpha.staff)
    url = f"/points/{points.a.pk}/distributions/{points.distribution.pk}/creneaux/"
    response = client.post(url, {"starts_at": "19:00", "ends_at": "19:30", "capacity": "3"})
    assert response.status_code == 302
    assert "Créneau 19:00 – 19:30 ajouté." in text(client.get(url))
    member_page = text(browse(points.alpha, points.alpha.member).get(f"/retrait/{points.distribution.pk}/"))
    assert "19:00 – 19:30" in member_page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"starts_at": "18:50", "ends_at": "19:30", "capacity": "3"},
            "Ce créneau chevauche le créneau 18:45 – 19:00.",
        ),
        (
            {"starts_at": "16:00", "ends_at": "20:00", "capacity": "3"},
            "Ce créneau chevauche le créneau 17:00 – 17:15.",
        ),
        (
            {"starts_at": "20:00", "ends_at": "19:30", "capacity": "3"},
            "L'heure de fin doit être après l'heure de début.",
        ),
        (
            {"starts_at": "20:00", "ends_at": "20:30", "capacity": "0"},
            "Un créneau doit accueillir au moins 1 foyer.",
        ),
    ],
)
def test_bad_extra_slots_are_refused(browse, points, data, message):
    enter(points.alpha)
    before = PickupSlot.objects.filter(point=points.a).count()
    url = f"/points/{points.a.pk}/distributions/{points.distribution.pk}/creneaux/"
    response = browse(points.alpha, points.alpha.staff).post(url, data)
    assert response.status_code == 400
    assert message in text(response)
    enter(points.alpha)
    assert PickupSlot.objects.filter(point=points.a).count() == before


def test_an_extra_slot_also_may_not_overlap_a_closed_one(points):
    enter(points.alpha)
    services.slot_update(slot=points.slot(points.a, 17), is_open=False)
    with pytest.raises(ValidationError, match="chevauche le créneau 17:00 – 17:15"):
        services.slot_add(
            distribution=points.distribution,
            point=points.a,
            starts_at=time(17, 5),
            ends_at=time(17, 10),
            capacity=2,
        )
