"""Money through Stripe as a treasurer notices it: producers paid by Stripe Connect transfers (their share is
their statement's due, the commission goes to the collective), a refund after the transfer takes the share
back once, card top-ups credit once, and the reconciliation with Stripe's balance lists what does not match.
Everything against the Stripe double, driven by the official library, with its signed webhooks."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection

from devtools.stripe_double.webhooks import sign
from marketplace.models import Collective, Membership, Role, User
from orders.checkout import services as checkout_services
from orders.closing import jobs
from orders.models import (
    CardTopUp,
    LedgerEntry,
    MemberAccount,
    Order,
    PaymentMethod,
    ProducerStripeAccount,
    Statement,
    StripeReversal,
    StripeTransfer,
)
from orders.payments import connect, gateway
from orders.payments import services as payment_services
from orders.statements import services as statement_services
from pickup_points.models import PickupSlot
from producers import services as producer_services
from producers.models import ProducerAccount
from tests.conftest import words
from tests.orders.conftest import WEBHOOK_SECRET, make_sale


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_ROOT = tmp_path / "private"
    return tmp_path


def _post_event(webhook, event: dict):
    body = json.dumps(event).encode()
    tenant = connection.tenant
    try:
        return webhook.post(
            "/stripe/webhook/",
            body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign(body, WEBHOOK_SECRET),
        )
    finally:
        connection.set_tenant(tenant)


def _back_from_stripe(client, success_url: str):
    parts = urlsplit(success_url)
    return client.get(parts.path, {"session_id": parse_qs(parts.query)["session_id"][0]})


@pytest.fixture
def webhook(browse, public_host):
    return browse(public_host)


@pytest.fixture
def platform(card_market, alpha, settings, stripe_on, media_root, browse):
    """Alpha pays its producers by Stripe Connect (10 % commission, 20 % VAT); the farm's producer has set
    up their payouts from « Mes ventes » on the double's onboarding page."""
    settings.STRIPE_CONNECT_PLATFORM = True
    statement_services.statement_settings_update(
        commission_percent=Decimal("10"),
        commission_vat_rate=Decimal("20"),
        bank_holder="",
        bank_iban="",
        bank_bic="",
        producer_payout="connect",
    )
    farm = card_market.tomatoes.producer
    ProducerAccount.objects.create(producer=farm, user=alpha.producer)
    producer = browse(alpha, alpha.producer)
    page = words(producer.get("/mes-ventes/"))
    assert "Configurer mes versements" in page
    to_stripe = producer.post(f"/mes-ventes/versements-stripe/{farm.pk}/")
    assert to_stripe.status_code == 302 and "/connect/onboarding/" in to_stripe["Location"]
    account = ProducerStripeAccount.objects.get(producer=farm)
    assert not account.payouts_enabled
    stripe_on.onboard(account.account_id)  # the producer fills in the onboarding page
    back = producer.get(f"/mes-ventes/versements-stripe/{farm.pk}/retour/", follow=True)
    assert "Versements activés" in words(back)
    card_market.farm = farm
    card_market.producer_account = account.account_id
    return card_market


def _pay_by_card(browse, alpha, market, double, quantities) -> Order:
    client = browse(alpha, alpha.member)
    client.post(f"/ventes/{market.sale.pk}/", {f"qty_{offer.pk}": qty for offer, qty in quantities.items()})
    response = client.post(
        f"/ventes/{market.sale.pk}/commander/", {"slot": market.slots[0].pk, "payment_method": "card"}
    )
    session_id = urlsplit(response["Location"]).path.rsplit("/", 1)[-1]
    _back_from_stripe(client, double.pay(session_id))
    order = Order.objects.get(user=alpha.member, sale=market.sale, status=Order.Status.PLACED)
    assert order.payment_status == "paid"
    return order


def _close_and_issue(market, capture) -> Statement:
    assert jobs.sale_close(sale_id=market.sale.pk, now=market.sale.closes_at + timedelta(minutes=1))
    with capture(execute=True):
        [statement] = statement_services.statements_issue(sale_id=market.sale.pk)
    return Statement.objects.get(pk=statement.pk)


