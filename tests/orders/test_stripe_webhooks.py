"""The Stripe webhook endpoint: signatures, duplicates, any order, routing to the right collective.

Events are the Stripe double's own (Stripe's object shapes), signed with Stripe's scheme by the double's
signer, and posted to the public endpoint as Stripe would. One test lets the double deliver them over HTTP
to a live server, twice and newest first.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import pytest
from django.db import IntegrityError, connection, transaction
from django_tenants.utils import schema_context, tenant_context

from devtools.stripe_double.webhooks import sign
from marketplace.models import Collective, StripeEvent
from orders.models import Order, Payment, PaymentMethod, PaymentStatus
from tests.orders.conftest import WEBHOOK_SECRET, stripe_connect

pytestmark = pytest.mark.usefixtures("stripe_on")


def _post(client, event: dict, secret: str = WEBHOOK_SECRET, signature: str | None = None):
    body = json.dumps(event).encode()
    headers = {} if signature == "" else {"HTTP_STRIPE_SIGNATURE": signature or sign(body, secret)}
    tenant = connection.tenant
    try:
        return client.post("/stripe/webhook/", body, content_type="application/json", **headers)
    finally:
        connection.set_tenant(tenant)  # the request ran on the public host


def _order_paid_by_card(browse, alpha, market, double) -> tuple[Order, list[dict]]:
    """A card order paid on the double's page; returns the order and the events the payment produced."""
    client = browse(alpha, alpha.member)
    client.post(f"/ventes/{market.sale.pk}/", {f"qty_{market.tomatoes.pk}": 2})
    response = client.post(
        f"/ventes/{market.sale.pk}/commander/", {"slot": market.slots[0].pk, "payment_method": "card"}
    )
    session_id = urlsplit(response["Location"]).path.rsplit("/", 1)[-1]
    before = len(double.events)
    double.pay(session_id)
    return Order.objects.get(user=alpha.member, status=Order.Status.PLACED), double.events[before:]


@pytest.fixture
def webhook(browse, public_host):
    return browse(public_host)


def test_the_events_of_a_payment_mark_the_order_paid(browse, alpha, card_market, stripe_on, webhook):
    order, events = _order_paid_by_card(browse, alpha, card_market, stripe_on)
    assert [event["type"] for event in events] == [
        "payment_intent.created",
        "payment_intent.succeeded",
        "charge.succeeded",
        "checkout.session.completed",
    ]
    account = Collective.objects.get(pk=alpha.collective.pk).stripe_account_id
    assert all(event["account"] == account for event in events)
    for event in events:
        assert _post(webhook, event).status_code == 200
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID
    with schema_context("public"):
        outcomes = dict(StripeEvent.objects.values_list("type", "outcome"))
    assert outcomes["payment_intent.created"] == "ignored" and outcomes["charge.succeeded"] == "ignored"
    assert outcomes["checkout.session.completed"].endswith("synced")


def test_a_second_delivery_changes_nothing(browse, alpha, card_market, stripe_on, webhook):
    order, events = _order_paid_by_card(browse, alpha, card_market, stripe_on)
    completed = events[-1]
    first = _post(webhook, completed)
    again = _post(webhook, completed)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.content == b"already received"
    with schema_context("public"):
        assert StripeEvent.objects.filter(event_id=completed["id"]).count() == 1
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED


def test_events_in_reverse_order_and_a_refund_before_the_payment(
    browse, alpha, card_market, stripe_on, webhook, django_capture_on_commit_callbacks
):
    order, events = _order_paid_by_card(browse, alpha, card_market, stripe_on)
    # Refunded from the collective's Stripe dashboard before any of our events arrived.
    payment = Payment.objects.get()
    intent_id = events[1]["data"]["object"]["id"]
    from orders.payments import gateway

    gateway.refund_create(
        account=payment.stripe_account,
        payment_intent_id=intent_id,
        amount=order.total,
        idempotency_key="dashboard-refund",
        metadata={},
    )
    refund_event = next(e for e in reversed(stripe_on.events) if e["type"] == "charge.refunded")
    assert _post(webhook, refund_event).status_code == 200
    for event in reversed(events):
        assert _post(webhook, event).status_code == 200
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and payment.stripe_payment_intent_id == intent_id
    refund = payment.refunds.get()
    assert refund.amount == order.total and refund.reason == "Remboursement fait depuis Stripe"
    assert order.payment_status == PaymentStatus.REFUNDED
    # The member sees the refund on the order.
    page = browse(alpha, alpha.member).get(f"/commandes/{order.pk}/").content.decode()
    assert "Remboursement fait depuis Stripe" in page


