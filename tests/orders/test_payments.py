"""Paying by card through Stripe Checkout (the Stripe double), weighing and capture, refunds, on-site
payments: what members and coordinators see, and what the double (standing for Stripe) was told."""

from __future__ import annotations

import ast
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from marketplace.models import ClockDue, Membership, Role, User
from orders import tasks
from orders.closing import jobs
from orders.models import Offer, Order, Payment, PaymentMethod, PaymentStatus, Refund, ShopSettings
from orders.payments import gateway
from orders.payments import services as payment_services
from pickup_points.models import PickupSlot
from tests.conftest import text

DECLINED = "4000000000000002"
NEEDS_AUTH = "4000002500003155"


def _checkout(client, market, quantities: dict, method: str = PaymentMethod.CARD):
    client.post(f"/ventes/{market.sale.pk}/", {f"qty_{offer.pk}": qty for offer, qty in quantities.items()})
    return client.post(
        f"/ventes/{market.sale.pk}/commander/", {"slot": market.slots[0].pk, "payment_method": method}
    )


def _place_card_order(browse, alpha, market, quantities=None):
    client = browse(alpha, alpha.member)
    response = _checkout(client, market, quantities or {market.tomatoes: 2})
    order = Order.objects.get(user=alpha.member, sale=market.sale, status=Order.Status.PLACED)
    return client, response, order


def _session_id(response) -> str:
    return urlsplit(response["Location"]).path.rsplit("/", 1)[-1]


def _back_from_stripe(client, success_url: str):
    parts = urlsplit(success_url)
    return client.get(parts.path, {"session_id": parse_qs(parts.query)["session_id"][0]})


def _intent(double, order) -> dict:
    payment = order.payments.exclude(stripe_payment_intent_id=None).get()
    return gateway.payment_intent_retrieve(
        account=payment.stripe_account, payment_intent_id=payment.stripe_payment_intent_id
    )


def test_card_is_offered_only_once_the_stripe_account_takes_charges(browse, alpha, market, stripe_on):
    coordinator = browse(alpha, alpha.coordinator)
    page = text(coordinator.get("/reglages/paiements/"))
    assert "Relier un compte Stripe" in page
    refused = coordinator.post("/reglages/paiements/", {"payment_methods": ["card", "cash"]})
    assert refused.status_code == 400
    assert "Le paiement par carte sera disponible une fois le compte Stripe relié." in text(refused)

    # The coordinator goes through Stripe's onboarding (the double's page) and comes back.
    started = coordinator.post("/reglages/paiements/stripe/")
    assert started.status_code == 302 and started["Location"].startswith(
        stripe_on.url + "/connect/onboarding/"
    )
    account = type(alpha.collective).objects.get(pk=alpha.collective.pk).stripe_account_id
    assert account.startswith("acct_")
    assert "Terminer l'inscription Stripe" in text(coordinator.get("/reglages/paiements/"))
    stripe_on.onboard(account)
    back = coordinator.get("/reglages/paiements/stripe/retour/", follow=True)
    assert "Compte Stripe relié" in text(back)
    assert coordinator.post("/reglages/paiements/", {"payment_methods": ["card", "cash"]}).status_code == 302
    assert ShopSettings.current().payment_methods == ["card", "cash"]
    member = browse(alpha, alpha.member)
    member.post(f"/ventes/{market.sale.pk}/", {f"qty_{market.cheese.pk}": 1})
    assert "Carte bancaire en ligne" in text(member.get(f"/ventes/{market.sale.pk}/commander/"))


def test_without_stripe_keys_card_is_never_offered(browse, alpha, market, settings):
    settings.STRIPE_SECRET_KEY = ""
    page = text(browse(alpha, alpha.coordinator).get("/reglages/paiements/"))
    assert "Le paiement par carte n'est pas configuré sur cette instance" in page
    assert not payment_services.card_ready(alpha.collective)


def test_card_only_and_the_stripe_account_suspended_says_so_at_checkout(browse, alpha, card_market):
    payment_services.shop_settings_update(payment_methods=[PaymentMethod.CARD])
    type(alpha.collective).objects.filter(pk=alpha.collective.pk).update(stripe_charges_enabled=False)
    client = browse(alpha, alpha.member)
    client.post(f"/ventes/{card_market.sale.pk}/", {f"qty_{card_market.cheese.pk}": 1})
    page = text(client.get(f"/ventes/{card_market.sale.pk}/commander/"))
    assert "Aucun moyen de paiement n'est disponible pour le moment" in page
    refused = client.post(
        f"/ventes/{card_market.sale.pk}/commander/",
        {"slot": card_market.slots[0].pk, "payment_method": "card"},
    )
    assert refused.status_code == 400 and not Order.objects.exists()