def test_a_producers_connect_share_is_their_statements_due_and_the_commission_goes_to_the_collective(
    platform, alpha, browse, stripe_on, django_capture_on_commit_callbacks
):
    order = _pay_by_card(browse, alpha, platform, stripe_on, {platform.tomatoes: 2, platform.cheese: 1})
    payment = order.payments.get()
    assert payment.stripe_account == ""  # charged on the platform, not on the collective's account
    intent = gateway.payment_intent_retrieve(account="", payment_intent_id=payment.stripe_payment_intent_id)
    group = f"{connection.schema_name}-sale-{platform.sale.pk}"
    assert intent.transfer_group == group

    statement = _close_and_issue(platform, django_capture_on_commit_callbacks)
    assert statement.gross == Decimal("9.20")  # 2 × 2.50 + 4.20
    assert statement.due == Decimal("9.20") - Decimal("0.92") - Decimal("0.18")
    transfers = [e["data"]["object"] for e in stripe_on.events if e["type"] == "transfer.created"]
    by_destination = {item["destination"]: item for item in transfers}
    collective_account = Collective.objects.get(pk=alpha.collective.pk).stripe_account_id
    assert set(by_destination) == {platform.producer_account, collective_account}
    assert by_destination[platform.producer_account]["amount"] == gateway.cents(statement.due)
    assert by_destination[collective_account]["amount"] == gateway.cents(statement.commission)
    assert {item["transfer_group"] for item in transfers} == {group}
    assert sum(item["amount"] for item in transfers) == gateway.cents(order.total)

    statement.refresh_from_db()
    assert statement.status == Statement.Status.PAID and statement.stripe_paid_at is not None
    page = words(browse(alpha, alpha.producer).get("/mes-ventes/"))
    assert "versé par Stripe le" in page and "Versements activés" in page
    # Issuing again changes nothing: no second transfer.
    with django_capture_on_commit_callbacks(execute=True):
        assert statement_services.statements_issue(sale_id=platform.sale.pk) == []
    assert len([e for e in stripe_on.events if e["type"] == "transfer.created"]) == 2
    # Not in the SEPA file: Stripe pays it.
    assert statement_services.payout_blocker(statement) == "Ce relevé n'est plus à payer."


