"""The clock jobs: a sale's opening e-mail, the reminder (with opt-out), the close (exactly once, after a
crash or a downtime, producers' minimums), the recurring schedules, and the whole chain through a real
Celery worker on the real Redis."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from marketplace import clock
from marketplace.models import Membership, Role, User
from orders import tasks
from orders.checkout import services as checkout_services
from orders.closing import jobs
from orders.models import MemberPreferences, Offer, Order, OrderEvent, PaymentMethod, RecurringSchedule, Sale
from orders.sales import services as sale_services
from pickup_points.models import PickupSlot, SlotBooking
from producers import services as producer_services
from producers.models import Producer, Unit
from tests.conftest import text
from tests.orders.conftest import make_sale


class _WithoutSheets:
    """The outbox minus the PDF sheets a close e-mails (tests/orders/test_sheets.py checks those)."""

    def __init__(self, box):
        self.box = box

    def _messages(self):
        return [message for message in self.box if not message.attachments]

    def __iter__(self):
        return iter(self._messages())

    def __len__(self):
        return len(self._messages())

    def __getitem__(self, index):
        return self._messages()[index]

    def __eq__(self, other):
        return self._messages() == other

    __hash__ = None


@pytest.fixture
def mailoutbox(mailoutbox):
    return _WithoutSheets(mailoutbox)


@pytest.fixture
def members(alpha) -> list[User]:
    """Maud and two more active members of alpha; a pending member must hear nothing. The coordinator holds
    the member role too (collective_create), so she is a recipient as well."""
    extra = []
    for name in ["lea", "noe"]:
        user = User.objects.create_user(email=f"{name}@alpha.test", password="x", first_name=name.title())
        Membership.objects.create(user=user, collective=alpha.collective, roles=[Role.MEMBER])
        extra.append(user)
    pending = User.objects.create_user(email="pending@alpha.test", password="x")
    Membership.objects.create(
        user=pending, collective=alpha.collective, roles=[Role.MEMBER], status=Membership.Status.PENDING
    )
    return [alpha.member, *extra]


def _order(market, user, quantities, *, slot=0) -> Order:
    return checkout_services.order_place(
        sale_id=market.sale.pk,
        user=user,
        quantities=quantities,
        slot_id=market.slots[slot].pk,
        payment_method=PaymentMethod.CASH,
    )


def _sale_times(sale: Sale, **fields) -> Sale:
    """Set a sale's times directly; the clock's due-index is lowered as the sale services do."""
    Sale.objects.filter(pk=sale.pk).update(**fields)
    sale.refresh_from_db()
    clock.due_lower(at=sale.clock_next() or timezone.now())
    return sale


def _html(message) -> str:
    (body, mimetype), *_rest = message.alternatives
    assert mimetype == "text/html"
    return body


# Open -------------------------------------------------------------------------------------------------------


def test_open_sale_is_announced_once_to_every_active_member(
    market, members, alpha, mailoutbox, django_capture_on_commit_callbacks
):
    for _run in range(2):  # beat firing twice
        with django_capture_on_commit_callbacks(execute=True):
            jobs.due_sales_process()
    recipients = sorted(user.email for user in [*members, alpha.coordinator])
    assert sorted(message.to[0] for message in mailoutbox) == recipients
    message = mailoutbox[0]
    assert message.subject == "Drive Alpha : la vente « Vente de la semaine » est ouverte"
    closes = timezone.localtime(market.sale.closes_at)
    assert f"à {closes:%H:%M}" in message.body
    assert "Salle des fêtes, 1 place de la Mairie Agen" in message.body
    assert f"http://alpha.localhost/ventes/{market.sale.pk}/" in message.body
    assert f'href="http://alpha.localhost/ventes/{market.sale.pk}/"' in _html(message)
    market.sale.refresh_from_db()
    assert market.sale.opened_notified_at is not None


def test_a_sale_not_open_yet_or_unpublished_is_not_announced(
    market, members, mailoutbox, django_capture_on_commit_callbacks
):
    later = make_sale(market.point, [market.tomatoes.producer], opens_in_days=1, title="Plus tard")
    _sale_times(market.sale, is_published=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.due_sales_process()["opened"] == 0
    assert mailoutbox == []
    later.refresh_from_db()
    assert later.opened_notified_at is None


# Remind -----------------------------------------------------------------------------------------------------


def test_reminder_goes_once_to_members_without_order_who_did_not_opt_out(
    market, members, alpha, mailoutbox, django_capture_on_commit_callbacks
):
    maud, lea, noe = members
    _order(market, maud, {market.tomatoes.pk: 1})
    checkout_services.member_preferences_update(user=lea, reminders=False)
    checkout_services.member_preferences_update(user=alpha.coordinator, reminders=True)  # an explicit "yes"
    _sale_times(
        market.sale, closes_at=timezone.now() + timedelta(hours=10), opened_notified_at=timezone.now()
    )
    for _run in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            jobs.due_sales_process()
    assert sorted(message.to[0] for message in mailoutbox) == sorted([noe.email, alpha.coordinator.email])
    message = mailoutbox[0]
    assert "ferme bientôt" in message.subject
    assert "vous n'avez pas encore commandé" in message.body
    assert "http://alpha.localhost/mes-preferences/" in message.body
    assert 'href="http://alpha.localhost/mes-preferences/"' in _html(message)


def test_no_reminder_before_the_last_24_hours(
    market, members, mailoutbox, django_capture_on_commit_callbacks
):
    _sale_times(market.sale, opened_notified_at=timezone.now())  # closes in 2 days
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.sale_remind(sale_id=market.sale.pk) == 0
    assert mailoutbox == []


# Close ------------------------------------------------------------------------------------------------------


def test_close_freezes_the_orders_exactly_once(
    market, members, mailoutbox, django_capture_on_commit_callbacks
):
    maud, lea, _noe = members
    order = _order(market, maud, {market.tomatoes.pk: 2})
    _sale_times(market.sale, closes_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.sale_close(sale_id=market.sale.pk) is True
        assert jobs.sale_close(sale_id=market.sale.pk) is False
        assert jobs.due_sales_process()["closed"] == 0
    market.sale.refresh_from_db()
    closed_at = market.sale.closed_at
    assert closed_at is not None and market.sale.status == Sale.Status.CLOSED
    # Even if a coordinator pushed the closing time back, the closed sale stays frozen.
    _sale_times(market.sale, closes_at=timezone.now() + timedelta(hours=1))
    assert market.sale.status == Sale.Status.CLOSED
    with pytest.raises(checkout_services.OrderRefused, match="close"):
        checkout_services.order_update(
            order_id=order.pk,
            user=maud,
            quantities={market.tomatoes.pk: 3},
            slot_id=market.slots[0].pk,
            payment_method=PaymentMethod.CASH,
        )
    with pytest.raises(checkout_services.OrderRefused, match="close"):
        checkout_services.order_cancel(order_id=order.pk, user=maud)
    with pytest.raises(checkout_services.OrderRefused, match="close"):
        _order(market, lea, {market.cheese.pk: 1})
    order.refresh_from_db()
    assert order.is_placed and order.total == Decimal("5.00")
    assert Sale.objects.get(pk=market.sale.pk).closed_at == closed_at
    assert mailoutbox == []  # nobody's minimum in play: no e-mail but the sheets'


def test_a_sale_whose_closing_passed_during_a_downtime_is_closed_by_the_next_run(
    market, members, mailoutbox, django_capture_on_commit_callbacks
):
    old = make_sale(market.point, [market.tomatoes.producer], opens_in_days=1, title="Vente d'avant")
    now = timezone.now()  # opened a month ago, closed three weeks ago: the workers were down all along
    _sale_times(old, opens_at=now - timedelta(days=30), closes_at=now - timedelta(days=21))
    with django_capture_on_commit_callbacks(execute=True):
        tasks.tenants_due_sales.delay()  # the beat fan-out, run eagerly: every collective's sales
    old.refresh_from_db()
    assert old.closed_at is not None
    assert old.opened_notified_at is None and old.reminded_at is None  # no stale "open" or reminder e-mail
    assert all("Vente d'avant" not in message.subject for message in mailoutbox)


def test_a_close_that_crashes_midway_leaves_nothing_and_is_redone(
    market, members, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    maud, lea, _noe = members
    Producer.objects.filter(pk=market.tomatoes.producer_id).update(minimum_order_amount=Decimal("100"))
    _order(market, maud, {market.tomatoes.pk: 2})
    _sale_times(market.sale, closes_at=timezone.now() - timedelta(minutes=1))

    def killed(sale):
        raise RuntimeError("worker lost")

    monkeypatch.setattr(jobs, "on_sale_closed", killed)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        jobs.sale_close(sale_id=market.sale.pk)
    market.sale.refresh_from_db()
    market.tomatoes.refresh_from_db()
    assert market.sale.closed_at is None
    assert market.tomatoes.sold == 2 and Order.objects.get(user=maud).is_placed
    assert mailoutbox == []
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.due_sales_process()["closed"] == 1
        assert jobs.due_sales_process()["closed"] == 0
    market.tomatoes.refresh_from_db()
    assert market.tomatoes.sold == 0
    assert [message.to for message in mailoutbox] == [[maud.email]]  # no producer account, no contact


@pytest.fixture
def bakery(market) -> Offer:
    """A second producer in the market's sale, without a minimum."""
    baker = producer_services.producer_create(name="Fournil de Lou", town="Agen")
    bread = producer_services.product_create(
        producer=baker, name="Pain de campagne", price=Decimal("3.60"), unit=Unit.PIECE, stock=None
    )
    market.sale.producers.add(baker)
    sale_services.sale_offers_update(
        sale_id=market.sale.pk, rows=[sale_services.OfferRow(bread.pk, True, None, bread.price)]
    )
    return Offer.objects.get(sale=market.sale, product=bread)