def test_a_member_pays_by_card_and_sees_the_order_paid(browse, alpha, card_market, stripe_on):
    client, response, order = _place_card_order(browse, alpha, card_market)
    # Straight from the checkout to Stripe's hosted page, for the amount computed from the order.
    assert response.status_code == 302 and response["Location"].startswith(stripe_on.url + "/c/pay/cs_test_")
    session = gateway.checkout_session_retrieve(
        account=Payment.objects.get().stripe_account,
        session_id=_session_id(response),
    )
    assert session.amount_total == 500 and session.currency == "eur"
    assert order.payment_status == PaymentStatus.AWAITING
    assert "Il reste à payer cette commande par carte" in text(client.get(f"/commandes/{order.pk}/"))

    success_url = stripe_on.pay(_session_id(response))
    back = _back_from_stripe(client, success_url)
    page = text(back)
    assert "Merci, votre paiement est reçu" in page and "5,00\xa0€ ont été débités" in page
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID and order.hold_until is None
    detail = text(client.get(f"/commandes/{order.pk}/"))
    assert "payée" in detail and "5,00\xa0€ reçus" in detail
    assert "payée" in text(client.get("/commandes/"))  # « Mes commandes » says it too


def test_a_declined_card_leaves_the_order_waiting_with_a_retry(browse, alpha, card_market, stripe_on):
    client, response, order = _place_card_order(browse, alpha, card_market)
    session_id = _session_id(response)
    assert stripe_on.pay(session_id, card=DECLINED) is None
    # The member gives up on Stripe's page and comes back by its "Retour" link.
    page = text(client.get(f"/commandes/{order.pk}/paiement/abandon/"))
    assert "Votre commande n'est pas encore payée" in page and "Réessayer le paiement" in page
    payment_services.payment_sync(payment_id=order.payments.get().pk)
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.AWAITING and order.is_placed
    assert "Paiement refusé" in text(client.get(f"/commandes/{order.pk}/"))
    # Trying again reuses the same open session, and a good card pays it.
    again = client.post(f"/commandes/{order.pk}/payer/")
    assert _session_id(again) == session_id
    _back_from_stripe(client, stripe_on.pay(session_id))
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID


def test_a_card_that_needs_authentication(browse, alpha, card_market, stripe_on):
    client, response, order = _place_card_order(browse, alpha, card_market)
    session_id = _session_id(response)
    assert stripe_on.pay(session_id, card=NEEDS_AUTH) is None
    assert stripe_on.authenticate(session_id, succeed=False) is None
    back = text(client.get(f"/commandes/{order.pk}/paiement/", {"session_id": session_id}))
    assert "Votre commande n'est pas encore payée" in back
    assert stripe_on.pay(session_id, card=NEEDS_AUTH) is None
    success_url = stripe_on.authenticate(session_id, succeed=True)
    assert "Merci, votre paiement est reçu" in text(_back_from_stripe(client, success_url))


def test_the_return_address_alone_never_marks_an_order_paid(browse, alpha, card_market, stripe_on):
    client, response, order = _place_card_order(browse, alpha, card_market)
    for session_id in ["", "cs_test_forged", _session_id(response)]:
        page = text(client.get(f"/commandes/{order.pk}/paiement/", {"session_id": session_id}))
        assert "Votre commande n'est pas encore payée" in page
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.AWAITING
    # Someone else's order: not found.
    other = browse(alpha, alpha.coordinator)
    assert other.get(
        f"/commandes/{order.pk}/paiement/", {"session_id": _session_id(response)}
    ).status_code in (
        403,
        404,
    )


