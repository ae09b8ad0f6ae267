"""The same payment scenarios through orders.stripe_gateway, against the Stripe double and, when real
test-mode keys are given, against Stripe's test mode:

    STRIPE_TEST_SECRET_KEY=sk_test_…  STRIPE_TEST_ACCOUNT=acct_… (an onboarded connected test account)

Without those two variables the Stripe runs are skipped (these machines cannot reach Stripe). Only the way
the card is paid differs: the double's hosted page here, a confirmed PaymentIntent with Stripe's test card
`pm_card_visa` there (a hosted page cannot be filled in without a browser).
"""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal

import pytest
import stripe
from django.utils import timezone

from orders.payments import gateway
from tests.orders.conftest import STRIPE_TEST_KEY

BACKENDS = [
    "double",
    pytest.param(
        "stripe",
        marks=pytest.mark.skipif(
            not (os.environ.get("STRIPE_TEST_SECRET_KEY") and os.environ.get("STRIPE_TEST_ACCOUNT")),
            reason="no Stripe test-mode key (STRIPE_TEST_SECRET_KEY, STRIPE_TEST_ACCOUNT)",
        ),
    ),
]


@pytest.fixture(params=BACKENDS)
def backend(request, settings, stripe_double):
    if request.param == "stripe":
        settings.STRIPE_SECRET_KEY = os.environ["STRIPE_TEST_SECRET_KEY"]
        settings.STRIPE_API_BASE = ""
        return request.param, os.environ["STRIPE_TEST_ACCOUNT"]
    settings.STRIPE_SECRET_KEY = STRIPE_TEST_KEY
    settings.STRIPE_API_BASE = stripe_double.url
    account = gateway.account_create(email="scenario@etal.test", name="Scénario", schema_name="scenario")
    stripe_double.onboard(account.id)
    return request.param, account.id


def _session(account: str, amount: Decimal, capture_method: str, key: str):
    return gateway.checkout_session_create(
        account=account,
        idempotency_key=key,
        description="Commande de test",
        amount=amount,
        capture_method=capture_method,
        metadata={"schema": "scenario", "order_id": "1", "payment_id": key},
        email="membre@etal.test",
        success_url="https://example.test/ok?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="https://example.test/retour",
        expires_at=int((timezone.now() + timedelta(minutes=45)).timestamp()),
    )


def _authorised_intent(backend_name: str, account: str, amount: Decimal, key: str, double) -> str:
    if backend_name == "double":
        session = _session(account, amount, "manual", key)
        double.pay(session.id)
        return gateway.checkout_session_retrieve(account=account, session_id=session.id).payment_intent
    intent = gateway.client().v1.payment_intents.create(
        {
            "amount": gateway.cents(amount),
            "currency": "eur",
            "capture_method": "manual",
            "payment_method": "pm_card_visa",
            "payment_method_types": ["card"],
            "confirm": True,
        },
        {"stripe_account": account, "idempotency_key": key},
    )
    return intent.id


def test_a_checkout_session_is_open_for_the_order_amount_then_expires(backend):
    _name, account = backend
    key = f"scenario-session-{timezone.now().timestamp()}"
    session = _session(account, Decimal("27.60"), "manual", key)
    assert session.status == "open" and session.payment_status == "unpaid"
    assert session.amount_total == 2760 and session.currency == "eur" and session.url
    assert _session(account, Decimal("27.60"), "manual", key).id == session.id  # idempotent
    gateway.checkout_session_expire(account=account, session_id=session.id)
    assert gateway.checkout_session_retrieve(account=account, session_id=session.id).status == "expired"


def test_authorise_capture_lower_then_refund_part(backend, stripe_double):
    name, account = backend
    stamp = timezone.now().timestamp()
    intent_id = _authorised_intent(name, account, Decimal("27.60"), f"scenario-pay-{stamp}", stripe_double)
    intent = gateway.payment_intent_retrieve(account=account, payment_intent_id=intent_id)
    assert intent.status == "requires_capture" and intent.amount_capturable == 2760
    with pytest.raises(stripe.InvalidRequestError):
        gateway.payment_intent_capture(
            account=account,
            payment_intent_id=intent_id,
            amount=Decimal("30"),
            idempotency_key=f"over-{stamp}",
        )
    captured = gateway.payment_intent_capture(
        account=account, payment_intent_id=intent_id, amount=Decimal("22.80"), idempotency_key=f"cap-{stamp}"
    )
    assert captured.status == "succeeded" and captured.amount_received == 2280
    refund = gateway.refund_create(
        account=account,
        payment_intent_id=intent_id,
        amount=Decimal("2.50"),
        idempotency_key=f"refund-{stamp}",
        metadata={"refund_id": "1"},
    )
    assert refund.status in ("succeeded", "pending") and refund.amount == 250
    listed = gateway.refunds_list(account=account, payment_intent_id=intent_id)
    assert [r.id for r in listed] == [refund.id]
    with pytest.raises(stripe.InvalidRequestError):
        gateway.refund_create(
            account=account,
            payment_intent_id=intent_id,
            amount=Decimal("25"),
            idempotency_key=f"refund-over-{stamp}",
            metadata={},
        )


def test_a_connect_transfer_is_made_once_then_partly_reversed_and_read_in_the_balance(backend):
    """Separate charges and transfers: the platform pays a connected account, a retry with the same key
    gets the same transfer, a reversal takes part of it back, the platform's balance lists both."""
    _name, account = backend
    started = int(timezone.now().timestamp()) - 5
    key = f"scenario-transfer-{started}"
    first = gateway.transfer_create(
        amount=Decimal("1.00"),
        destination=account,
        transfer_group="scenario-sale-1",
        description="Relevé de test",
        metadata={"schema": "scenario", "statement_id": "1"},
        idempotency_key=key,
    )
    again = gateway.transfer_create(
        amount=Decimal("1.00"),
        destination=account,
        transfer_group="scenario-sale-1",
        description="Relevé de test",
        metadata={"schema": "scenario", "statement_id": "1"},
        idempotency_key=key,
    )
    assert again.id == first.id and first.amount == 100 and first.transfer_group == "scenario-sale-1"
    reversal = gateway.transfer_reversal_create(
        transfer_id=first.id, amount=Decimal("0.40"), metadata={"refund_id": "1"}, idempotency_key=key + "-r"
    )
    assert reversal.amount == 40 and gateway.transfer_retrieve(first.id).amount_reversed == 40
    lines = gateway.balance_transactions(account="", created_from=started, created_to=started + 3600)
    sources = {(line["type"], (line["source"] or {}).get("id")) for line in lines}
    assert ("transfer", first.id) in sources and ("transfer_refund", reversal.id) in sources
