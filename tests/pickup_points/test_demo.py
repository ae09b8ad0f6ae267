"""The demo collectives come with their pickup points, hours, staff and one upcoming distribution."""

import io
from datetime import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from marketplace.models import Collective, User
from pickup_points.models import Distribution, OpeningHours, PickupPoint, PickupSlot, SlotBooking, Weekday
from tests.conftest import text, words
from tests.pickup_points.factories import next_weekday


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _counts(slug: str) -> tuple:
    connection.set_tenant(Collective.objects.get(slug=slug))
    counts = tuple(
        model.objects.count() for model in (PickupPoint, OpeningHours, Distribution, PickupSlot, SlotBooking)
    )
    connection.set_schema_to_public()
    return counts


def test_demo_pickup_points(browse, media_root):
    call_command("seed_demo", stdout=io.StringIO())
    first = {slug: _counts(slug) for slug in ("cagette47", "emplettes")}
    call_command("seed_demo", stdout=io.StringIO())
    assert {slug: _counts(slug) for slug in ("cagette47", "emplettes")} == first

    connection.set_tenant(Collective.objects.get(slug="cagette47"))
    mairie, boe = PickupPoint.objects.order_by("pk")  # the demo's point first (the orders demo sells there)
    assert mairie.name == "Salle des fêtes de la mairie"
    # « Proposer un point de retrait »: Boé's proposal was accepted, its point has the town hall's account.
    assert boe.name == "Salle des associations de Boé"
    assert list(boe.staff.values_list("email", flat=True)) == ["secretariat@mairie-boe.demo"]
    assert (boe.slot_capacity, str(boe.opening_hours.get())) == (5, "samedi 10:00–12:00")
    coordinator = browse("cagette47.localhost", User.objects.get(email="coordination@cagette47.demo"))
    proposed = words(coordinator.get("/points-proposes/"))
    assert "Salle du conseil de la mairie de Layrac" in proposed and "Martine Lafitte" in proposed
    assert "Salle des associations de Boé" in proposed  # under « Points acceptés »
    boe_staff = browse("cagette47.localhost", User.objects.get(email="secretariat@mairie-boe.demo"))
    assert "Salle des associations de Boé" in words(boe_staff.get("/points/"))
    assert "Salle des fêtes" not in words(boe_staff.get("/points/"))
    assert boe_staff.get(f"/points/{boe.pk}/kit.pdf").status_code == 200
    assert (mairie.slot_minutes, mairie.slot_capacity) == (15, 6)
    assert list(mairie.opening_hours.values_list("weekday", "starts_at", "ends_at")) == [
        (Weekday.FRIDAY, time(17, 0), time(19, 0))
    ]
    assert list(mairie.staff.values_list("email", flat=True)) == ["mairie@cagette47.demo"]
    (distribution,) = Distribution.objects.filter(sale__isnull=True)  # the sales have their own (orders demo)
    assert distribution.date == next_weekday(Weekday.FRIDAY)
    assert PickupSlot.objects.filter(distribution=distribution).count() == 8

    staff = browse("cagette47.localhost", User.objects.get(email="mairie@cagette47.demo"))
    page = words(staff.get(f"/points/{mairie.pk}/distributions/{distribution.pk}/"))
    assert "Karim Benali" in page and "06 10 00 00 03" in page

    connection.set_tenant(Collective.objects.get(slug="emplettes"))
    sites = {point.name: point for point in PickupPoint.objects.prefetch_related("staff", "opening_hours")}
    assert set(sites) == {
        "Centre socio-culturel des Izards",
        "Maison des solidarités Bagatelle",
        "Association étudiante du Mirail",
    }
    assert [user.email for user in sites["Centre socio-culturel des Izards"].staff.all()] == [
        "centre-social@emplettes.demo"
    ]
    hours = {name: sorted(map(str, point.opening_hours.all())) for name, point in sites.items()}
    assert len({tuple(ranges) for ranges in hours.values()}) == 3  # each site its own hours
    (monthly,) = Distribution.objects.filter(date__gte=timezone.localdate(), sale__isnull=True)
    assert monthly.points.count() == 3
    assert all(
        PickupSlot.objects.filter(distribution=monthly, point=point).exists() for point in sites.values()
    )
    member = browse("emplettes.localhost", User.objects.get(email="coordination@emplettes.demo"))
    assert "Maison des solidarités Bagatelle" in text(member.get(f"/retrait/{monthly.pk}/"))
