"""The demo and the pages built on it hold whatever today is: each day of a week, both summer-time changes,
month ends, and the last minutes before midnight. The clock is set with time-machine.

What is checked is what staff and members would notice: no two distributions of one day at one place, a
stand-alone distribution says so, every upcoming distribution is told apart from the others of its day on
« Mes points de retrait » and « Distributions », each demo sale is open with its pickup day after its close,
and the households booked by the demo are on their point's day page. The whole date-sensitive suite can be
run on any day too: `make test-dates` (see tests/conftest.py, ETAL_TODAY).
"""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import tenant_context

from marketplace.models import Collective, User
from orders.models import Sale
from pickup_points.models import Distribution, SlotBooking
from tests.conftest import words

PARIS = ZoneInfo("Europe/Paris")
A_WEEK = [date(2026, 12, 7) + timedelta(days=offset) for offset in range(7)]  # Monday to Sunday
MOMENTS = [datetime.combine(day, time(9, 0), tzinfo=PARIS) for day in A_WEEK] + [
    datetime(2027, 3, 27, 23, 30, tzinfo=PARIS),  # the night clocks go forward (Sunday 28 March, 2 h → 3 h)
    datetime(2027, 10, 31, 2, 30, tzinfo=PARIS),  # the night clocks go back (Sunday 31 October, 3 h → 2 h)
    datetime(2027, 2, 28, 23, 45, tzinfo=PARIS),  # month end, minutes before midnight
    datetime(2026, 12, 31, 23, 59, tzinfo=PARIS),  # year end
]
STAFF = {"cagette47": "mairie@cagette47.demo", "emplettes": "centre-social@emplettes.demo"}
COORDINATOR = {"cagette47": "coordination@cagette47.demo", "emplettes": "coordination@emplettes.demo"}


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _links(page: str, pattern: str) -> list[str]:
    return [
        " ".join(re.sub(r"<[^>]+>", " ", found).split()) for found in re.findall(pattern, page, flags=re.S)
    ]


def _repeated(items) -> list:
    return [item for item, count in Counter(items).items() if count > 1]


@pytest.mark.parametrize("moment", MOMENTS, ids=lambda moment: f"{moment:%a-%Y-%m-%dT%H%M}")
def test_demo_holds_on_any_day(moment, browse, media_root):
    with time_machine.travel(moment, tick=True):
        call_command("seed_demo", "--quiet", stdout=io.StringIO())
        today = timezone.localdate()
        for slug in ("cagette47", "emplettes"):
            collective = Collective.objects.get(slug=slug)
            with tenant_context(collective):
                places = Distribution.points.through.objects.values_list(
                    "distribution__date", "pickuppoint__name"
                )
                assert _repeated(places) == [], f"{slug}: two distributions of one day at one place"
                (sale,) = [sale for sale in Sale.objects.select_related("distribution") if sale.is_open]
                assert sale.closes_at > timezone.now()
                assert sale.distribution.date > timezone.localtime(sale.closes_at).date()
                standalone = Distribution.objects.filter(sale__isnull=True, date__gte=today)
                assert standalone.exists()
                booked = list(
                    SlotBooking.objects.select_related("user", "slot")
                    .filter(distribution__date__gte=today)
                    .order_by("pk")
                )
            assert booked, f"{slug}: nobody is booked, the day page would be empty"

            staff = browse(f"{slug}.localhost", User.objects.get(email=STAFF[slug]))
            page = staff.get("/points/").content.decode()
            day_links = _links(page, r'<a href="/points/\d+/distributions/\d+/">(.*?)</a>')
            assert day_links and _repeated(day_links) == [], day_links
            assert any("Distribution hors vente" in link for link in day_links)
            assert any(sale.title in link for link in day_links)

            coordinator = browse(f"{slug}.localhost", User.objects.get(email=COORDINATOR[slug]))
            page = coordinator.get("/distributions/").content.decode()
            cards = _links(page, r'<li class="card">(.*?)</li>')
            assert len(cards) >= 2 and _repeated(cards) == [], cards

            for booking in booked:
                day_page = words(
                    coordinator.get(
                        f"/points/{booking.slot.point_id}/distributions/{booking.distribution_id}/"
                    )
                )
                assert booking.user.display_name in day_page
