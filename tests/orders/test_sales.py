"""Sales: creation with frozen offers, edits, duplication, recurring schedules, and the DB's last defence."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format

from orders.checkout import services as checkout_services
from orders.models import Offer, PaymentMethod, RecurringSchedule, Sale
from orders.sales import services as sale_services
from orders.sales.recurrence import PARIS
from pickup_points import services as point_services
from producers import services as producer_services
from tests.conftest import words
from tests.orders.conftest import local_at


def test_a_new_sale_offers_the_catalogue_at_its_price_and_stock(market):
    offers = {offer.name: offer for offer in market.sale.offers.all()}
    assert set(offers) == {"Tomates", "Tomme", "Rôti de bœuf", "Vin de Buzet"}
    assert offers["Tomates"].price == Decimal("2.50") and offers["Tomates"].quantity == 10
    assert offers["Tomme"].quantity is None  # unlimited stays unlimited
    assert offers["Rôti de bœuf"].unit_amount == Decimal("12.00")
    assert market.sale.distribution.slots.count() == 4  # 17:00–19:00 in 30-minute slots
    assert market.sale.status == Sale.Status.OPEN


def test_sale_times_must_make_sense(market):
    now = timezone.now()
    with pytest.raises(ValidationError) as problem:
        sale_services.sale_create(
            title="À l'envers",
            opens_at=now,
            closes_at=now - timedelta(hours=1),
            distribution_starts_at=local_at(3, time(17, 0)),
            distribution_ends_at=local_at(3, time(16, 0)),
            points=[market.point],
            producers=[market.tomatoes.producer],
        )
    assert set(problem.value.message_dict) == {"closes_at", "distribution_end"}
    assert Sale.objects.count() == 1


def test_offer_edits_keep_what_is_sold_and_freeze_prices_once_open(market, alpha):
    checkout_services.order_place(
        sale_id=market.sale.pk,
        user=alpha.member,
        quantities={market.tomatoes.pk: 4},
        slot_id=market.slots[0].pk,
        payment_method=PaymentMethod.CASH,
    )
    rows = [sale_services.OfferRow(market.tomatoes.product_id, True, 3, Decimal("2.50"))]
    with pytest.raises(ValidationError, match="4 déjà commandés"):
        sale_services.sale_offers_update(sale_id=market.sale.pk, rows=rows)
    rows = [sale_services.OfferRow(market.tomatoes.product_id, True, 12, Decimal("1.99"))]
    with pytest.raises(ValidationError, match="le prix ne peut plus changer"):
        sale_services.sale_offers_update(sale_id=market.sale.pk, rows=rows)
    rows = [sale_services.OfferRow(market.tomatoes.product_id, True, 12, Decimal("2.50"))]
    sale_services.sale_offers_update(sale_id=market.sale.pk, rows=rows)
    market.tomatoes.refresh_from_db()
    assert market.tomatoes.quantity == 12 and market.tomatoes.remaining == 8


def test_the_database_refuses_an_oversold_offer(market):
    with pytest.raises(IntegrityError), transaction.atomic():
        Offer.objects.filter(pk=market.wine.pk).update(sold=4)


def test_duplicating_a_past_sale_copies_points_producers_and_products(market):
    producer_services.product_update(product=market.tomatoes.product, price=Decimal("2.80"))
    copy = sale_services.sale_duplicate(
        sale=market.sale,
        title="La suivante",
        opens_at=timezone.now() + timedelta(days=7),
        closes_at=timezone.now() + timedelta(days=10),
        distribution_starts_at=local_at(12, time(17, 0)),
        distribution_ends_at=local_at(12, time(19, 0)),
    )
    assert not copy.is_published
    assert list(copy.distribution.points.all()) == [market.point]
    assert copy.offers.count() == 4
    assert copy.offers.get(name="Tomates").price == Decimal("2.80")  # today's catalogue price


def _schedule(market, **fields) -> RecurringSchedule:
    schedule = RecurringSchedule.objects.create(title="Drive du vendredi", **fields)
    schedule.points.set([market.point])
    schedule.producers.set([market.tomatoes.producer])
    return schedule


def _next_wednesday() -> date:
    today = timezone.localdate()
    return today + timedelta(days=(2 - today.weekday()) % 7 or 7)


def test_a_weekly_schedule_keeps_two_sales_ahead_and_runs_once(market):
    schedule = _schedule(market, kind=RecurringSchedule.Kind.WEEKLY)
    wednesday = _next_wednesday()
    now = datetime.combine(wednesday, time(12, 0), tzinfo=PARIS)
    created = sale_services.schedule_sales_create(schedule_id=schedule.pk, now=now)
    day = timedelta(days=1)
    assert [(sale.opens_at, sale.closes_at.date(), sale.distribution.date) for sale in created] == [
        (
            datetime.combine(wednesday + 3 * day, time(8, 0), tzinfo=PARIS),
            wednesday + 6 * day,
            wednesday + 9 * day,
        ),
        (
            datetime.combine(wednesday + 10 * day, time(8, 0), tzinfo=PARIS),
            wednesday + 13 * day,
            wednesday + 16 * day,
        ),
    ]
    assert [sale.opens_at.weekday() for sale in created] == [5, 5]  # Saturdays
    assert all(sale.is_published and sale.offers.count() == 4 for sale in created)
    assert sale_services.schedule_sales_create(schedule_id=schedule.pk, now=now) == []
    # A week later, one more sale is due.
    later = sale_services.schedule_sales_create(schedule_id=schedule.pk, now=now + 7 * day)
    assert [sale.opens_at for sale in later] == [
        datetime.combine(wednesday + 17 * day, time(8, 0), tzinfo=PARIS)
    ]


def test_a_weekly_schedule_skips_a_day_that_already_has_a_pickup_at_its_point(market):
    schedule = _schedule(market, kind=RecurringSchedule.Kind.WEEKLY)
    wednesday = _next_wednesday()
    now = datetime.combine(wednesday, time(12, 0), tzinfo=PARIS)
    first_friday = wednesday + timedelta(days=9)
    point_services.distribution_create(date=first_friday, points=[market.point], label="Permanence")
    created = sale_services.schedule_sales_create(schedule_id=schedule.pk, now=now)
    assert [sale.distribution.date for sale in created] == [
        first_friday + timedelta(days=7),
        first_friday + timedelta(days=14),
    ]
    assert sale_services.schedule_sales_create(schedule_id=schedule.pk, now=now) == []


def test_staff_tell_apart_two_distributions_of_one_day(market, alpha, browse):
    """A stand-alone distribution on the sale's pickup day: « Mes points de retrait », « Distributions »
    and the day page name the sale (with its hours) or say « hors vente »."""
    day = market.sale.distribution.date
    standalone = point_services.distribution_create(date=day, points=[market.point], label="Permanence")
    point_services.point_staff_add(collective=alpha.collective, point=market.point, user=alpha.staff)
    staff = browse(alpha, alpha.staff)
    page = words(staff.get("/points/"))
    when = f"{date_format(day, 'l j F').capitalize()} · "
    assert f"{when}Vente de la semaine · 17:00–19:00" in page
    assert f"{when}Distribution hors vente « Permanence »" in page
    listing = words(browse(alpha, alpha.coordinator).get("/distributions/"))
    assert (
        "Vente de la semaine · 17:00–19:00" in listing and "Distribution hors vente « Permanence »" in listing
    )
    sale_day = words(staff.get(f"/points/{market.point.pk}/distributions/{market.sale.distribution.pk}/"))
    other_day = words(staff.get(f"/points/{market.point.pk}/distributions/{standalone.pk}/"))
    assert "Vente de la semaine" in sale_day and "hors vente" not in sale_day
    assert "Distribution hors vente « Permanence »" in other_day and "Vente de la semaine" not in other_day


def test_a_monthly_order_form_opens_on_the_first(market):
    schedule = _schedule(
        market,
        kind=RecurringSchedule.Kind.MONTHLY,
        distribution_start=time(14, 0),
        distribution_end=time(17, 0),
        sales_ahead=1,
    )
    today = timezone.localdate()
    after = (today.replace(day=1) + timedelta(days=32)).replace(day=22)  # the 22nd of next month
    created = sale_services.schedule_sales_create(
        schedule_id=schedule.pk, now=datetime.combine(after, time(9, 0), tzinfo=PARIS)
    )
    assert len(created) == 1
    sale = created[0]
    first = (after.replace(day=1) + timedelta(days=32)).replace(day=1)
    assert sale.opens_at == datetime.combine(first, time(8, 0), tzinfo=PARIS)
    assert sale.closes_at == datetime.combine(first.replace(day=15), time(23, 59), tzinfo=PARIS)
    assert sale.distribution.date == first.replace(day=22)
    assert sale.distribution_starts_at == datetime.combine(first.replace(day=22), time(14, 0), tzinfo=PARIS)
    assert sale.status == Sale.Status.SCHEDULED


def test_a_distribution_day_without_point_hours_uses_the_sale_hours(in_alpha, market):
    from pickup_points import services as point_services

    saturdays_only = point_services.point_create(
        name="Centre social", address="2 rue", town="Agen", slot_minutes=60, slot_capacity=4
    )
    point_services.point_update(point=saturdays_only, hours=[(5, time(9, 0), time(12, 0))])
    day = timezone.localdate() + timedelta(days=10)
    while day.weekday() != 1:  # a Tuesday: the point has no hours that day
        day += timedelta(days=1)
    paris = timezone.get_current_timezone()
    sale = sale_services.sale_create(
        title="Bon de commande",
        opens_at=timezone.now(),
        closes_at=timezone.now() + timedelta(days=3),
        distribution_starts_at=datetime.combine(day, time(14, 0), tzinfo=paris),
        distribution_ends_at=datetime.combine(day, time(17, 0), tzinfo=paris),
        points=[saturdays_only, market.point],
        producers=[market.tomatoes.producer],
    )
    slots = sale.distribution.slots.filter(point=saturdays_only).order_by("starts_at")
    assert [timezone.localtime(slot.starts_at).time() for slot in slots] == [
        time(14, 0),
        time(15, 0),
        time(16, 0),
    ]
    assert {slot.capacity for slot in slots} == {4}
    # A point with hours on that weekday keeps its own hours (17:00–19:00 in 30-minute slots).
    assert sale.distribution.slots.filter(point=market.point).count() == 4


def test_sale_life_cycle_draft_scheduled_open_closed(market):
    sale = market.sale
    now = timezone.now()
    sale.is_published = False
    assert sale.status_at(now) == Sale.Status.DRAFT
    sale.is_published = True
    assert sale.status_at(sale.opens_at - timedelta(seconds=1)) == Sale.Status.SCHEDULED
    assert sale.status_at(sale.opens_at) == Sale.Status.OPEN
    assert sale.status_at(sale.closes_at - timedelta(seconds=1)) == Sale.Status.OPEN
    assert sale.status_at(sale.closes_at) == Sale.Status.CLOSED
    # Closed by the closing job before its time (jobs issue): closed whatever the clock says.
    sale.closed_at = now
    assert sale.status_at(sale.opens_at) == Sale.Status.CLOSED
    assert Sale.Status(sale.status).label == "close"