def test_a_refund_after_the_transfer_takes_the_producers_share_back_once(
    platform, alpha, browse, stripe_on, webhook, django_capture_on_commit_callbacks
):
    order = _pay_by_card(browse, alpha, platform, stripe_on, {platform.tomatoes: 2, platform.cheese: 1})
    statement = _close_and_issue(platform, django_capture_on_commit_callbacks)
    producer_transfer = StripeTransfer.objects.get(statement=statement, kind=StripeTransfer.Kind.PRODUCER)
    coordinator = browse(alpha, alpha.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator.post(
            f"/ventes/{platform.sale.pk}/commandes/{order.pk}/remboursement/",
            {"amount": "2,00", "reason": "Tomme abîmée", "kind": "goodwill"},
        )
    assert response.status_code == 302
    remote = gateway.transfer_retrieve(producer_transfer.stripe_transfer_id)
    assert remote.amount_reversed == 200 and remote.reversals.data[0].amount == 200
    reversal = StripeReversal.objects.get()
    assert (reversal.amount, reversal.status) == (Decimal("2.00"), StripeReversal.Status.SENT)
    # Every event of the refund and the reversal, delivered twice, and the payment read again: still once.
    for event in [e for e in stripe_on.events if e["type"] in ("charge.refunded", "transfer.reversed")] * 2:
        assert _post_event(webhook, event).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        payment_services.payment_sync(payment_id=order.payments.get().pk)
    assert StripeReversal.objects.count() == 1
    assert gateway.transfer_retrieve(producer_transfer.stripe_transfer_id).amount_reversed == 200
    assert len([e for e in stripe_on.events if e["type"] == "transfer.reversed"]) == 1


def test_a_crash_between_the_transfer_and_its_attach_never_doubles_it(
    platform, alpha, browse, stripe_on, webhook, monkeypatch, django_capture_on_commit_callbacks
):
    _pay_by_card(browse, alpha, platform, stripe_on, {platform.tomatoes: 2})
    real_attach = connect.transfer_attach

    def crash(**kwargs):
        raise ConnectionError("worker killed after Stripe answered")

    monkeypatch.setattr(connect, "transfer_attach", crash)
    assert jobs.sale_close(sale_id=platform.sale.pk, now=platform.sale.closes_at + timedelta(minutes=1))
    with pytest.raises(ConnectionError), django_capture_on_commit_callbacks(execute=True):
        statement_services.statements_issue(sale_id=platform.sale.pk)
    row = StripeTransfer.objects.get(kind=StripeTransfer.Kind.PRODUCER)
    assert row.status == StripeTransfer.Status.PENDING and row.stripe_transfer_id is None
    monkeypatch.setattr(connect, "transfer_attach", real_attach)
    connect.transfer_send(transfer_id=row.pk)  # the follow-up's retry: same idempotency key
    created = [e for e in stripe_on.events if e["type"] == "transfer.created"]
    producer_events = [e for e in created if e["data"]["object"]["destination"] == platform.producer_account]
    assert len(producer_events) == 1
    row.refresh_from_db()
    assert row.status == StripeTransfer.Status.SENT
    assert row.stripe_transfer_id == producer_events[0]["data"]["object"]["id"]
    for event in producer_events * 2:  # the webhook, twice, finds it attached
        assert _post_event(webhook, event).status_code == 200
    assert StripeTransfer.objects.filter(kind=StripeTransfer.Kind.PRODUCER).count() == 1


def test_a_producer_without_payouts_waits_and_is_paid_once_onboarded(
    card_market, alpha, settings, stripe_on, media_root, browse, webhook, django_capture_on_commit_callbacks
):
    settings.STRIPE_CONNECT_PLATFORM = True
    statement_services.statement_settings_update(
        commission_percent=Decimal("10"),
        commission_vat_rate=Decimal("0"),
        bank_holder="",
        bank_iban="",
        bank_bic="",
        producer_payout="connect",
    )
    farm = card_market.tomatoes.producer
    ProducerAccount.objects.create(producer=farm, user=alpha.producer)
    _pay_by_card(browse, alpha, card_market, stripe_on, {card_market.tomatoes: 4})
    statement = _close_and_issue(card_market, django_capture_on_commit_callbacks)
    row = StripeTransfer.objects.get(statement=statement, kind=StripeTransfer.Kind.PRODUCER)
    assert row.status == StripeTransfer.Status.WAITING
    producer = browse(alpha, alpha.producer)
    assert "versement Stripe en attente de votre compte" in words(producer.get("/mes-ventes/"))
    producer.post(f"/mes-ventes/versements-stripe/{farm.pk}/")
    account = ProducerStripeAccount.objects.get(producer=farm).account_id
    before = len(stripe_on.events)
    stripe_on.onboard(account)
    [updated] = [e for e in stripe_on.events[before:] if e["type"] == "account.updated"]
    with django_capture_on_commit_callbacks(execute=True):
        assert _post_event(webhook, updated).status_code == 200
        assert _post_event(webhook, updated).status_code == 200  # twice: once
    row.refresh_from_db()
    assert row.status == StripeTransfer.Status.SENT and row.amount == statement.due == Decimal("9.00")
    assert len([e for e in stripe_on.events if e["type"] == "transfer.created"]) == 2  # producer, commission


def test_card_topup_delivered_twice_credits_once(
    card_market, alpha, browse, stripe_on, webhook, django_capture_on_commit_callbacks
):
    payment_services.shop_settings_update(
        payment_methods=[PaymentMethod.CARD, PaymentMethod.CASH], credit_allowed=True
    )
    member = browse(alpha, alpha.member)
    assert "Recharger par carte" in words(member.get("/mon-solde/"))
    refused = member.post("/mon-solde/recharge/", {"amount": "2,00"})
    assert refused.status_code == 400 and "Le montant d'une recharge va de 5,00" in words(refused)
    response = member.post("/mon-solde/recharge/", {"amount": "20,00"})
    assert response.status_code == 302
    session_id = urlsplit(response["Location"]).path.rsplit("/", 1)[-1]
    before = len(stripe_on.events)
    success = stripe_on.pay(session_id)
    events = stripe_on.events[before:]
    for event in events * 2:
        assert _post_event(webhook, event).status_code == 200
    page = _back_from_stripe(member, success)
    assert page.status_code == 302
    entries = LedgerEntry.objects.filter(user=alpha.member, kind=LedgerEntry.Kind.TOPUP)
    assert [(entry.amount, entry.method) for entry in entries] == [(Decimal("20.00"), "card")]
    assert MemberAccount.objects.get(user=alpha.member).balance == Decimal("20.00")
    assert CardTopUp.objects.get().status == CardTopUp.Status.SUCCEEDED
    shown = words(member.get("/mon-solde/"))
    assert "Recharge par carte bancaire" in shown and "20,00 €" in shown


def test_the_reconciliation_lists_a_refund_missing_from_the_ledger(
    card_market, alpha, browse, stripe_on, django_capture_on_commit_callbacks
):
    order = _pay_by_card(browse, alpha, card_market, stripe_on, {card_market.tomatoes: 2})
    payment = order.payments.get()
    # Refunded in the Stripe dashboard, and its webhook never arrived: the ledger does not know it.
    refund = gateway.refund_create(
        account=payment.stripe_account,
        payment_intent_id=payment.stripe_payment_intent_id,
        amount=Decimal("2.00"),
        idempotency_key="dashboard",
        metadata={},
    )
    stripe_on.payout(payment.stripe_account)
    treasurer = User.objects.create_user(email="tresor@alpha.test", password="x", first_name="Tom")
    Membership.objects.create(user=treasurer, collective=alpha.collective, roles=[Role.TREASURER])
    client = browse(alpha, treasurer)
    assert "Rapprochement Stripe" in words(client.get("/tresorerie/"))
    before = words(client.get("/tresorerie/stripe/"))
    assert "Mettez à jour depuis Stripe pour comparer." in before
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/tresorerie/stripe/", {"mois": ""})
    assert response.status_code == 302
    page = words(client.get(response["Location"]))
    assert "Remboursement dans Stripe, absent du registre" in page
    assert refund.id in page and "2,00 €" in page
    assert "Paiement dans Stripe" not in page  # the payment itself matches
    assert "Frais Stripe" in page and "0,33 €" in page  # 1,5 % of 5,00 € + 0,25 €
    assert "Virés à la banque" in page and "2,67 €" in page  # 5,00 − 0,33 − 2,00
    # The webhook comes at last: read again, everything matches.
    gateway_refunds = gateway.refunds_list(
        account=payment.stripe_account, payment_intent_id=payment.stripe_payment_intent_id
    )
    assert [item.id for item in gateway_refunds] == [refund.id]
    with django_capture_on_commit_callbacks(execute=True):
        payment_services.payment_sync(payment_id=payment.pk)
        client.post("/tresorerie/stripe/", {"mois": ""})
    assert "Tout concorde" in words(client.get("/tresorerie/stripe/"))


def test_other_collectives_and_plain_members_see_none_of_it(platform, alpha, beta, browse):
    member = browse(alpha, alpha.member)
    for url in ["/tresorerie/stripe/", f"/mes-ventes/versements-stripe/{platform.farm.pk}/"]:
        assert member.get(url).status_code == 403
    assert member.post("/tresorerie/stripe/", {"mois": ""}).status_code == 403
    outsider = browse(alpha, beta.coordinator)
    assert outsider.get("/tresorerie/stripe/").status_code == 403
    assert outsider.post(f"/mes-ventes/versements-stripe/{platform.farm.pk}/").status_code == 403
    # Beta's own producer cannot reach alpha's producer (another collective's id): not found.
    theirs = browse(beta, beta.producer)
    assert theirs.post(f"/mes-ventes/versements-stripe/{platform.farm.pk}/").status_code == 404
    assert "Ferme du Pech" not in words(browse(beta, beta.coordinator).get("/tresorerie/stripe/"))
    assert browse(alpha, alpha.coordinator).get("/tresorerie/stripe/?mois=1990-01").status_code == 302


def test_a_refunds_share_follows_what_each_producer_sold_in_the_order_to_the_cent(market, alpha):
    bakery = producer_services.producer_create(name="Fournil de Lisa", town="Agen")
    producer_services.product_create(
        producer=bakery, name="Pain de seigle", price=Decimal("3.35"), unit="piece", stock=None
    )
    sale = make_sale(market.point, [market.tomatoes.producer, bakery], title="Vente du jeudi")
    offers = {offer.name: offer for offer in sale.offers.all()}
    order = checkout_services.order_place(
        sale_id=sale.pk,
        user=alpha.member,
        quantities={offers["Tomates"].pk: 2, offers["Pain de seigle"].pk: 1},  # 5,00 € and 3,35 €
        slot_id=PickupSlot.objects.filter(distribution=sale.distribution).order_by("starts_at")[0].pk,
        payment_method=PaymentMethod.CASH,
    )
    shares = connect.refund_shares(order_id=order.pk, amount=Decimal("1.00"))
    assert shares == {market.tomatoes.producer_id: Decimal("0.60"), bakery.pk: Decimal("0.40")}
    odd = connect.refund_shares(order_id=order.pk, amount=Decimal("0.01"))
    assert sum(odd.values()) == Decimal("0.01") and odd[market.tomatoes.producer_id] == Decimal("0.01")
