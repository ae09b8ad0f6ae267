"""What a member reads about money and time before and after paying (issue 16, items 1, 2 and 5): the card
amount said before paying (the margin on weighed goods), « autorisé » rather than « payé 0,00 € » after
an authorisation and the amount actually charged after capture, the day of every slot, and sale hours
that agree with the points' slots."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.formats import date_format

from orders import emails
from orders.models import Order, Payment, PaymentMethod
from orders.payments import gateway
from orders.payments import services as payment_services
from orders.sales import services as sale_services
from pickup_points import services as point_services
from tests.conftest import words
from tests.orders.test_payments import _back_from_stripe, _checkout, _session_id

# A Monday: the market's sale opened yesterday and its distribution is on Friday 18 December, 17:00–19:00.
MONDAY = datetime(2026, 12, 14, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))
FRIDAY = MONDAY.date() + timedelta(days=4)
AUTHORISED = (
    "Votre carte sera autorisée pour 32,60 € au plus : les produits pesés sont estimés, vous ne serez "
    "débité·e que du poids réel après la pesée."
)


def read(response) -> str:
    """The visible text, non-breaking spaces (in amounts and French punctuation) as plain spaces."""
    return words(response).replace("\xa0", " ").replace("\u202f", " ")


@pytest.fixture
def on_monday():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def card_shop(on_monday, request):
    return request.getfixturevalue("card_market")


@pytest.fixture
def cash_shop(on_monday, request):
    return request.getfixturevalue("market")


def _cart(client, market, quantities) -> str:
    client.post(f"/ventes/{market.sale.pk}/", {f"qty_{offer.pk}": qty for offer, qty in quantities.items()})
    return read(client.get(f"/ventes/{market.sale.pk}/commander/"))


def test_before_paying_the_checkout_says_what_the_card_will_be_authorised_for_and_why(
    browse, alpha, card_shop, stripe_on
):
    # 2 tomatoes (5.00, exact) + 2 roasts of about 0.5 kg at 24 €/kg (24.00, weighed): ≈ 29.00 estimated;
    # the card is authorised for 5.00 + 24.00 × 1.15 = 32.60.
    client = browse(alpha, alpha.member)
    checkout = _cart(client, card_shop, {card_shop.tomatoes: 2, card_shop.beef: 2})
    assert "≈ 29,00 €" in checkout
    assert AUTHORISED in checkout
    # …and that is what the card page asks.
    response = _checkout(client, card_shop, {card_shop.tomatoes: 2, card_shop.beef: 2})
    session = gateway.checkout_session_retrieve(
        account=Payment.objects.get().stripe_account, session_id=_session_id(response)
    )
    assert session.amount_total == 3260


def test_the_order_page_says_the_same_sentence_while_the_card_is_still_to_pay(
    browse, alpha, card_shop, stripe_on
):
    client = browse(alpha, alpha.member)
    _checkout(client, card_shop, {card_shop.tomatoes: 2, card_shop.beef: 2})
    order = Order.objects.get(user=alpha.member)
    page = read(client.get(f"/commandes/{order.pk}/"))
    assert "Il reste à payer cette commande par carte" in page
    assert AUTHORISED in page and "Payer 32,60 € par carte" in page


def test_without_weighed_goods_the_amount_is_exact_and_nothing_more_is_said(
    browse, alpha, card_shop, stripe_on
):
    checkout = _cart(browse(alpha, alpha.member), card_shop, {card_shop.tomatoes: 2})
    assert "5,00 €" in checkout and "≈" not in checkout
    assert "Votre carte sera" not in checkout


def test_without_card_payment_no_card_sentence(browse, alpha, cash_shop):
    checkout = _cart(browse(alpha, alpha.member), cash_shop, {cash_shop.beef: 1})
    assert "≈ 12,00 €" in checkout and "Votre carte sera" not in checkout


def test_a_distribution_beyond_an_authorisation_says_the_card_is_charged_then_refunded(
    browse, alpha, card_shop, stripe_on
):
    sale = card_shop.sale
    type(sale).objects.filter(pk=sale.pk).update(
        distribution_starts_at=sale.distribution_starts_at + timedelta(days=21),
        distribution_ends_at=sale.distribution_ends_at + timedelta(days=21),
    )
    checkout = _cart(browse(alpha, alpha.member), card_shop, {card_shop.beef: 1})
    assert (
        "Votre carte sera débitée de 13,80 € : les produits pesés sont estimés, la différence avec le poids "
        "réel vous sera remboursée après la pesée." in checkout
    )


def test_after_an_authorisation_no_page_says_paid_and_after_capture_they_say_what_was_charged(
    browse, alpha, card_shop, stripe_on, django_capture_on_commit_callbacks
):
    client = browse(alpha, alpha.member)
    response = _checkout(client, card_shop, {card_shop.tomatoes: 2, card_shop.beef: 2})
    order = Order.objects.get(user=alpha.member)

    back = read(_back_from_stripe(client, stripe_on.pay(_session_id(response))))
    assert "Merci, votre carte est autorisée" in back and "paiement est reçu" not in back
    assert "Autorisé, débité après la pesée : au plus 32,60 €" in back
    assert "Rien n'est encore débité" in back

    detail = read(client.get(f"/commandes/{order.pk}/"))
    assert "Carte bancaire Autorisé, débité après la pesée : au plus 32,60 €" in detail
    assert "Payé 0,00 €" not in detail and "Payé" not in detail.split("Règlement", 1)[1]
    mine = read(client.get("/commandes/"))
    assert "Autorisé, débité après la pesée : au plus 32,60 €" in mine

    # Weighed lighter (0.950 kg: 22.80) and settled: 27.80 charged, said as such.
    line = order.lines.get(offer=card_shop.beef)
    payment_services.line_weigh(line_id=line.pk, weight_kg=Decimal("0.950"))
    with django_capture_on_commit_callbacks(execute=True):
        payment_services.order_settle(order_id=order.pk, by=alpha.coordinator)
    detail = read(client.get(f"/commandes/{order.pk}/"))
    assert "Payé 27,80 €, débités de votre carte" in detail and "Autorisé, débité" not in detail
    assert "Plafond carte" not in detail  # the cap no longer matters once charged
    assert "Payé : 27,80 €, débités de votre carte" in read(client.get("/commandes/"))


def test_an_order_paid_on_site_says_what_was_received(browse, alpha, cash_shop):
    client = browse(alpha, alpha.member)
    _checkout(client, cash_shop, {cash_shop.tomatoes: 2}, method=PaymentMethod.CASH)
    order = Order.objects.get(user=alpha.member)
    assert "Payé 0,00 €" in read(client.get(f"/commandes/{order.pk}/"))  # nothing received yet
    assert "Payé :" not in read(client.get("/commandes/"))
    payment_services.onsite_payment_record(
        order_id=order.pk, method=PaymentMethod.CASH, amount=Decimal("5.00"), note="", by=alpha.coordinator
    )
    assert "Payé 5,00 €" in read(client.get(f"/commandes/{order.pk}/"))
    assert "Payé : 5,00 €" in read(client.get("/commandes/"))


# The day of every slot ---------------------------------------------------------------------------------


def test_checkout_order_page_my_orders_and_email_show_the_slots_day(
    browse, alpha, cash_shop, mailoutbox, django_capture_on_commit_callbacks
):
    client = browse(alpha, alpha.member)
    checkout = _cart(client, cash_shop, {cash_shop.tomatoes: 1})
    assert "vendredi 18 décembre, 17:00 – 17:30" in checkout
    assert "vendredi 18 décembre, 18:30 – 19:00" in checkout
    with django_capture_on_commit_callbacks(execute=True):
        _checkout(client, cash_shop, {cash_shop.tomatoes: 1}, method=PaymentMethod.CASH)
    order = Order.objects.get(user=alpha.member)
    assert "vendredi 18 décembre, 17:00 – 17:30" in read(client.get(f"/commandes/{order.pk}/"))
    assert "vendredi 18 décembre, 17:00 – 17:30" in read(client.get("/commandes/"))
    assert "vendredi 18 décembre, 17:00 – 17:30" in mailoutbox[-1].body


def test_the_slots_day_in_english(browse, alpha, cash_shop):
    client = browse(alpha, alpha.member)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    checkout = _cart(client, cash_shop, {cash_shop.tomatoes: 1})
    assert "Friday 18 December, 17:00 – 17:30" in checkout


def test_the_closing_time_is_worded_in_the_members_language(browse, alpha, cash_shop):
    closes = timezone.localtime(cash_shop.sale.closes_at)
    with translation.override("fr"):
        jour = date_format(closes, "l j F")  # « vendredi 18 décembre »
    with translation.override("en"):
        day = date_format(closes, "l j F")  # "Friday 18 December"
    client = browse(alpha, alpha.member)
    assert f"Commandes jusqu'au {jour} à {closes:%H:%M}." in read(client.get(f"/ventes/{cash_shop.sale.pk}/"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert f"Orders until {day} at {closes:%H:%M}." in read(client.get(f"/ventes/{cash_shop.sale.pk}/"))


def test_member_booking_pages_show_the_slots_day(browse, alpha, cash_shop):
    # A distribution without a sale (members only book a slot): Saturday 19 December.
    distribution = point_services.distribution_create(
        date=MONDAY.date() + timedelta(days=5), points=[cash_shop.point]
    )
    client = browse(alpha, alpha.member)
    assert "samedi 19 décembre, 17:00 – 17:30" in read(client.get(f"/retrait/{distribution.pk}/"))
    slot = distribution.slots.order_by("starts_at").first()
    point_services.slot_reserve(slot_id=slot.pk, user=alpha.member)
    assert "samedi 19 décembre, 17:00 – 17:30" in read(client.get(f"/retrait/{distribution.pk}/"))
    assert "samedi 19 décembre, 17:00 – 17:30, Salle des fêtes" in read(client.get("/retrait/"))


# Sale hours from the points' slots ----------------------------------------------------------------------


def test_the_sale_page_gives_the_hours_of_the_slots_not_a_separate_field(browse, alpha, cash_shop):
    sale = cash_shop.sale
    # The sale's own distribution hours say 09:30–12:00; the only point's slots run 17:00–19:00.
    type(sale).objects.filter(pk=sale.pk).update(
        distribution_starts_at=datetime.combine(sale.distribution.date, time(9, 30), tzinfo=MONDAY.tzinfo),
        distribution_ends_at=datetime.combine(sale.distribution.date, time(12, 0), tzinfo=MONDAY.tzinfo),
    )
    shop = read(browse(alpha).get(f"/ventes/{sale.pk}/"))
    assert "Distribution le vendredi 18 décembre, de 17:00 à 19:00." in shop and "09:30" not in shop
    # A member's page reads the slots with the sale (checkout.selectors.sale_for_member): the same hours.
    shop = read(browse(alpha, alpha.member).get(f"/ventes/{sale.pk}/"))
    assert "Distribution le vendredi 18 décembre, de 17:00 à 19:00." in shop and "09:30" not in shop
    home = read(browse(alpha).get("/"))
    assert "Distribution le vendredi 18 décembre, de 17:00 à 19:00." in home


def test_points_with_different_hours_are_given_per_point_on_the_sale_page_and_emails(
    browse, alpha, cash_shop, django_capture_on_commit_callbacks
):
    centre = point_services.point_create(
        name="Centre social", address="2 rue Neuve", town="Agen", slot_minutes=60, slot_capacity=5
    )
    point_services.point_update(
        point=centre, hours=[(day, start, end) for day in range(7) for start, end in [(time(11), time(13))]]
    )
    gap = point_services.point_create(
        name="Local associatif", address="3 rue Haute", town="Agen", slot_minutes=60, slot_capacity=5
    )
    point_services.point_update(
        point=gap,
        hours=[(day, s, e) for day in range(7) for s, e in [(time(9), time(10)), (time(14), time(16))]],
    )
    sale = sale_services.sale_create(
        title="Vente des trois points",
        opens_at=MONDAY - timedelta(days=1),
        closes_at=MONDAY + timedelta(days=2),
        distribution_starts_at=datetime.combine(FRIDAY, time(17), tzinfo=MONDAY.tzinfo),
        distribution_ends_at=datetime.combine(FRIDAY, time(19), tzinfo=MONDAY.tzinfo),
        points=[cash_shop.point, centre, gap],
        producers=[cash_shop.tomatoes.producer],
        publish=True,
    )
    for who in (None, alpha.member):  # a visitor's page, and a member's (slots read with the sale)
        shop = read(browse(alpha, who).get(f"/ventes/{sale.pk}/"))
        assert (
            "Distribution le vendredi 18 décembre : Centre social : 11:00 – 13:00 ; "
            "Local associatif : 09:00 – 10:00, 14:00 – 16:00 ; Salle des fêtes : 17:00 – 19:00." in shop
        )
    mail.outbox = []
    emails.sale_member_email(collective=alpha.collective, sale=sale, user=alpha.member, kind="open")
    body = " ".join(mail.outbox[0].body.split())
    assert "Distribution le vendredi 18 décembre 2026, à retirer à :" in body
    assert "- Centre social, 2 rue Neuve Agen : 11:00 – 13:00" in body
    assert "Salle des fêtes, 1 place de la Mairie Agen : 17:00 – 19:00" in body


def test_my_orders_reads_each_orders_money_in_one_query_per_table(browse, alpha, cash_shop):
    """« Mes commandes » lists every order with its money line: lines, ledger entries and payments are read
    once for all the orders, not once per order."""
    client = browse(alpha, alpha.member)
    _checkout(client, cash_shop, {cash_shop.tomatoes: 2}, method=PaymentMethod.CASH)
    with CaptureQueriesContext(connection) as queries:
        page = read(client.get("/commandes/"))
    assert "Commande" in page
    for table in ("orders_orderline", "orders_ledgerentry", "orders_payment"):
        # Read per order, a query would filter on one order (`"order_id" = 1`) rather than all of them (`IN`).
        per_order = [q["sql"] for q in queries if re.search(rf'"{table}"."order_id" = \d', q["sql"])]
        assert not per_order, f"{table} read order by order: {per_order}"
        assert any(f'"{table}"."order_id" IN' in q["sql"] for q in queries), f"{table} not read"