def test_lines_of_a_producer_below_its_minimum_are_cancelled_at_closing(
    market, bakery, members, alpha, mailoutbox, django_capture_on_commit_callbacks
):
    maud, lea, noe = members
    farm = market.tomatoes.producer
    Producer.objects.filter(pk=farm.pk).update(
        minimum_order_amount=Decimal("20"), contact_email="pech@ferme.test"
    )
    producer_services.producer_account_link(producer=farm, user=alpha.producer)
    mixed = _order(market, maud, {market.tomatoes.pk: 2, bakery.pk: 1}, slot=0)  # 5.00 + 3.60
    farm_only = _order(market, lea, {market.cheese.pk: 1}, slot=1)  # 4.20: farm total 9.20 < 20
    bread_only = _order(market, noe, {bakery.pk: 2}, slot=1)
    slot = PickupSlot.objects.get(pk=market.slots[1].pk)
    assert slot.reserved == 2
    _sale_times(market.sale, closes_at=timezone.now() - timedelta(minutes=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.sale_close(sale_id=market.sale.pk) is True

    mixed.refresh_from_db()
    assert mixed.is_placed and mixed.total == Decimal("3.60")
    assert [(line.name, line.quantity) for line in mixed.lines.all()] == [("Pain de campagne", 1)]
    farm_only.refresh_from_db()
    assert farm_only.status == Order.Status.CANCELLED and farm_only.total == 0
    assert farm_only.booking is None and not farm_only.lines.exists()
    assert not SlotBooking.objects.filter(user=lea).exists()
    slot.refresh_from_db()
    assert slot.reserved == 1  # Léa's place is free, Noé keeps his
    bread_only.refresh_from_db()
    assert bread_only.is_placed and bread_only.total == Decimal("7.20")
    for offer, sold in [(market.tomatoes, 0), (market.cheese, 0), (bakery, 3)]:
        offer.refresh_from_db()
        assert offer.sold == sold
    assert OrderEvent.objects.filter(order=mixed, kind="lines_cancelled").count() == 1
    assert OrderEvent.objects.filter(order=farm_only, kind="cancelled").count() == 1

    by_recipient = {tuple(message.to): message for message in mailoutbox}
    assert set(by_recipient) == {(maud.email,), (lea.email,), ("pech@ferme.test", alpha.producer.email)}
    to_maud = by_recipient[(maud.email,)]
    assert "- 2 × Tomates" in to_maud.body and "Nouveau total TTC : 3,60\xa0€" in to_maud.body
    assert f"http://alpha.localhost/commandes/{mixed.pk}/" in to_maud.body
    assert "2 × Tomates" in _html(to_maud)
    assert "elle est annulée" in by_recipient[(lea.email,)].body
    to_farm = by_recipient[("pech@ferme.test", alpha.producer.email)]
    assert "minimum de commande non atteint" in to_farm.subject
    assert "9,20\xa0€" in to_farm.body and "20,00\xa0€" in to_farm.body

    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.sale_close(sale_id=market.sale.pk) is False
    assert len(mailoutbox) == 3


# Schedules --------------------------------------------------------------------------------------------------


def test_schedules_make_their_next_sales_once_and_a_broken_one_does_not_stop_the_others(
    market, monkeypatch, caplog
):
    farm = market.tomatoes.producer
    schedule = sale_services.schedule_create(
        title="Drive du jeudi", kind=RecurringSchedule.Kind.WEEKLY, points=[market.point], producers=[farm]
    )
    broken = sale_services.schedule_create(
        title="Cassée", kind=RecurringSchedule.Kind.WEEKLY, points=[market.point], producers=[farm]
    )
    real = sale_services.schedule_sales_create

    def refuse_broken(*, schedule_id, now=None):
        if schedule_id == broken.pk:
            raise sale_services.ValidationError("plus de point de retrait")
        return real(schedule_id=schedule_id, now=now)

    monkeypatch.setattr(sale_services, "schedule_sales_create", refuse_broken)
    assert jobs.schedules_run() == 2
    assert jobs.schedules_run() == 0
    assert schedule.sales.count() == 2 and not broken.sales.exists()
    assert "plus de point de retrait" in caplog.text


# Preferences page -------------------------------------------------------------------------------------------


def _reminders_checked(page: str) -> bool:
    field = re.search(r'<input[^>]*name="reminders"[^>]*>', page)
    assert field, page
    return "checked" in field.group(0)


def test_a_member_opts_out_of_reminders_on_their_preferences_page(browse, alpha, beta, members):
    maud, lea, _noe = members
    page = browse(alpha, maud)
    assert "/mes-preferences/" in text(page.get("/commandes/"))
    assert _reminders_checked(text(page.get("/mes-preferences/")))
    response = page.post("/mes-preferences/", {})
    assert response.status_code == 302
    assert "Vos préférences sont enregistrées." in text(page.get(response.url))
    assert not _reminders_checked(text(page.get("/mes-preferences/")))
    connection.set_tenant(alpha.collective)
    assert list(MemberPreferences.objects.values_list("user_id", "reminders")) == [(maud.pk, False)]
    # Another member still has the reminders; the choice stays in alpha.
    assert _reminders_checked(text(browse(alpha, lea).get("/mes-preferences/")))
    assert _reminders_checked(text(browse(beta, beta.member).get("/mes-preferences/")))
    assert browse(beta, maud).get("/mes-preferences/").status_code == 403
    assert browse(alpha, alpha.producer).get("/mes-preferences/").status_code == 403
    assert browse(alpha).get("/mes-preferences/").status_code == 302
    connection.set_tenant(beta.collective)
    assert not MemberPreferences.objects.exists()


# Concurrency and the real worker (real transactions) --------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_workers_closing_at_once_close_once(market, members, monkeypatch):
    maud, *_others = members
    Producer.objects.filter(pk=market.tomatoes.producer_id).update(minimum_order_amount=Decimal("100"))
    _order(market, maud, {market.tomatoes.pk: 2})
    mail.outbox.clear()
    _sale_times(market.sale, closes_at=timezone.now() - timedelta(minutes=1))
    hooks = []

    def slow_hook(sale):  # keeps the first closer's transaction open while the second one arrives
        hooks.append(sale.pk)
        time.sleep(0.5)

    monkeypatch.setattr(jobs, "on_sale_closed", slow_hook)
    barrier = threading.Barrier(2)
    results, errors = [], []
    tenant = connection.tenant

    def close():
        connection.set_tenant(tenant)
        try:
            barrier.wait()
            results.append(jobs.sale_close(sale_id=market.sale.pk))
        except Exception as error:  # noqa: BLE001 - any error is a failure of the test
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=close) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    connection.set_tenant(tenant)
    assert errors == []
    assert sorted(results) == [False, True]
    assert hooks == [market.sale.pk]
    assert jobs.sale_close(sale_id=market.sale.pk) is False  # and a later run finds nothing
    market.tomatoes.refresh_from_db()
    assert market.tomatoes.sold == 0  # released once, not twice (the counter would have refused)
    assert [message.to for message in mail.outbox] == [[maud.email]]


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_closes_a_sale_whose_closing_time_has_passed(market, members, real_worker):
    maud, *_others = members
    order = _order(market, maud, {market.tomatoes.pk: 2})
    _sale_times(market.sale, closes_at=timezone.now() - timedelta(seconds=5))
    tasks.tenants_due_sales.delay()
    deadline = time.monotonic() + 30
    while Sale.objects.get(pk=market.sale.pk).closed_at is None and time.monotonic() < deadline:
        time.sleep(0.1)
    sale = Sale.objects.get(pk=market.sale.pk)
    assert sale.closed_at is not None and sale.closed_at <= timezone.now()
    with pytest.raises(checkout_services.OrderRefused):
        checkout_services.order_cancel(order_id=order.pk, user=maud)


def test_two_beats_ticking_in_the_same_minute_fan_out_once(market, members, mailoutbox, monkeypatch):
    fanned_out = []
    monkeypatch.setattr(tasks.sales_due_process, "delay", lambda **kwargs: fanned_out.append(kwargs))
    tasks.tenants_due_sales()
    tasks.tenants_due_sales()  # the second beat, a few hundred milliseconds later
    schemas = [kwargs["schema_name"] for kwargs in fanned_out]
    assert schemas.count(connection.schema_name) == 1 and len(schemas) == len(set(schemas))