@pytest.mark.parametrize(
    "signature",
    ["", "t=1,v1=deadbeef", "garbage", None, f"t={int(time.time())},v1=\xe9abc"],
    ids=["missing", "forged", "garbage", "other-secret", "non-ascii"],
)
def test_a_bad_signature_is_refused_and_changes_nothing(
    browse, alpha, card_market, stripe_on, webhook, signature
):
    order, events = _order_paid_by_card(browse, alpha, card_market, stripe_on)
    body_secret = "whsec_someone_else" if signature is None else WEBHOOK_SECRET
    response = _post(webhook, events[-1], secret=body_secret, signature=signature)
    assert response.status_code == 400
    with schema_context("public"):
        assert not StripeEvent.objects.exists()
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.AWAITING


def test_a_dashboard_refund_with_foreign_metadata_is_a_refund_made_from_stripe(
    browse, alpha, card_market, stripe_on, webhook
):
    order, events = _order_paid_by_card(browse, alpha, card_market, stripe_on)
    for event in events:
        _post(webhook, event)
    payment = Payment.objects.get()
    from orders.payments import gateway

    gateway.refund_create(
        account=payment.stripe_account,
        payment_intent_id=payment.stripe_payment_intent_id,
        amount=order.total,
        idempotency_key="dashboard-refund-rmb",
        metadata={"refund_id": "RMB-2026-001"},
    )
    refund_event = next(e for e in reversed(stripe_on.events) if e["type"] == "charge.refunded")
    assert _post(webhook, refund_event).status_code == 200
    refund = payment.refunds.get()
    assert refund.reason == "Remboursement fait depuis Stripe" and refund.amount == order.total
    member = browse(alpha, alpha.member)
    back = member.get(f"/commandes/{order.pk}/paiement/", {"session_id": payment.stripe_session_id})
    assert back.status_code == 200  # the return page reads Stripe again: no error on foreign metadata
    assert "Remboursement fait depuis Stripe" in member.get(f"/commandes/{order.pk}/").content.decode()


def test_an_event_that_cannot_be_applied_yet_is_applied_by_its_next_delivery(
    browse, alpha, card_market, stripe_on, webhook, settings
):
    order, events = _order_paid_by_card(browse, alpha, card_market, stripe_on)
    api_base = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # Stripe unreachable: nothing listens there
    first = _post(webhook, events[-1])
    assert (first.status_code, first.content) == (503, b"retry later")
    with schema_context("public"):
        assert StripeEvent.objects.get(event_id=events[-1]["id"]).applied_at is None
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.AWAITING
    settings.STRIPE_API_BASE = api_base
    again = _post(webhook, events[-1])
    assert again.status_code == 200 and again.content.endswith(b"synced")
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID
    assert _post(webhook, events[-1]).content == b"already received"


def test_one_stripe_account_belongs_to_one_collective(alpha, beta, card_market):
    account = type(alpha.collective).objects.get(pk=alpha.collective.pk).stripe_account_id
    assert account
    with pytest.raises(IntegrityError), transaction.atomic():
        type(beta.collective).objects.filter(pk=beta.collective.pk).update(stripe_account_id=account)
    assert type(beta.collective).objects.filter(stripe_account_id="").count() >= 1  # empty stays allowed


def test_a_tampered_body_is_refused(browse, alpha, card_market, stripe_on, webhook):
    order, events = _order_paid_by_card(browse, alpha, card_market, stripe_on)
    event = events[-1]
    signature = sign(json.dumps(event).encode(), WEBHOOK_SECRET)
    event["data"]["object"]["amount_total"] = 1
    assert _post(webhook, event, signature=signature).status_code == 400


def test_an_event_of_an_unknown_account_changes_nothing(browse, alpha, card_market, stripe_on, webhook):
    order, events = _order_paid_by_card(browse, alpha, card_market, stripe_on)
    event = dict(events[-1], id="evt_unknown_account", account="acct_nobody")
    response = _post(webhook, event)
    assert response.status_code == 200 and response.content == b"unknown account"
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.AWAITING


