"""Open calendars and QR check-in: a booking's .ics invitation (page and e-mail), the collective's feed of
distributions and its access rule, and the basket's QR code read back on the distribution-day page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import signing
from django.db import connection
from django.utils import timezone
from icalendar import Calendar

from marketplace.models import Membership
from orders.checkout import services as checkout_services
from orders.models import Order, PaymentMethod, Sale
from orders.payments import services as payment_services
from orders.sales import services as sale_services
from pickup_points import basket_codes
from pickup_points import services as point_services
from pickup_points.models import CalendarKey, PickupPoint, PickupSlot, SlotBooking
from producers import services as producer_services
from producers.models import Unit
from tests.conftest import Cast, words
from tests.pickup_points.factories import household

PARIS = ZoneInfo("Europe/Paris")


@dataclass
class Shop:
    sale: Sale
    point: PickupPoint
    order: Order

    @property
    def booking(self) -> SlotBooking:
        return self.order.booking


def shop_with_order(
    cast: Cast, *, title="Vente de la semaine", buyer=None, point_name="Salle des fêtes"
) -> Shop:
    """In `cast`: a farm, a point staffed by cast.staff, an open sale delivered in 4 days at 17:00–19:00
    (Paris), and an order of `buyer` (cast.member by default) in the first slot."""
    connection.set_tenant(cast.collective)
    payment_services.shop_settings_update(payment_methods=[PaymentMethod.CASH])
    farm = producer_services.producer_create(name="Ferme du Pech", town="Nérac")
    product = producer_services.product_create(
        producer=farm, name="Tomates", price=Decimal("2.50"), unit=Unit.KG, stock=10
    )
    point = point_services.point_create(
        name=point_name,
        address="1 place de la Mairie",
        postcode="47000",
        town="Agen",
        slot_minutes=30,
        slot_capacity=3,
    )
    point_services.point_staff_add(collective=cast.collective, point=point, user=cast.staff)
    day = timezone.localdate() + timedelta(days=4)
    sale = sale_services.sale_create(
        title=title,
        opens_at=timezone.now() - timedelta(days=1),
        closes_at=timezone.now() + timedelta(days=2),
        distribution_starts_at=datetime.combine(day, time(17, 0), tzinfo=PARIS),
        distribution_ends_at=datetime.combine(day, time(19, 0), tzinfo=PARIS),
        points=[point],
        producers=[farm],
        publish=True,
    )
    offer = sale.offers.get(product=product)
    slot = (
        PickupSlot.objects.filter(distribution=sale.distribution, point=point).order_by("starts_at").first()
    )
    order = checkout_services.order_place(
        sale_id=sale.pk,
        user=buyer or cast.member,
        quantities={offer.pk: 2},
        slot_id=slot.pk,
        payment_method=PaymentMethod.CASH,
    )
    order = Order.objects.select_related("booking__slot__point", "booking__distribution").get(pk=order.pk)
    return Shop(sale=sale, point=point, order=order)


def _event(body: bytes):
    calendar = Calendar.from_ical(body)
    events = list(calendar.walk("VEVENT"))
    return calendar, events


# The booking's invitation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "utc_hour"),
    [
        # The distribution is 4 days later: after the change to summer time (UTC+2), then to winter time.
        (datetime(2027, 3, 25, 10, 0, tzinfo=PARIS), 15),
        (datetime(2027, 10, 28, 10, 0, tzinfo=PARIS), 16),
    ],
)
def test_the_order_page_gives_an_ics_at_the_right_local_time_across_summer_time(
    browse, alpha, today, utc_hour
):
    with time_machine.travel(today, tick=False):
        shop = shop_with_order(alpha)
        client = browse(alpha, alpha.member)
        page = client.get(f"/commandes/{shop.order.pk}/")
        assert "Ajouter le retrait à mon agenda (.ics)" in words(page)
        response = client.get(f"/commandes/{shop.order.pk}/rendez-vous.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    calendar, events = _event(response.content)
    assert len(events) == 1
    event = events[0]
    start = event.decoded("dtstart")
    assert start.tzinfo is not None and str(event["dtstart"].params["TZID"]) == "Europe/Paris"
    assert (
        start.astimezone(PARIS).hour == 17
        and start.astimezone(PARIS).date() == (today + timedelta(days=4)).date()
    )
    assert start.astimezone(ZoneInfo("UTC")).hour == utc_hour
    assert event.decoded("dtend").astimezone(PARIS).strftime("%H:%M") == "17:30"
    zones = list(calendar.walk("VTIMEZONE"))
    assert [str(zone["TZID"]) for zone in zones] == ["Europe/Paris"]
    assert {sub.name for sub in zones[0].subcomponents} >= {"STANDARD", "DAYLIGHT"}
    number = shop.order.basket_number
    assert str(event["summary"]) == f"Retrait du panier n° {number} – Drive Alpha"
    assert str(event["location"]) == "Salle des fêtes, 1 place de la Mairie, 47000 Agen"
    assert f"Panier n° {number}" in str(event["description"])
    assert str(event["uid"]) == f"booking-{shop.booking.pk}@{alpha.collective.schema_name}.etal"


def test_the_ics_uid_is_stable_so_a_calendar_updates_rather_than_duplicates(browse, alpha):
    shop = shop_with_order(alpha)
    client = browse(alpha, alpha.member)
    first = _event(client.get(f"/commandes/{shop.order.pk}/rendez-vous.ics").content)[1][0]
    again = _event(client.get(f"/commandes/{shop.order.pk}/rendez-vous.ics").content)[1][0]
    assert str(first["uid"]) == str(again["uid"])


def test_no_one_else_downloads_a_members_invitation(browse, alpha, beta):
    shop = shop_with_order(alpha)
    url = f"/commandes/{shop.order.pk}/rendez-vous.ics"
    other = household(alpha, 7)
    assert browse(alpha, other).get(url).status_code == 404
    assert browse(alpha, alpha.staff).get(url).status_code == 403  # not a member role
    assert browse(beta, beta.member).get(url).status_code == 404  # another collective: no such order
    assert browse(alpha).get(url).status_code == 302  # to the sign-in page


def test_the_confirmation_email_carries_the_ics_and_the_qr_code(
    alpha, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        shop = shop_with_order(alpha)
    assert len(mailoutbox) == 1, "the confirmation e-mail is sent"
    message = mailoutbox[-1]
    names = {name: (content, mimetype) for name, content, mimetype in message.attachments}
    ics_name = f"retrait-{shop.order.number}.ics"
    png_name = f"panier-{shop.order.basket_number}.png"
    assert set(names) == {ics_name, png_name}
    assert names[ics_name][1].startswith("text/calendar")
    content = names[ics_name][0]
    event = _event(content.encode() if isinstance(content, str) else content)[1][0]
    assert f"n° {shop.order.basket_number}" in str(event["summary"])
    png = names[png_name][0]
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert "code QR de votre panier" in message.body


# The collective's feed -------------------------------------------------------------------------------------


def test_an_open_collectives_feed_is_public_and_lists_only_its_distributions(browse, alpha, beta):
    shop_with_order(beta, title="Bon de commande de Beta", point_name="Centre social")
    shop_with_order(alpha, title="Vente de la semaine")
    response = browse(alpha).get("/agenda.ics")
    assert response.status_code == 200
    calendar, events = _event(response.content)
    assert [str(event["summary"]) for event in events] == ["Vente de la semaine – Salle des fêtes"]
    event = events[0]
    assert event.decoded("dtstart").astimezone(PARIS).strftime("%H:%M") == "17:00"
    assert event.decoded("dtend").astimezone(PARIS).strftime("%H:%M") == "19:00"
    assert "1 place de la Mairie" in str(event["location"])
    assert "Maud" not in response.content.decode()  # names no one
    schema = alpha.collective.schema_name
    assert re.fullmatch(rf"distribution-\d+-point-\d+@{schema}\.etal", str(event["uid"]))


def test_a_closure_on_the_distribution_day_cancels_the_feeds_event(browse, alpha):
    shop = shop_with_order(alpha)
    day = shop.sale.distribution.date
    checkout_services.order_cancel(order_id=shop.order.pk, user=alpha.member)  # a closure needs no booking
    point_services.closure_create(point=shop.point, starts_on=day, ends_on=day, reason="travaux")
    _calendar, events = _event(browse(alpha).get("/agenda.ics").content)
    [event] = events  # still there with its UID, so a subscribed calendar takes it off
    assert str(event["status"]) == "CANCELLED"
    assert str(event["summary"]) == "Point fermé (travaux) : pas de distribution – Salle des fêtes"


def test_an_invitation_only_collectives_feed_needs_the_members_secret_address(browse, beta):
    shop_with_order(beta, title="Bon de commande de Beta", point_name="Centre social")
    assert browse(beta).get("/agenda.ics").status_code == 404
    member = browse(beta, beta.member)
    page = member.get("/agenda/")
    assert page.status_code == 200 and "Renouveler mon adresse d'agenda" in words(page)
    key = CalendarKey.objects.get(user=beta.member)
    url = f"/agenda/{key.token}.ics"
    assert url in page.content.decode()
    feed = browse(beta).get(url)  # a calendar program: no session
    assert feed.status_code == 200
    assert [str(e["summary"]) for e in _event(feed.content)[1]] == ["Bon de commande de Beta – Centre social"]
    assert browse(beta).get("/agenda/devine.ics").status_code == 404

    # Renewed: the old address stops at once, the new one works.
    assert member.post("/agenda/renouveler/").status_code == 302
    assert browse(beta).get(url).status_code == 404
    new = CalendarKey.objects.get(user=beta.member)
    assert new.token != key.token and browse(beta).get(f"/agenda/{new.token}.ics").status_code == 200

    # A member who left: their address stops too.
    Membership.objects.filter(user=beta.member, collective=beta.collective).update(
        status=Membership.Status.PENDING
    )
    assert browse(beta).get(f"/agenda/{new.token}.ics").status_code == 404


def test_a_secret_address_of_one_collective_opens_nothing_in_another(browse, alpha, beta):
    connection.set_tenant(beta.collective)
    key = point_services.calendar_key_ensure(user=beta.member)
    assert browse(alpha).get(f"/agenda/{key.token}.ics").status_code == 404


def test_the_open_collectives_page_shows_the_public_address(browse, alpha):
    page = browse(alpha, alpha.member).get("/agenda/")
    assert "/agenda.ics" in page.content.decode() and "webcal://" in page.content.decode()
    assert "Renouveler" not in words(page)
    assert browse(alpha, alpha.member).post("/agenda/renouveler/").status_code == 404


# QR check-in -----------------------------------------------------------------------------------------------


def _qr_svg(page) -> str:
    """The order page's inline QR code (an SVG element)."""
    svg = re.search(r"<svg[^>]*class=\"basket-qr\".*?</svg>", page.content.decode(), re.S)
    assert svg, "the order page shows the basket's QR code inline"
    return svg.group(0)


