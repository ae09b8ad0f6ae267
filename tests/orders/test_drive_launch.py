"""« Lancer un drive »: one page that creates the drive, its farm, its pickup point (hours, slots) and its
weekly schedule with the first sale; bad input keeps what was typed; a failure writes nothing."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection

from marketplace.models import Collective, Domain, Membership, Role
from orders.models import RecurringSchedule, Sale
from orders.sales import services as sale_services
from pickup_points.models import PickupPoint, PickupSlot
from producers.models import Producer, ProducerAccount
from tests.conftest import HostClient, words

PARIS = ZoneInfo("Europe/Paris")

FORM = {
    "name": "Le Drive de Nérac",
    "slug": "drive-nerac",
    "town": "Nérac",
    "department": "47",
    "contact_email": "contact@drive-nerac.test",
    "join_mode": "open",
    "farm_name": "Ferme des Trois Chênes",
    "point_name": "Salle des fêtes",
    "point_address": "1 place de la Mairie",
    "point_postcode": "47600",
    "point_town": "Nérac",
    "access_instructions": "Entrée côté parking.",
    "distribution_weekday": "4",  # Friday
    "distribution_start": "17:00",
    "distribution_end": "19:00",
    "slot_minutes": "30",
    "slot_capacity": "8",
    "open_weekday": "5",  # Saturday
    "open_time": "08:00",
    "close_weekday": "1",  # Tuesday
    "close_time": "23:59",
}


def _schemas() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT schema_name FROM information_schema.schemata")
        return {row[0] for row in cursor.fetchall()}


def _nothing_written() -> bool:
    return (
        not Collective.objects.filter(slug="drive-nerac").exists()
        and not Domain.objects.filter(domain__startswith="drive-nerac.").exists()
        and "c_drive_nerac" not in _schemas()
    )


@pytest.mark.parametrize(
    ("today", "first_opening", "first_distribution"),
    [
        (
            datetime(2026, 12, 2, 10, 0, tzinfo=PARIS),
            datetime(2026, 12, 5, 8, 0),
            datetime(2026, 12, 11, 17, 0),
        ),
        (
            datetime(2026, 12, 5, 9, 0, tzinfo=PARIS),
            datetime(2026, 12, 12, 8, 0),
            datetime(2026, 12, 18, 17, 0),
        ),
    ],
    ids=["a wednesday", "a saturday after the opening hour"],
)
def test_a_founder_launches_a_drive_live_with_point_slots_and_first_sale(
    browse, public_host, outsider, today, first_opening, first_distribution
):
    with time_machine.travel(today, tick=False):
        response = browse(public_host, outsider).post("/lancer-un-drive/", FORM)
        assert response.status_code == 302
        assert response["Location"].startswith("http://drive-nerac.localhost/bienvenue/")

        collective = Collective.objects.get(slug="drive-nerac")
        assert collective.kind == Collective.Kind.DRIVE and collective.department == "47"
        membership = Membership.objects.get(collective=collective, user=outsider)
        assert {Role.COORDINATOR, Role.PRODUCER, Role.MEMBER} <= set(membership.roles)

        landing = HostClient("drive-nerac.localhost")
        home = landing.get(response["Location"].removeprefix("http://drive-nerac.localhost"), follow=True)
        page = words(home)
        assert "Le Drive de Nérac" in page and "est en ligne" in page
        assert f"Drive de Le Drive de Nérac – {first_distribution:%d/%m/%Y}" in page

        connection.set_tenant(collective)
        point = PickupPoint.objects.get()
        assert (point.name, point.town, point.slot_capacity) == ("Salle des fêtes", "Nérac", 8)
        schedule = RecurringSchedule.objects.get()
        assert (schedule.open_weekday, schedule.close_weekday, schedule.distribution_weekday) == (5, 1, 4)
        sale = Sale.objects.order_by("opens_at").first()
        assert sale.is_published
        assert sale.opens_at == first_opening.replace(tzinfo=PARIS)
        assert sale.distribution_starts_at == first_distribution.replace(tzinfo=PARIS)
        slots = list(PickupSlot.objects.filter(distribution=sale.distribution).order_by("starts_at"))
        assert len(slots) == 4 and all(slot.capacity == 8 for slot in slots)  # 17:00–19:00 by 30 minutes
        farm = Producer.objects.get()
        assert farm.name == "Ferme des Trois Chênes"
        assert ProducerAccount.objects.filter(producer=farm, user=outsider).exists()


def test_bad_input_in_every_part_says_so_and_keeps_everything_typed(browse, public_host, outsider):
    bad = {
        **FORM,
        "slug": "www",  # reserved
        "department": "99",
        "point_address": "",
        "distribution_start": "19:00",
        "distribution_end": "17:00",
        "slot_capacity": "0",
    }

    response = browse(public_host, outsider).post("/lancer-un-drive/", bad)

    assert response.status_code == 400
    page = words(response)
    html = response.content.decode()
    assert "Numéro de département" in page
    assert "Ce champ est obligatoire." in page
    assert "doit être après l'heure de début" in page
    assert "supérieure ou égale à 1" in page
    assert 'value="Ferme des Trois Chênes"' in html and 'value="Salle des fêtes"' in html
    assert "Entrée côté parking." in html and 'value="Le Drive de Nérac"' in html
    assert _nothing_written()

    reserved = browse(public_host, outsider).post("/lancer-un-drive/", {**FORM, "slug": "www"})
    assert reserved.status_code == 400 and "Cette adresse est réservée" in words(reserved)
    assert _nothing_written()


def test_a_visitor_is_asked_for_an_account_first(browse, public_host):
    response = browse(public_host).get("/lancer-un-drive/")
    assert "compte" in words(response).lower()
    assert browse(public_host).post("/lancer-un-drive/", FORM).status_code == 200
    assert _nothing_written()


@pytest.mark.django_db(transaction=True)
def test_a_failure_in_the_schedule_leaves_no_half_drive(browse, public_host, outsider, monkeypatch):
    """The last write fails (after the schema, the point and the schedule): nothing of it stays."""
    before = _schemas()

    def refused(**kwargs):
        raise ValidationError("La première vente n'a pas pu être programmée.")

    monkeypatch.setattr(sale_services, "schedule_sales_create", refused)
    client = browse(public_host, outsider)

    response = client.post("/lancer-un-drive/", FORM)

    assert response.status_code == 400
    assert "La première vente n'a pas pu être programmée." in words(response)
    assert 'value="Salle des fêtes"' in response.content.decode()
    connection.set_schema_to_public()
    assert _nothing_written()
    assert _schemas() == before
    assert not Membership.objects.filter(user=outsider).exists()

    monkeypatch.undo()
    assert client.post("/lancer-un-drive/", FORM).status_code == 302  # the same address, tried again
    assert Collective.objects.filter(slug="drive-nerac").exists()