def test_an_abandoned_checkout_releases_stock_and_slot_after_the_delay(
    browse, alpha, card_market, stripe_on, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client, response, order = _place_card_order(browse, alpha, card_market, {card_market.tomatoes: 4})
    slot = PickupSlot.objects.get(pk=card_market.slots[0].pk)
    assert Offer.objects.get(pk=card_market.tomatoes.pk).sold == 4 and slot.reserved == 1
    held = order.hold_until - order.created_at
    assert abs(held - timedelta(minutes=ShopSettings.current().card_hold_minutes)) < timedelta(seconds=5)
    mailoutbox.clear()

    assert jobs.unpaid_orders_release(now=order.hold_until - timedelta(minutes=1)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.unpaid_orders_release(now=order.hold_until + timedelta(minutes=1)) == 1
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert Offer.objects.get(pk=card_market.tomatoes.pk).sold == 0
    assert PickupSlot.objects.get(pk=slot.pk).reserved == 0
    assert [m.subject for m in mailoutbox] == [
        f"Votre commande {order.number} à Drive Alpha n'a pas été payée : elle est annulée"
    ]
    assert "n'a pas été payée à temps : elle est annulée" in mailoutbox[0].body
    assert "Rien n'a été débité." in mailoutbox[0].body
    # Stripe was told to close the page: a late payment is no longer possible.
    session = gateway.checkout_session_retrieve(
        account=order.payments.get().stripe_account, session_id=_session_id(response)
    )
    assert session.status == "expired"
    assert order.payments.get().status == Payment.Status.CANCELED
    # Coming back from Stripe's page late: the page says so and leads back to the sale.
    late = text(client.get(f"/commandes/{order.pk}/paiement/abandon/"))
    assert "Cette commande est annulée. Rien n'a été débité." in late and "Revenir à la vente" in late


def test_a_payment_that_arrives_during_the_release_check_keeps_the_order(
    browse, alpha, card_market, stripe_on, django_capture_on_commit_callbacks
):
    client, response, order = _place_card_order(browse, alpha, card_market)
    stripe_on.pay(_session_id(response))  # paid, but no webhook reached us yet
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.unpaid_orders_release(now=order.hold_until + timedelta(minutes=1)) == 0
    order.refresh_from_db()
    assert order.is_placed and order.payment_status == PaymentStatus.PAID


def test_closing_the_sale_releases_unpaid_card_orders(
    browse, alpha, card_market, stripe_on, django_capture_on_commit_callbacks
):
    client, response, order = _place_card_order(browse, alpha, card_market)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.sale_close(
            sale_id=card_market.sale.pk, now=card_market.sale.closes_at + timedelta(seconds=1)
        )
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert Offer.objects.get(pk=card_market.tomatoes.pk).sold == 0


def test_weighed_goods_are_authorised_with_the_margin_then_captured_lower(
    browse, alpha, card_market, stripe_on, django_capture_on_commit_callbacks
):
    # 2 roasts of about 0.5 kg at 24 €/kg: 24.00 estimated; with the 15 % margin the card is authorised for
    # 27.60 (the distribution is within the authorisation's validity: manual capture).
    client, response, order = _place_card_order(browse, alpha, card_market, {card_market.beef: 2})
    session = gateway.checkout_session_retrieve(
        account=Payment.objects.get().stripe_account, session_id=_session_id(response)
    )
    assert session.amount_total == 2760
    _back_from_stripe(client, stripe_on.pay(_session_id(response)))
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.AUTHORIZED
    page = text(client.get(f"/commandes/{order.pk}/"))
    assert "Estimation" in page and "24,00\xa0€" in page
    assert "Autorisé, débité après la pesée : au plus 27,60\xa0€" in page
    assert "27,60\xa0€ autorisés sur la carte" in page

    coordinator = browse(alpha, alpha.coordinator)
    line = order.lines.get()
    weigh = coordinator.post(
        f"/ventes/{card_market.sale.pk}/commandes/{order.pk}/lignes/{line.pk}/poids/",
        {f"line{line.pk}-weight_kg": "0,950"},
    )
    assert weigh.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        settled = coordinator.post(f"/ventes/{card_market.sale.pk}/commandes/{order.pk}/regler/", follow=True)
    assert "22,80\xa0€ débités" in text(settled)
    intent = _intent(stripe_on, order)
    assert intent.status == "succeeded" and intent.amount_received == 2280
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID
    page = text(client.get(f"/commandes/{order.pk}/"))
    assert "Montant final" in page and "22,80\xa0€" in page and "22,80\xa0€ reçus" in page


def test_heavier_than_the_cap_never_charges_more_than_the_cap(
    browse, alpha, card_market, stripe_on, django_capture_on_commit_callbacks
):
    client, response, order = _place_card_order(browse, alpha, card_market, {card_market.beef: 1})
    _back_from_stripe(client, stripe_on.pay(_session_id(response)))  # 13.80 authorised
    payment_services.line_weigh(line_id=order.lines.get().pk, weight_kg=Decimal("0.700"))  # 16.80
    settlement = payment_services.order_settle(order_id=order.pk, by=alpha.coordinator)
    assert settlement.captured == Decimal("13.80") and settlement.remaining == Decimal("3.00")
    assert _intent(stripe_on, order).amount_received == 1380
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PARTIAL


def test_far_distribution_charges_the_cap_and_refunds_the_difference_after_weighing(
    browse, alpha, card_market, stripe_on, django_capture_on_commit_callbacks
):
    # A monthly order form: the distribution is three weeks away, beyond an authorisation's validity.
    sale = card_market.sale
    type(sale).objects.filter(pk=sale.pk).update(
        distribution_starts_at=sale.distribution_starts_at + timedelta(days=21),
        distribution_ends_at=sale.distribution_ends_at + timedelta(days=21),
    )
    client, response, order = _place_card_order(browse, alpha, card_market, {card_market.beef: 1})
    _back_from_stripe(client, stripe_on.pay(_session_id(response)))
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID
    assert _intent(stripe_on, order).amount_received == 1380  # the cap: 12.00 + 15 %
    payment_services.line_weigh(line_id=order.lines.get().pk, weight_kg=Decimal("0.450"))  # 10.80
    with django_capture_on_commit_callbacks(execute=True):
        settlement = payment_services.order_settle(order_id=order.pk, by=alpha.coordinator)
    assert settlement.refunded == Decimal("3.00")
    refund = Refund.objects.get()
    assert refund.status == Refund.Status.SUCCEEDED and refund.reason == "Ajustement après pesée"
    remote = gateway.refunds_list(
        account=refund.payment.stripe_account, payment_intent_id=refund.payment.stripe_payment_intent_id
    )
    assert [r.amount for r in remote] == [300]
    page = text(client.get(f"/commandes/{order.pk}/"))
    assert "Remboursement de 3,00\xa0€ : Ajustement après pesée" in page


def test_cancelling_a_paid_order_refunds_it_in_full(
    browse, alpha, card_market, stripe_on, django_capture_on_commit_callbacks
):
    client, response, order = _place_card_order(browse, alpha, card_market, {card_market.tomatoes: 3})
    _back_from_stripe(client, stripe_on.pay(_session_id(response)))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/commandes/{order.pk}/annuler/")
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED and order.payment_status == PaymentStatus.REFUNDED
    payment = order.payments.get()
    remote = gateway.refunds_list(
        account=payment.stripe_account, payment_intent_id=payment.stripe_payment_intent_id
    )
    assert [r.amount for r in remote] == [750]
    page = text(client.get(f"/commandes/{order.pk}/"))
    assert "Remboursement de 7,50\xa0€ : Commande annulée : remboursement intégral" in page


def test_cancelling_an_authorised_order_releases_the_authorisation(
    browse, alpha, card_market, stripe_on, django_capture_on_commit_callbacks
):
    client, response, order = _place_card_order(browse, alpha, card_market, {card_market.beef: 1})
    _back_from_stripe(client, stripe_on.pay(_session_id(response)))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/commandes/{order.pk}/annuler/")
    assert _intent(stripe_on, order).status == "canceled"
    assert order.payments.get().status == Payment.Status.CANCELED


def test_a_paid_order_cannot_grow_or_leave_the_card(browse, alpha, card_market, stripe_on):
    client, response, order = _place_card_order(browse, alpha, card_market, {card_market.tomatoes: 2})
    _back_from_stripe(client, stripe_on.pay(_session_id(response)))
    grown = _checkout(client, card_market, {card_market.tomatoes: 3})
    assert grown.status_code == 400 and "Votre commande est déjà payée par carte (5,00\xa0€)" in text(grown)
    cash = _checkout(client, card_market, {card_market.tomatoes: 2}, method=PaymentMethod.CASH)
    assert "le moyen de paiement ne peut plus changer" in text(cash)
    order.refresh_from_db()
    assert order.total == Decimal("5.00") and order.lines.get().quantity == 2


def test_an_abandoned_card_session_does_not_lock_an_order_paid_on_site(
    browse, alpha, card_market, stripe_on, django_capture_on_commit_callbacks
):
    """The member gave up on the card page and switched to cash, paid part of it early: the order may
    still grow (nothing was paid by card)."""
    client, response, order = _place_card_order(browse, alpha, card_market, {card_market.tomatoes: 2})
    with django_capture_on_commit_callbacks(execute=True):
        _checkout(client, card_market, {card_market.tomatoes: 2}, method=PaymentMethod.CASH)
    assert order.payments.get().status == Payment.Status.CANCELED
    payment_services.onsite_payment_record(
        order_id=order.pk, method=PaymentMethod.CASH, amount=Decimal("5.00"), note="", by=alpha.coordinator
    )
    grown = _checkout(client, card_market, {card_market.tomatoes: 3}, method=PaymentMethod.CASH)
    assert grown.status_code == 302
    order.refresh_from_db()
    assert order.total == Decimal("7.50") and order.payment_status == PaymentStatus.PARTIAL


def test_a_smaller_basket_refunds_the_difference_at_once(
    browse, alpha, card_market, stripe_on, django_capture_on_commit_callbacks
):
    client, response, order = _place_card_order(browse, alpha, card_market, {card_market.tomatoes: 4})
    _back_from_stripe(client, stripe_on.pay(_session_id(response)))
    with django_capture_on_commit_callbacks(execute=True):
        _checkout(client, card_market, {card_market.tomatoes: 1})
    order.refresh_from_db()
    assert order.total == Decimal("2.50") and order.payment_status == PaymentStatus.PAID
    assert Refund.objects.get().amount == Decimal("7.50")
    assert "Remboursement de 7,50\xa0€ : Panier réduit" in text(client.get(f"/commandes/{order.pk}/"))


def test_a_coordinator_refunds_part_of_an_order_with_a_reason(
    browse, alpha, card_market, stripe_on, django_capture_on_commit_callbacks
):
    client, response, order = _place_card_order(browse, alpha, card_market, {card_market.tomatoes: 4})
    _back_from_stripe(client, stripe_on.pay(_session_id(response)))
    coordinator = browse(alpha, alpha.coordinator)
    url = f"/ventes/{card_market.sale.pk}/commandes/{order.pk}/remboursement/"
    for data, message in [
        (
            {"kind": "goodwill", "amount": "12,00", "reason": "Trop"},
            "Un geste commercial ne peut dépasser ce que coûte la commande : 10,00\xa0€ au plus.",
        ),
        (
            {"kind": "overpayment", "amount": "2,00", "reason": "Rien de trop"},
            "Seuls 0,00\xa0€ ont été payés en plus de ce qui est dû.",
        ),
        ({"amount": "2,00", "reason": "Sans nature"}, "Choisissez s'il s'agit d'un geste commercial"),
        ({"kind": "goodwill", "amount": "-2", "reason": "Négatif"}, "Le montant doit être positif."),
        ({"kind": "goodwill", "amount": "deux euros", "reason": "x"}, "Indiquez un montant en euros"),
        (
            {"kind": "goodwill", "amount": "2,50", "reason": ""},
            "Indiquez le motif du remboursement : le membre le verra.",
        ),
    ]:
        refused = coordinator.post(url, data)
        assert refused.status_code == 400 and message in text(refused)
    assert not Refund.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        done = coordinator.post(url, {"kind": "goodwill", "amount": "2,50", "reason": "Tomates manquantes"})
    assert done.status_code == 302
    refund = Refund.objects.get()
    assert refund.status == Refund.Status.SUCCEEDED and refund.stripe_refund_id.startswith("re_")
    assert refund.created_by_id == alpha.coordinator.pk
    page = text(client.get(f"/commandes/{order.pk}/"))
    assert "Remboursement de 2,50\xa0€ : Tomates manquantes" in page
    assert "7,50\xa0€ : 10,00\xa0€ débités de votre carte, 2,50\xa0€ remboursés" in page
    # The member and the producer cannot refund.
    for person in (alpha.member, alpha.producer, alpha.staff):
        assert browse(alpha, person).post(url, {"amount": "1", "reason": "x"}).status_code == 403


def test_on_site_payments_are_recorded_and_summed_per_method(browse, alpha, market):
    member = browse(alpha, alpha.member)
    _checkout(member, market, {market.tomatoes: 2, market.cheese: 1}, method=PaymentMethod.FOOD_VOUCHER)
    order = Order.objects.get(user=alpha.member)
    assert order.payment_status == PaymentStatus.DUE and order.total == Decimal("9.20")
    coordinator = browse(alpha, alpha.coordinator)
    url = f"/ventes/{market.sale.pk}/commandes/{order.pk}/paiement/"
    for data, message in [
        ({"method": "food_voucher", "amount": "abc"}, "Indiquez un montant en euros, par ex. 12,50."),
        ({"method": "food_voucher", "amount": "0"}, "Le montant doit être positif."),
        ({"method": "card", "amount": "5"}, "Sélectionnez un choix valide"),
    ]:
        refused = coordinator.post(url, data)
        assert refused.status_code == 400 and message in text(refused)
    assert (
        coordinator.post(url, {"method": "food_voucher", "amount": "6,00", "note": "2 titres"}).status_code
        == 302
    )
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PARTIAL
    assert coordinator.post(url, {"method": "cash", "amount": "3,20"}).status_code == 302
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID
    report = text(coordinator.get(f"/ventes/{market.sale.pk}/paiements/"))
    assert "Chèques alimentaires / titres-restaurant, sur place" in report and "6,00\xa0€" in report
    assert "Espèces, sur place" in report and "3,20\xa0€" in report
    assert "payée" in text(member.get(f"/commandes/{order.pk}/"))
    for person in (alpha.member, alpha.producer):
        assert browse(alpha, person).post(url, {"method": "cash", "amount": "1"}).status_code == 403


def _member(cast, email: str) -> User:
    user = User.objects.create_user(email=email, password="x", first_name="Voisin", last_name=email[:7])
    Membership.objects.create(user=user, collective=cast.collective, roles=[Role.MEMBER])
    return user


def test_the_payments_page_query_count_does_not_grow_with_orders(browse, alpha, market):
    coordinator = browse(alpha, alpha.coordinator)
    url = f"/ventes/{market.sale.pk}/paiements/"

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert coordinator.get(url).status_code == 200
        return len(captured)

    people = [alpha.member] + [_member(alpha, f"voisin{number}@alpha.test") for number in range(2)]
    _checkout(browse(alpha, people[0]), market, {market.cheese: 1}, method=PaymentMethod.CASH)
    one = queries()
    for person in people[1:]:
        _checkout(browse(alpha, person), market, {market.cheese: 1}, method=PaymentMethod.CASH)
    assert queries() == one
    assert text(coordinator.get(url)).count("Espèces, sur place") == 3


def test_no_code_path_marks_a_card_payment_received_but_the_sync():
    """Only payments/services.py's _apply (fed by what Stripe answers) may set a payment received or
    authorised; on-site payments are recorded received by the person who took them. Reads (filter,
    exclude…) do not count."""
    writes = ("create", "update", "update_or_create", "get_or_create", "bulk_create")

    def names_a_paid_status(node) -> bool:
        return "Payment.Status.SUCCEEDED" in ast.unparse(node) or "Payment.Status.AUTHORIZED" in ast.unparse(
            node
        )

    setters = set()
    orders = Path(settings.BASE_DIR, "orders")
    for path in orders.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        status_maps = {
            node.targets[0].id
            for node in tree.body
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Dict)
            and names_a_paid_status(node.value)
        }
        for function in [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]:
            for node in ast.walk(function):
                written = None
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in writes
                ):
                    written = [kw.value for kw in node.keywords if kw.arg == "status"]
                elif isinstance(node, ast.Assign) and any(
                    isinstance(target, ast.Attribute) and target.attr == "status" for target in node.targets
                ):
                    written = [node.value]
                for value in written or []:
                    if names_a_paid_status(value) or any(name in ast.unparse(value) for name in status_maps):
                        setters.add(f"{path.relative_to(orders)}:{function.name}")
            if any(name in ast.unparse(function) for name in status_maps):
                setters.add(f"{path.relative_to(orders)}:{function.name}")
    assert setters == {"payments/services.py:_apply", "payments/services.py:onsite_payment_record"}


def test_the_clock_visits_an_unpaid_card_order_when_its_hold_ends(
    browse, alpha, card_market, stripe_on, mailoutbox, django_capture_on_commit_callbacks
):
    """The due-index (marketplace.clock) carries the end of a card order's hold: beat's tick releases it
    then, though nothing else of the collective is due."""
    tasks.tenants_due_sales()  # the collective's first visit gives it a row
    connection.set_tenant(alpha.collective)
    with django_capture_on_commit_callbacks(execute=True):
        client, response, order = _place_card_order(browse, alpha, card_market, {card_market.tomatoes: 4})
    connection.set_tenant(alpha.collective)
    assert ClockDue.objects.get(collective=alpha.collective).next_due == order.hold_until
    with (
        time_machine.travel(order.hold_until + timedelta(seconds=20), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert tasks.tenants_due_sales() >= 1
    connection.set_tenant(alpha.collective)
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert Offer.objects.get(pk=card_market.tomatoes.pk).sold == 0