def test_the_order_page_qr_code_holds_the_signed_url_that_finds_the_basket(browse, alpha):
    shop = shop_with_order(alpha)
    # The code is signed with the second it is made (django.core.signing.dumps): the page and the expected
    # URL are made in the same frozen second.
    with time_machine.travel(timezone.now(), tick=False):
        page = browse(alpha, alpha.member).get(f"/commandes/{shop.order.pk}/")
        expected = basket_codes.basket_code_url(
            base_url=alpha.collective.base_url,
            schema_name=alpha.collective.schema_name,
            booking_id=shop.booking.pk,
        )
    svg = _qr_svg(page)
    title = f"Code du panier n° {shop.order.basket_number}"
    # The same modules as segno draws for that URL: the code holds it (there is no QR decoder here).
    assert svg == basket_codes.qr_svg(expected, title=title)
    assert "<script" not in svg and "http" not in svg.split("<path", 1)[0]  # inline, no external image

    staff = browse(alpha, alpha.staff)
    day = f"/points/{shop.point.pk}/distributions/{shop.sale.distribution_id}/"
    found = staff.get(f"{day}trouver/", {"code": expected})
    number = shop.order.basket_number
    assert found.status_code == 302 and found["Location"] == f"{day}?panier={number}#panier-{number}"
    page = staff.get(found["Location"])
    assert f"Panier n° {number} trouvé : Maud" in words(page)
    assert 'class="checkin checkin-booked checkin-found"' in page.content.decode()
    # Then the staff hand it over, as the day page always did.
    staff.post(f"/points/{shop.point.pk}/paniers/{shop.booking.pk}/pointage/", {"collected": "1"})
    assert SlotBooking.objects.get(pk=shop.booking.pk).status == SlotBooking.Status.COLLECTED


