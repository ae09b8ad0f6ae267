"""No Stripe call while a transaction is open: a card order's whole life (checkout, payment, its webhooks,
a goodwill refund, the member's cancellation) runs with the gateway's guard set to raise.

These tests are transactional: pytest-django does not wrap them in a transaction of their own, so any
`connection.in_atomic_block` seen by the gateway is the application's.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from devtools.stripe_double.webhooks import sign
from marketplace.models import StripeEvent
from orders.models import LedgerEntry, Order, PaymentStatus
from orders.payments import gateway
from tests.conftest import text
from tests.orders.conftest import WEBHOOK_SECRET
from tests.orders.test_payments import _back_from_stripe, _place_card_order, _session_id

pytestmark = pytest.mark.django_db(transaction=True)


def _deliver(client, event: dict):
    body = json.dumps(event).encode()
    tenant = connection.tenant
    try:
        return client.post(
            "/stripe/webhook/",
            body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign(body, WEBHOOK_SECRET),
        )
    finally:
        connection.set_tenant(tenant)


def test_a_card_order_from_checkout_to_refund_never_calls_stripe_inside_a_transaction(
    browse, alpha, card_market, stripe_on, settings, public_host
):
    settings.SLOW_WORK_IN_TRANSACTION = "raise"
    before = len(stripe_on.events)
    client, response, order = _place_card_order(browse, alpha, card_market, {card_market.tomatoes: 2})
    assert response.status_code == 302 and response["Location"].startswith(stripe_on.url)

    back = _back_from_stripe(client, stripe_on.pay(_session_id(response)))
    assert "Merci, votre paiement est reçu" in text(back)
    webhook = browse(public_host)
    for event in stripe_on.events[before:]:
        assert _deliver(webhook, event).status_code == 200
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID

    coordinator = browse(alpha, alpha.coordinator)
    refunded = coordinator.post(
        f"/ventes/{card_market.sale.pk}/commandes/{order.pk}/remboursement/",
        {"kind": "goodwill", "amount": "1,00", "reason": "Une tomate abîmée"},
    )
    assert refunded.status_code == 302
    client.post(f"/commandes/{order.pk}/annuler/")
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED and order.payment_status == PaymentStatus.REFUNDED
    payment = order.payments.get()
    remote = gateway.refunds_list(
        account=payment.stripe_account, payment_intent_id=payment.stripe_payment_intent_id
    )
    assert sorted(refund.amount for refund in remote) == [100, 400]  # 1,00 € then the 4,00 € left
    page = text(client.get(f"/commandes/{order.pk}/"))
    assert "Une tomate abîmée" in page and "Commande annulée : remboursement intégral" in page
    # Everything went back: the cancelled order's entries leave nothing owed either way.
    assert sum(entry.amount for entry in LedgerEntry.objects.filter(order=order)) == 0
    with schema_context("public"):
        assert StripeEvent.objects.filter(applied_at__isnull=True).count() == 0


def test_the_guard_refuses_a_stripe_call_inside_a_transaction(alpha, card_market, settings):
    from django.db import transaction

    settings.SLOW_WORK_IN_TRANSACTION = "raise"
    with pytest.raises(gateway.CalledInTransaction), transaction.atomic():
        gateway.account_retrieve(alpha.collective.stripe_account_id or "acct_x")
