"""The clock's due-index (marketplace.ClockDue): beat's minute tick visits only the collectives that are due,
the services keep each collective's moment current, a missing row is due, a suspended collective stands
still, and a recomputation never loses a change being committed next to it."""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from marketplace import services as marketplace_services
from marketplace.models import ClockDue, FollowUp
from orders import tasks
from orders.closing import due, jobs
from orders.models import Sale
from orders.sales import services as sale_services

PARIS = ZoneInfo("Europe/Paris")


def at(day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2027, 1, day, hour, minute, second, tzinfo=PARIS)


@pytest.fixture
def travel():
    """Monday 4 January 2027, 9:00 in Paris, standing still until moved."""
    with time_machine.travel(at(4, 9, 0), tick=False) as traveller:
        yield traveller


def tick(travel, moment: datetime) -> None:
    """Beat's minute tick at `moment`; the collectives' jobs run at once (eager Celery in the tests)."""
    travel.move_to(moment)
    schema = connection.schema_name
    tasks.tenants_due_sales()
    connection.set_schema(schema)


def row(cast) -> ClockDue:
    return ClockDue.objects.get(collective=cast.collective)


def late_sale(market) -> Sale:
    """A sale that opened this morning and closes on Tuesday at 23:59, as many sales of the platform do."""
    return sale_services.sale_create(
        title="Vente du mardi soir",
        opens_at=at(4, 8, 0),
        closes_at=at(5, 23, 59),
        distribution_starts_at=datetime.combine(datetime(2027, 1, 8), time(17, 0), tzinfo=PARIS),
        distribution_ends_at=datetime.combine(datetime(2027, 1, 8), time(19, 0), tzinfo=PARIS),
        points=[market.point],
        producers=[market.tomatoes.producer],
        publish=True,
    )


def test_a_sale_closing_at_23_59_is_closed_by_the_first_tick_after_and_once(travel, market, alpha):
    sale = late_sale(market)
    tick(travel, at(4, 9, 0, 20))  # first visit: the opening e-mails; then the collective's next moment
    assert row(alpha).next_due == at(4, 23, 59)  # the 23:59 sale's reminder, 24 hours before
    tick(travel, at(4, 23, 59, 20))
    sale.refresh_from_db()
    assert sale.reminded_at == at(4, 23, 59, 20)
    assert row(alpha).next_due == market.sale.closes_at - timedelta(hours=24)  # the market sale's reminder
    tick(travel, market.sale.closes_at - timedelta(hours=24) + timedelta(seconds=20))
    assert row(alpha).next_due == at(5, 23, 59)

    tick(travel, at(5, 23, 58, 20))
    sale.refresh_from_db()
    assert sale.closed_at is None  # one minute early: orders still open
    tick(travel, at(5, 23, 59, 20))
    sale.refresh_from_db()
    assert sale.closed_at == at(5, 23, 59, 20)
    tick(travel, at(6, 0, 0, 20))
    tick(travel, at(6, 0, 1, 20))
    sale.refresh_from_db()
    assert sale.closed_at == at(5, 23, 59, 20)
    sheets = FollowUp.objects.filter(task="orders.tasks.sheets_make", kwargs__sale_id=sale.pk)
    assert sheets.count() == 1  # the sheets of the close, made once
    assert row(alpha).computed_at == at(5, 23, 59, 20)  # nobody visited alpha after the close
    assert row(alpha).next_due == market.sale.closes_at  # next: the market sale's closing


def test_moving_a_sale_closing_time_moves_its_moment(travel, market, alpha):
    tick(travel, at(4, 9, 0, 20))
    closes = market.sale.closes_at
    assert row(alpha).next_due == closes - timedelta(hours=24)  # its reminder

    earlier = closes - timedelta(hours=12)
    sale_services.sale_window_move(sale_id=market.sale.pk, opens_at=market.sale.opens_at, closes_at=earlier)
    assert row(alpha).next_due == earlier - timedelta(hours=24)  # at once, in the service's transaction

    later = closes + timedelta(days=2)
    sale_services.sale_window_move(sale_id=market.sale.pk, opens_at=market.sale.opens_at, closes_at=later)
    assert row(alpha).next_due == earlier - timedelta(hours=24)  # early is harmless: one visit, then exact
    tick(travel, earlier - timedelta(hours=24) + timedelta(seconds=20))
    sale = Sale.objects.get(pk=market.sale.pk)
    assert sale.reminded_at is None and sale.closed_at is None
    assert row(alpha).next_due == later - timedelta(hours=24)
    tick(travel, later + timedelta(seconds=20))
    assert Sale.objects.get(pk=market.sale.pk).closed_at == later + timedelta(seconds=20)