def test_typing_the_basket_number_always_works(browse, alpha):
    shop = shop_with_order(alpha)
    day = f"/points/{shop.point.pk}/distributions/{shop.sale.distribution_id}/"
    page = browse(alpha, alpha.staff).get(day)
    assert "Trouver un panier : numéro ou code scanné" in words(page) and "Scanner" in words(page)
    found = browse(alpha, alpha.staff).get(f"{day}trouver/", {"code": str(shop.order.basket_number)})
    assert found.status_code == 302 and f"#panier-{shop.order.basket_number}" in found["Location"]
    missing = browse(alpha, alpha.staff).get(f"{day}trouver/", {"code": "999"})
    assert missing.status_code == 404
    assert "Aucun panier ne porte ce numéro à cette distribution." in words(missing)


def test_a_forged_code_or_one_of_another_collective_gets_a_clear_message(browse, alpha, beta):
    beta_shop = shop_with_order(beta, point_name="Centre social")
    beta_code = basket_codes.basket_code_url(
        base_url=beta.collective.base_url,
        schema_name=beta.collective.schema_name,
        booking_id=beta_shop.booking.pk,
    )
    shop = shop_with_order(alpha)
    day = f"/points/{shop.point.pk}/distributions/{shop.sale.distribution_id}/trouver/"
    staff = browse(alpha, alpha.staff)

    other = staff.get(day, {"code": beta_code})
    assert other.status_code == 400
    assert "Ce code est celui d'un panier d'un autre collectif : il ne vaut pas ici." in words(other)

    # Same booking id, the collective's own schema, but not signed with the platform's key.
    token = signing.dumps(
        [alpha.collective.schema_name, shop.booking.pk], key="pas-la-bonne-cle", salt=basket_codes.SALT
    )
    forged = staff.get(day, {"code": f"{alpha.collective.base_url}/panier/{token}/"})
    assert forged.status_code == 400
    assert "Ce code n'est pas un code de panier valide : tapez plutôt le numéro du panier." in words(forged)
    tampered = basket_codes.basket_code(schema_name=alpha.collective.schema_name, booking_id=shop.booking.pk)
    tampered = tampered.replace(tampered[3], "A" if tampered[3] != "A" else "B", 1)
    assert staff.get(day, {"code": tampered}).status_code == 400
    assert SlotBooking.objects.get(pk=shop.booking.pk).status == SlotBooking.Status.BOOKED


