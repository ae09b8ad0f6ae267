"""Members choose a slot for a distribution: remaining places shown, full slots not selectable, a clear
message when someone else took the last place, cancelling frees the place. Staff check households in."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import formats, timezone

from pickup_points import services
from pickup_points.models import PickupSlot, SlotBooking
from tests.conftest import text, words
from tests.pickup_points.factories import FRIDAY, book, enter, household, next_weekday


def _radio(page: str, slot: PickupSlot) -> str:
    match = re.search(rf'<input type="radio" name="slot" value="{slot.pk}"[^>]*>', page)
    assert match, f"no choice for slot {slot.pk}"
    return match.group(0)


def test_member_sees_points_slots_and_remaining_places(browse, points):
    enter(points.alpha)
    book(points.slot(points.a, 17), [household(points.alpha, 1), household(points.alpha, 2)])
    response = browse(points.alpha, points.alpha.member).get(f"/retrait/{points.distribution.pk}/")
    assert response.status_code == 200
    page = words(response)
    assert "Salle des fêtes de la mairie" in page and "Centre social du Pin" in page
    assert "1 place de la Mairie, 47000 Agen" in page
    assert "Une personne par foyer, apportez vos sacs." in page
    assert "17:00 – 17:15 4 places" in page
    assert "17:15 – 17:30 6 places" in page
    assert "10:00 – 10:30 4 places" in page
    assert "Complet" not in page


def test_a_full_slot_is_shown_full_and_cannot_be_chosen(browse, points):
    enter(points.alpha)
    full = points.slot(points.b, 10)
    book(full, [household(points.alpha, number) for number in range(4)])
    response = browse(points.alpha, points.alpha.member).get(f"/retrait/{points.distribution.pk}/")
    page = text(response)
    assert "disabled" in _radio(page, full)
    assert "disabled" not in _radio(page, points.slot(points.b, 10, 30))
    assert "10:00 – 10:30 Complet" in words(response)


def test_member_books_a_slot_and_gets_a_basket_number(browse, points):
    client = browse(points.alpha, points.alpha.member)
    enter(points.alpha)
    slot = points.slot(points.a, 17, 30)
    response = client.post(f"/retrait/{points.distribution.pk}/", {"slot": slot.pk})
    assert response.status_code == 302
    page = words(client.get(response["Location"]))
    day = services.day_label(points.distribution.date)
    assert (
        f"C'est réservé : Salle des fêtes de la mairie, {day}, 17:30 – 17:45. Votre numéro de panier : 1."
        in page
    )
    when = formats.date_format(points.distribution.date, "l j F")  # the slot's day: « vendredi 18 décembre »
    assert f"Votre créneau {when}, 17:30 – 17:45 Salle des fêtes de la mairie Votre numéro de panier : 1" in (
        page
    )
    assert "Annuler ma réservation" in page
    enter(points.alpha)
    slot.refresh_from_db()
    assert slot.reserved == 1
    booking = SlotBooking.objects.get(user=points.alpha.member)
    assert (booking.slot, booking.basket_number, booking.status) == (slot, 1, SlotBooking.Status.BOOKED)
    overview = words(client.get("/retrait/"))
    assert f"réservé {when}, 17:30 – 17:45, Salle des fêtes de la mairie Panier n° 1" in overview


def test_basket_numbers_follow_the_order_of_booking_across_points(points):
    enter(points.alpha)
    first = services.slot_reserve(slot_id=points.slot(points.b, 11).pk, user=household(points.alpha, 1))
    second = services.slot_reserve(slot_id=points.slot(points.a, 17).pk, user=household(points.alpha, 2))
    third = services.slot_reserve(slot_id=points.slot(points.b, 10).pk, user=household(points.alpha, 3))
    assert [first.basket_number, second.basket_number, third.basket_number] == [1, 2, 3]


def test_losing_the_race_for_the_last_place_gives_a_message_and_the_remaining_choices(browse, points):
    enter(points.alpha)
    slot = points.slot(points.b, 10)
    book(slot, [household(points.alpha, number) for number in range(3)])
    rival = household(points.alpha, 50)
    member = browse(points.alpha, points.alpha.member)
    # Both open the page while one place is left; the rival books first.
    assert "disabled" not in _radio(text(member.get(f"/retrait/{points.distribution.pk}/")), slot)
    assert (
        browse(points.alpha, rival).post(f"/retrait/{points.distribution.pk}/", {"slot": slot.pk}).status_code
        == 302
    )

    response = member.post(f"/retrait/{points.distribution.pk}/", {"slot": slot.pk})
    assert response.status_code == 409
    page = words(response)
    assert (
        "Désolé, le créneau 10:00 – 10:30 est complet : quelqu'un vient de prendre la dernière place. "
        "Choisissez un autre créneau."
    ) in page
    assert "10:00 – 10:30 Complet" in page
    assert "10:30 – 11:00 4 places" in page and "17:00 – 17:15 6 places" in page
    assert "disabled" in _radio(text(response), slot)
    assert "Réserver ce créneau" in page
    enter(points.alpha)
    slot.refresh_from_db()
    assert slot.reserved == 4 and slot.bookings.count() == 4
    assert not SlotBooking.objects.filter(user=points.alpha.member).exists()


def test_cancelling_frees_the_place(browse, points):
    enter(points.alpha)
    slot = points.slot(points.b, 10)
    book(slot, [household(points.alpha, number) for number in range(3)] + [points.alpha.member])
    client = browse(points.alpha, points.alpha.member)
    response = client.post(f"/retrait/{points.distribution.pk}/annuler/")
    assert response.status_code == 302
    page = words(client.get(response["Location"]))
    assert "Votre réservation est annulée : la place est libérée." in page
    assert "10:00 – 10:30 1 place" in page
    enter(points.alpha)
    slot.refresh_from_db()
    assert slot.reserved == 3
    assert not SlotBooking.objects.filter(user=points.alpha.member).exists()
    # The freed place can be booked again.
    other = household(points.alpha, 60)
    assert services.slot_reserve(slot_id=slot.pk, user=other).slot == slot


def test_one_slot_per_household_and_distribution(browse, points):
    enter(points.alpha)
    book(points.slot(points.a, 17), [points.alpha.member])
    client = browse(points.alpha, points.alpha.member)
    page = words(client.get(f"/retrait/{points.distribution.pk}/"))
    when = formats.date_format(points.distribution.date, "l j F")
    assert f"Votre créneau {when}, 17:00 – 17:15" in page and "Réserver ce créneau" not in page
    response = client.post(f"/retrait/{points.distribution.pk}/", {"slot": points.slot(points.a, 18).pk})
    assert response.status_code == 409
    assert "Vous avez déjà un créneau pour cette distribution." in words(response)
    enter(points.alpha)
    assert SlotBooking.objects.filter(user=points.alpha.member).count() == 1


def test_a_slot_of_another_distribution_is_not_found(browse, points):
    enter(points.alpha)
    later = services.distribution_create(
        date=next_weekday(FRIDAY, points.distribution.date), points=[points.a]
    )
    foreign = PickupSlot.objects.filter(distribution=later).first()
    response = browse(points.alpha, points.alpha.member).post(
        f"/retrait/{points.distribution.pk}/", {"slot": foreign.pk}
    )
    assert response.status_code == 404
    response = browse(points.alpha, points.alpha.member).post(f"/retrait/{points.distribution.pk}/", {})
    assert response.status_code == 400 and "Choisissez un créneau." in words(response)
    enter(points.alpha)
    assert not SlotBooking.objects.exists()


def test_a_past_distribution_cannot_be_booked(browse, points):
    enter(points.alpha)
    slot = points.slot(points.a, 17)
    points.distribution.date = timezone.localdate().replace(year=2020)
    points.distribution.save()
    response = browse(points.alpha, points.alpha.member).post(
        f"/retrait/{points.distribution.pk}/", {"slot": slot.pk}
    )
    assert response.status_code == 400 and "Cette distribution est passée." in words(response)
    with pytest.raises(services.BookingRefused, match="Cette distribution est passée."):
        services.slot_reserve(slot_id=slot.pk, user=points.alpha.member)


def test_slot_reserve_works_inside_the_callers_transaction(points):
    """The ordering code books inside its own transaction: a refusal must leave that transaction usable."""
    from django.db import transaction

    enter(points.alpha)
    slot = points.slot(points.b, 10)
    book(slot, [household(points.alpha, number) for number in range(4)])
    with transaction.atomic():
        with pytest.raises(services.SlotFull):
            services.slot_reserve(slot_id=slot.pk, user=points.alpha.member)
        booking = services.slot_reserve(slot_id=points.slot(points.b, 11).pk, user=points.alpha.member)
        assert booking.basket_number == 5
    assert SlotBooking.objects.filter(user=points.alpha.member).get() == booking


def test_staff_see_households_per_slot_and_check_them_in(browse, points, django_assert_max_num_queries):
    enter(points.alpha)
    karim = household(points.alpha, 7)
    lea = household(points.alpha, 8)
    book(points.slot(points.a, 17, 15), [karim, lea])
    book(points.slot(points.a, 18), [household(points.alpha, number) for number in range(20, 26)])
    client = browse(points.alpha, points.alpha.staff)
    url = f"/points/{points.a.pk}/distributions/{points.distribution.pk}/"
    # django-tenants sets the search path before each query: 9 queries count as 18 here.
    with django_assert_max_num_queries(20):
        response = client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    enter(points.alpha)
    book(points.slot(points.a, 18, 30), [household(points.alpha, number) for number in range(30, 36)])
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)  # no query per household
    page = words(response)
    assert "Foyers attendus : 8 Retirés : 0 Non retirés : 0" in page
    assert "Foyers attendus : 14" in words(client.get(url))
    assert (
        "17:15 – 17:30 2 réservés / 6 foyers par créneau Panier n° 1 Foyer Numéro-7 06 00 00 00 07 attendu"
        in page
    )
    assert "n° 2 Foyer Numéro-8 06 00 00 00 08 attendu" in page
    assert 'href="tel:0600000007"' in text(response)

    enter(points.alpha)
    booking = SlotBooking.objects.get(user=karim)
    response = client.post(f"/points/{points.a.pk}/paniers/{booking.pk}/pointage/", {"collected": "1"})
    assert response.status_code == 302 and response["Location"].endswith("#panier-1")
    page = words(client.get(response["Location"]))
    assert "Panier n° 1 retiré." in page
    assert "Foyers attendus : 14 Retirés : 1 Non retirés : 0" in page
    assert "n° 1 Foyer Numéro-7 06 00 00 00 07 ✓ retiré" in page

    enter(points.alpha)
    other = SlotBooking.objects.get(user=lea)
    client.post(f"/points/{points.a.pk}/paniers/{other.pk}/pointage/", {"collected": "0"})
    page = words(client.get(url))
    assert "Foyers attendus : 14 Retirés : 1 Non retirés : 1" in page
    assert "n° 2 Foyer Numéro-8 06 00 00 00 08 non retiré" in page
    enter(points.alpha)
    booking.refresh_from_db()
    other.refresh_from_db()
    assert booking.status == SlotBooking.Status.COLLECTED and booking.checked_in_at is not None
    assert other.status == SlotBooking.Status.MISSED and other.checked_in_at is None


def test_a_collected_basket_cannot_be_cancelled(browse, points):
    enter(points.alpha)
    (booking,) = book(points.slot(points.a, 17), [points.alpha.member])
    services.booking_check_in(booking=booking, collected=True)
    response = browse(points.alpha, points.alpha.member).post(f"/retrait/{points.distribution.pk}/annuler/")
    assert response.status_code == 409
    assert "Ce panier a déjà été pointé : la réservation ne peut plus être annulée." in words(response)
    enter(points.alpha)
    assert SlotBooking.objects.filter(pk=booking.pk).exists()


def test_releasing_twice_frees_one_place(points):
    enter(points.alpha)
    slot = points.slot(points.a, 17)
    (booking,) = book(slot, [points.alpha.member])
    services.slot_release(booking=booking)
    services.slot_release(booking=booking)
    slot.refresh_from_db()
    assert slot.reserved == 0


def test_the_member_list_shows_upcoming_distributions(browse, points):
    client = browse(points.alpha, points.alpha.member)
    page = words(client.get("/retrait/"))
    assert "Pas encore de créneau. Choisir un créneau" in page
    assert services.day_label(points.distribution.date).capitalize() in page
    assert 'href="/retrait/"' in text(client.get("/"))


def test_a_slot_removed_since_the_page_was_shown_asks_for_another(browse, points):
    """Staff changed the point's hours while the member was choosing: the slots were generated again."""
    member = browse(points.alpha, points.alpha.member)
    page = text(member.get(f"/retrait/{points.distribution.pk}/"))
    enter(points.alpha)
    gone = points.slot(points.a, 17)
    assert _radio(page, gone)
    services.point_update(point=points.a, slot_minutes=20)
    response = member.post(f"/retrait/{points.distribution.pk}/", {"slot": gone.pk})
    assert response.status_code == 409
    page = words(response)
    assert "Ce créneau n'existe plus : choisissez-en un autre." in page
    assert "17:00 – 17:20 6 places" in page
    enter(points.alpha)
    assert not SlotBooking.objects.exists()