def test_a_tick_with_nothing_due_reads_one_row_set_and_visits_nobody(travel, market, alpha, beta):
    tick(travel, at(4, 9, 0, 20))  # every collective once: none had a row yet
    visited = {cast.collective.pk: row(cast).computed_at for cast in (alpha, beta)}
    assert row(beta).next_due is None  # beta has nothing to do until something changes

    travel.move_to(at(4, 9, 1, 20))
    with CaptureQueriesContext(connection) as queries:
        tasks.tenants_due_sales()
    assert len(queries) == 1  # the due-index, whatever the number of collectives; no job was run
    assert {cast.collective.pk: row(cast).computed_at for cast in (alpha, beta)} == visited


def test_a_collective_without_a_row_is_due(travel, market, alpha):
    tick(travel, at(4, 9, 0, 20))
    Sale.objects.filter(pk=market.sale.pk).update(closes_at=at(4, 9, 1))  # behind the services' back
    ClockDue.objects.filter(collective=alpha.collective).delete()  # and the row is lost
    tick(travel, at(4, 9, 1, 20))
    assert Sale.objects.get(pk=market.sale.pk).closed_at == at(4, 9, 1, 20)
    assert row(alpha).computed_at == at(4, 9, 1, 20)


def test_the_hourly_pass_corrects_a_wrong_row(travel, market, alpha):
    tick(travel, at(4, 9, 0, 20))
    Sale.objects.filter(pk=market.sale.pk).update(closes_at=at(4, 9, 30))  # behind the services' back
    tick(travel, at(4, 9, 31, 20))
    assert Sale.objects.get(pk=market.sale.pk).closed_at is None  # the row said: the reminder, tomorrow
    travel.move_to(at(4, 10, 7, 5))
    tasks.tenants_clock_check()
    connection.set_tenant(alpha.collective)
    assert Sale.objects.get(pk=market.sale.pk).closed_at == at(4, 10, 7, 5)


def test_a_suspended_collective_stands_still(travel, market, alpha):
    tick(travel, at(4, 9, 0, 20))
    sale_services.sale_window_move(
        sale_id=market.sale.pk, opens_at=market.sale.opens_at, closes_at=at(4, 12, 0)
    )
    marketplace_services.collective_suspend(collective_id=alpha.collective.pk)
    before = row(alpha).computed_at
    tick(travel, at(4, 12, 0, 20))
    travel.move_to(at(4, 13, 7, 5))
    tasks.tenants_clock_check()
    connection.set_tenant(alpha.collective)
    assert Sale.objects.get(pk=market.sale.pk).closed_at is None
    assert row(alpha).computed_at == before

    marketplace_services.collective_reactivate(collective_id=alpha.collective.pk)
    tick(travel, at(4, 13, 8, 20))
    assert Sale.objects.get(pk=market.sale.pk).closed_at == at(4, 13, 8, 20)


def test_a_new_schedule_makes_its_sales_at_the_next_tick(travel, market, alpha):
    tick(travel, at(4, 9, 0, 20))
    schedule = sale_services.schedule_create(
        title="Drive du vendredi",
        kind="weekly",
        points=[market.point],
        producers=[market.tomatoes.producer],
        open_weekday=5,
        close_weekday=1,
        distribution_weekday=4,
    )
    assert row(alpha).next_due == at(4, 9, 0, 20)  # now: the next tick makes its first sales
    tick(travel, at(4, 9, 1, 20))
    assert schedule.sales.count() == 2
    first_close = min(schedule.sales.values_list("closes_at", flat=True))
    assert row(alpha).next_due <= first_close


@pytest.mark.django_db(transaction=True)
def test_a_recomputation_next_to_a_committing_change_loses_nothing(market, alpha):
    """A coordinator moves a closing while the collective's job recomputes its moment: the job must not
    write a moment computed without that change."""
    sale = market.sale
    jobs.clock_run()  # the opening e-mails, then the moment: the reminder
    moment = row(alpha).next_due
    assert moment == sale.closes_at - timedelta(hours=24)
    moved = sale.closes_at - timedelta(days=1)
    changed, release = threading.Event(), threading.Event()
    errors = []

    def coordinator():
        connection.set_tenant(alpha.collective)
        try:
            with transaction.atomic():
                sale_services.sale_window_move(sale_id=sale.pk, opens_at=sale.opens_at, closes_at=moved)
                changed.set()
                release.wait(10)  # not committed yet while the job recomputes
        except Exception as error:  # noqa: BLE001 - any error is a failure of the test
            errors.append(repr(error))
        finally:
            connection.close()

    thread = threading.Thread(target=coordinator)
    thread.start()
    assert changed.wait(10)
    assert due.due_refresh() is False  # the change holds the collective's clock: nothing written
    assert row(alpha).next_due == moment
    release.set()
    thread.join()
    assert errors == []
    assert row(alpha).next_due == moved - timedelta(hours=24)  # the change lowered it at its commit
    assert due.due_refresh() == moved - timedelta(hours=24)