def test_an_event_for_another_collective_changes_nothing_there(
    browse, alpha, beta, card_market, stripe_on, webhook
):
    order, events = _order_paid_by_card(browse, alpha, card_market, stripe_on)
    with tenant_context(Collective.objects.get(pk=beta.collective.pk)):
        beta_account = stripe_connect(connection.tenant, stripe_on)
    # Beta's account, an alpha session: refused by its metadata, and without it beta has no such payment.
    response = _post(webhook, dict(events[-1], id="evt_beta_1", account=beta_account))
    assert response.content == b"other collective"
    bare = json.loads(json.dumps(events[-1]))
    bare["id"], bare["account"] = "evt_beta_2", beta_account
    bare["data"]["object"]["metadata"] = {}
    assert _post(webhook, bare).content == b"no such payment"
    # Alpha's account, but the object claims to belong to beta's schema: refused.
    claimed = json.loads(json.dumps(events[-1]))
    claimed["id"] = "evt_claims_beta"
    claimed["data"]["object"]["metadata"]["schema"] = beta.collective.schema_name
    assert _post(webhook, claimed).content == b"other collective"
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.AWAITING


def test_an_event_on_a_collective_host_is_not_the_endpoint(browse, alpha, card_market, stripe_on):
    order, events = _order_paid_by_card(browse, alpha, card_market, stripe_on)
    assert _post(browse(alpha), events[-1]).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_double_delivers_over_http_twice_and_newest_first(live_server, stripe_on, settings):
    """The whole path over HTTP: the double signs and posts to the live server's public endpoint, each
    event twice, newest first; the order ends paid and each event is recorded once."""
    from orders.checkout import services as checkout_services
    from orders.payments import services as payment_services
    from pickup_points import services as point_services
    from producers import services as producer_services
    from tests.conftest import _load_cast
    from tests.orders.conftest import make_sale

    alpha = _load_cast("alpha")
    port = urlsplit(live_server.url).port
    stripe_on.dispatcher.url = f"http://localhost:{port}/stripe/webhook/"
    try:
        with tenant_context(alpha.collective):
            stripe_connect(connection.tenant, stripe_on)
            payment_services.shop_settings_update(payment_methods=[PaymentMethod.CARD])
            farm = producer_services.producer_create(name="Ferme", town="Agen")
            producer_services.product_create(producer=farm, name="Miel", price=8, unit="jar", stock=5)
            point = point_services.point_create(
                name="Mairie", address="1 place", town="Agen", slot_minutes=30, slot_capacity=3
            )
            from datetime import time as clock

            point_services.point_update(point=point, hours=[(d, clock(17), clock(19)) for d in range(7)])
            sale = make_sale(point, [farm])
            order = checkout_services.order_place(
                sale_id=sale.pk,
                user=alpha.member,
                quantities={sale.offers.get().pk: 2},
                slot_id=sale.distribution.slots.first().pk,
                payment_method=PaymentMethod.CARD,
            )
            from orders.checkout import services as checkout_services
            from orders.payments import services as payment_services

            url = payment_services.checkout_start(
                order_id=order.pk, user=alpha.member, success_url="http://x/ok", cancel_url="http://x/no"
            )
        stripe_on.set_delivery("reverse")
        stripe_on.pay(url.rsplit("/", 1)[-1])
        assert stripe_on.flush() == 4  # newest first
        stripe_on.set_delivery("twice")
        for event in stripe_on.events[-4:]:  # and once more each, twice
            stripe_on.dispatcher.submit(event)
        assert stripe_on.wait_idle(20)
        statuses = [status for _event, status in stripe_on.deliveries[-12:]]
        assert statuses and all(status == 200 for status in statuses)
        with tenant_context(alpha.collective):
            order.refresh_from_db()
            assert order.payment_status == PaymentStatus.PAID
        with schema_context("public"):
            ids = [e["id"] for e in stripe_on.events[-4:]]
            assert StripeEvent.objects.filter(event_id__in=ids).count() == 4
    finally:
        stripe_on.set_delivery("normal")
        stripe_on.dispatcher.url = None
