"""Redis gone (the cache and the broker: in production they are one server): members still sign in, see the
sale and order, and staff still record an on-site payment. What should follow (the confirmation e-mail)
waits as a follow-up until Redis is back. The cache backend degrades (marketplace.cache); the broker's
absence is the outbox's business (marketplace.followups)."""

from __future__ import annotations

import pytest
from django.db import connection

from config.celery import app
from marketplace.models import FollowUp
from orders.models import Order, Payment, PaymentMethod
from pickup_points import services as point_services
from tests.conftest import PASSWORD, text
from tests.orders.test_closing_faults import _use_broker

NOBODY = "redis://127.0.0.1:1/0"  # nothing listens on port 1: every connection is refused at once


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": NOBODY}}
    settings.CELERY_TASK_ALWAYS_EAGER = False
    previous = app.conf.broker_url
    app.conf.task_always_eager = False
    _use_broker(NOBODY)
    try:
        yield
    finally:
        _use_broker(previous)
        app.conf.task_always_eager = True


def test_without_redis_members_order_and_staff_take_payments(
    market, alpha, browse, redis_down, mailoutbox, django_capture_on_commit_callbacks
):
    signing_in = browse(alpha)
    signed_in = signing_in.post("/accounts/login/", {"login": alpha.member.email, "password": PASSWORD})
    assert signed_in.status_code == 302  # the sign-in rate limits live in the cache: they step aside

    member = browse(alpha, alpha.member)
    assert "Tomates" in text(member.get(f"/ventes/{market.sale.pk}/"))
    member.post(f"/ventes/{market.sale.pk}/", {f"qty_{market.tomatoes.pk}": 2})
    with django_capture_on_commit_callbacks(execute=True):
        placed = member.post(
            f"/ventes/{market.sale.pk}/commander/",
            {"slot": market.slots[0].pk, "payment_method": PaymentMethod.CASH},
            follow=True,
        )
    order = Order.objects.get(user=alpha.member)
    assert placed.status_code == 200
    assert f"Merci ! Votre commande {order.number} est enregistrée." in text(placed)
    assert mailoutbox == []
    confirmation = FollowUp.objects.get(
        schema_name=connection.schema_name, task="orders.tasks.order_confirmation_send"
    )
    assert confirmation.done_at is None and confirmation.queued_at is None  # waits for the sweeper

    point_services.point_staff_add(collective=alpha.collective, point=market.point, user=alpha.staff)
    staff = browse(alpha, alpha.staff)
    prefix = f"order{order.pk}"
    with django_capture_on_commit_callbacks(execute=True):
        paid = staff.post(
            f"/points/commandes/{order.pk}/paiement/",
            {f"{prefix}-method": "cash", f"{prefix}-amount": "5,00", f"{prefix}-note": ""},
            follow=True,
        )
    assert paid.status_code == 200
    assert f"Panier n° {order.basket_number} : paiement de 5,00" in text(paid)
    assert Payment.objects.get(order=order).amount == 5