def test_a_basket_of_another_distribution_is_told_apart(browse, alpha):
    shop = shop_with_order(alpha)
    later = sale_services.sale_create(
        title="Vente suivante",
        opens_at=timezone.now() - timedelta(days=1),
        closes_at=timezone.now() + timedelta(days=2),
        distribution_starts_at=datetime.combine(
            timezone.localdate() + timedelta(days=11), time(17, 0), tzinfo=PARIS
        ),
        distribution_ends_at=datetime.combine(
            timezone.localdate() + timedelta(days=11), time(19, 0), tzinfo=PARIS
        ),
        points=[shop.point],
        producers=list(shop.sale.producers.all()),
        publish=True,
    )
    code = basket_codes.basket_code(schema_name=alpha.collective.schema_name, booking_id=shop.booking.pk)
    response = browse(alpha, alpha.staff).get(
        f"/points/{shop.point.pk}/distributions/{later.distribution_id}/trouver/", {"code": code}
    )
    assert response.status_code == 404
    assert "est celui d'une autre distribution" in words(response)


def test_members_and_producers_cannot_use_the_scan(browse, alpha, beta):
    shop = shop_with_order(alpha)
    day = f"/points/{shop.point.pk}/distributions/{shop.sale.distribution_id}/"
    code = basket_codes.basket_code(schema_name=alpha.collective.schema_name, booking_id=shop.booking.pk)
    assert browse(alpha, alpha.member).get(day).status_code == 403
    assert browse(alpha, alpha.member).get(f"{day}trouver/", {"code": code}).status_code == 403
    assert browse(alpha, alpha.producer).get(f"{day}trouver/", {"code": code}).status_code == 403
    assert browse(beta, beta.staff).get(f"{day}trouver/", {"code": code}).status_code == 404
    assert browse(beta, beta.coordinator).get(f"{day}trouver/", {"code": code}).status_code == 404


def test_the_qr_url_opened_by_a_phone_camera_leads_each_to_their_page(browse, alpha, beta):
    shop = shop_with_order(alpha)
    code = basket_codes.basket_code(schema_name=alpha.collective.schema_name, booking_id=shop.booking.pk)
    staff = browse(alpha, alpha.staff).get(f"/panier/{code}/")
    assert staff.status_code == 302 and "/trouver/?code=" in staff["Location"]
    member = browse(alpha, alpha.member).get(f"/panier/{code}/")
    assert member.status_code == 302 and member["Location"] == f"/commandes/{shop.order.pk}/"
    assert browse(alpha, household(alpha, 8)).get(f"/panier/{code}/").status_code == 404
    assert browse(alpha).get(f"/panier/{code}/").status_code == 302  # sign in first
    assert browse(beta, beta.coordinator).get(f"/panier/{code}/").status_code == 404
    assert browse(alpha, alpha.staff).get("/panier/nimporte-quoi/").status_code == 404


def test_the_feed_reads_in_a_fixed_number_of_queries(browse, alpha, django_assert_max_num_queries):
    shop = shop_with_order(alpha)
    client = browse(alpha)
    with django_assert_max_num_queries(12) as few:
        client.get("/agenda.ics")
    connection.set_tenant(alpha.collective)
    for week in range(1, 6):
        day = timezone.localdate() + timedelta(days=4 + 7 * week)
        point_services.distribution_create(date=day, points=[shop.point], hours=(time(17, 0), time(19, 0)))
    undated = point_services.distribution_create(
        date=timezone.localdate() + timedelta(days=60), points=[shop.point]
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/agenda.ics")
    events = _event(response.content)[1]
    assert len(events) == 7
    # No slot and no hours known yet: the day itself, as an all-day event.
    assert [
        event.decoded("dtstart") for event in events if "T" not in event["dtstart"].to_ical().decode()
    ] == [undated.date]
