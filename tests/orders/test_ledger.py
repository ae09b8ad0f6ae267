"""The ledger, at the level a treasurer notices: every euro has an entry and a reason; a goodwill refund
leaves nothing due (order page, day page, prefilled on-site forms); a refund made in the Stripe dashboard
shows up once with its reason, even delivered twice; entries add up to payments less refunds for every
sale; credit (« avoir ») and top-ups never break the collective's floor; each member sees only their own
ledger and the other collective sees nothing."""

from __future__ import annotations

import importlib
import io
import re
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import tablib
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django_tenants.utils import tenant_context

from marketplace.models import Membership, Role, User
from orders.checkout import services as checkout_services
from orders.ledger import selectors as ledger_selectors
from orders.ledger import services as ledger_services
from orders.models import (
    LedgerEntry,
    MemberAccount,
    Order,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    Sale,
)
from orders.payments import gateway
from orders.payments import services as payment_services
from orders.payments.balance import order_balance
from pickup_points.models import PickupSlot
from tests.conftest import text, words
from tests.orders.conftest import make_sale
from tests.orders.test_payments import _back_from_stripe, _checkout, _session_id
from tests.orders.test_stripe_webhooks import _post

GOODWILL = payment_services.RefundKind.GOODWILL
OVERPAYMENT = payment_services.RefundKind.OVERPAYMENT


def _member(cast, email: str, first_name: str) -> User:
    user = User.objects.create_user(email=email, password="x-pass-1234", first_name=first_name, last_name="L")
    Membership.objects.create(user=user, collective=cast.collective, roles=[Role.MEMBER])
    return user


def _paid_card_order(browse, alpha, market, double) -> tuple:
    """12,40 € (a bottle of wine and a kilo of tomatoes) paid by card on the double's page."""
    client = browse(alpha, alpha.member)
    response = _checkout(client, market, {market.wine: 1, market.tomatoes: 1})
    _back_from_stripe(client, double.pay(_session_id(response)))
    order = Order.objects.get(user=alpha.member, sale=market.sale, status=Order.Status.PLACED)
    assert order.total == Decimal("12.40") and order.payment_status == PaymentStatus.PAID
    return client, order


def _entries_sum(**filters) -> Decimal:
    return LedgerEntry.objects.filter(**filters).aggregate(total=Sum("amount"))["total"] or Decimal("0")


def _prefilled_amount(page: str, prefix: str = "") -> str:
    tag = re.search(rf'<input[^>]*name="{prefix}amount"[^>]*>', page)
    assert tag, "no on-site amount field"
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return value.group(1) if value else ""


# The defect: a goodwill refund must lower what is due ---------------------------------------------------


def test_a_goodwill_refund_from_the_form_leaves_nothing_due_anywhere(
    browse, alpha, card_market, stripe_on, django_capture_on_commit_callbacks
):
    member, order = _paid_card_order(browse, alpha, card_market, stripe_on)
    coordinator = browse(alpha, alpha.coordinator)
    form = text(coordinator.get(f"/ventes/{card_market.sale.pk}/commandes/{order.pk}/"))
    assert "Geste commercial (produit abîmé, manquant…)" in form and "Trop-perçu ou produit retiré" in form
    with django_capture_on_commit_callbacks(execute=True):
        done = coordinator.post(
            f"/ventes/{card_market.sale.pk}/commandes/{order.pk}/remboursement/",
            {"kind": "goodwill", "amount": "2,00", "reason": "Tomates abîmées"},
        )
    assert done.status_code == 302
    refund = Refund.objects.get()
    assert refund.amount == Decimal("2.00") and refund.status == Refund.Status.SUCCEEDED
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID  # not « réglée en partie »
    # The member's order page: the gesture and the refund, nothing left to pay.
    page = words(member.get(f"/commandes/{order.pk}/"))
    assert "Reste à régler" not in page
    assert "Geste commercial −2,00 €" in page and "Remboursement de 2,00 € : Tomates abîmées" in page
    # The coordinator's page and the day page ask for nothing, and prefill nothing.
    money_page = coordinator.get(f"/ventes/{card_market.sale.pk}/commandes/{order.pk}/")
    assert "Reste à régler 0,00 €" in words(money_page)
    assert _prefilled_amount(text(money_page)) == ""
    day = coordinator.get(f"/points/{card_market.point.pk}/distributions/{card_market.sale.distribution_id}/")
    assert "Reste dû 0,00 €" in words(day)
    assert _prefilled_amount(text(day), prefix=f"order{order.pk}-") == ""
    # The ledger: due 12,40, paid 12,40, goodwill 2,00, refunded 2,00: the order's entries sum to zero.
    entries = {(e.kind, e.amount) for e in LedgerEntry.objects.filter(order=order)}
    assert entries == {
        ("order_due", Decimal("-12.40")),
        ("card_payment", Decimal("12.40")),
        ("goodwill", Decimal("2.00")),
        ("refund", Decimal("-2.00")),
    }
    assert _entries_sum(order=order) == 0
    balance_page = words(member.get("/mon-solde/"))
    assert "Geste commercial : Tomates abîmées" in balance_page and "à jour, rien à régler" in balance_page


def test_a_goodwill_gesture_on_an_order_not_paid_yet_lowers_what_is_asked_on_site(browse, alpha, market):
    client = browse(alpha, alpha.member)
    _checkout(client, market, {market.wine: 1, market.tomatoes: 1}, method=PaymentMethod.CASH)
    order = Order.objects.get(user=alpha.member)
    payment_services.refund_create(
        order_id=order.pk,
        amount=Decimal("2.00"),
        reason="Bouteille ébréchée",
        by=alpha.coordinator,
        kind=GOODWILL,
    )
    assert not Refund.objects.exists()  # nothing was paid: nothing to give back
    coordinator = browse(alpha, alpha.coordinator)
    page = text(coordinator.get(f"/ventes/{market.sale.pk}/commandes/{order.pk}/"))
    assert _prefilled_amount(page) == "10,40"
    assert "Reste à régler 10,40 €" in words(client.get(f"/commandes/{order.pk}/"))


def test_a_refund_of_an_overpayment_gives_back_only_what_was_paid_in_excess(browse, alpha, market):
    client = browse(alpha, alpha.member)
    _checkout(client, market, {market.wine: 1, market.tomatoes: 1}, method=PaymentMethod.CASH)
    order = Order.objects.get(user=alpha.member)
    payment_services.onsite_payment_record(
        order_id=order.pk, method=PaymentMethod.CASH, amount=Decimal("15.00"), note="", by=alpha.staff
    )
    with pytest.raises(payment_services.PaymentRefused, match="Seuls 2,60"):
        payment_services.refund_create(
            order_id=order.pk,
            amount=Decimal("3.00"),
            reason="Monnaie",
            by=alpha.coordinator,
            kind=OVERPAYMENT,
        )
    payment_services.refund_create(
        order_id=order.pk,
        amount=Decimal("2.60"),
        reason="Monnaie rendue",
        by=alpha.coordinator,
        kind=OVERPAYMENT,
    )
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID
    assert _entries_sum(order=order) == 0


# A refund made in the Stripe dashboard ------------------------------------------------------------------


def test_a_dashboard_refund_shows_up_once_with_its_reason_even_delivered_twice(
    browse, alpha, card_market, stripe_on, public_host
):
    member, order = _paid_card_order(browse, alpha, card_market, stripe_on)
    payment = Payment.objects.get()
    before = len(stripe_on.events)
    gateway.refund_create(
        account=payment.stripe_account,
        payment_intent_id=payment.stripe_payment_intent_id,
        amount=Decimal("2.00"),
        idempotency_key="dashboard-goodwill",
        metadata={},
    )
    events = [e for e in stripe_on.events[before:] if e["type"].startswith(("charge.refund", "refund."))]
    assert events, "the double sent no refund event"
    webhook = browse(public_host)
    for event in events + events:  # every event delivered twice
        assert _post(webhook, event).status_code == 200
    refund = Refund.objects.get()
    assert refund.amount == Decimal("2.00") and refund.reason == "Remboursement fait depuis Stripe"
    goodwill = LedgerEntry.objects.get(order=order, kind=LedgerEntry.Kind.GOODWILL)
    assert goodwill.amount == Decimal("2.00") and "remboursement fait depuis Stripe" in goodwill.reason
    assert LedgerEntry.objects.filter(refund=refund).count() == 1
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID
    page = words(member.get(f"/commandes/{order.pk}/"))
    assert "Reste à régler" not in page and page.count("Remboursement fait depuis Stripe") == 1


# Every sale adds up ---------------------------------------------------------------------------------------


def _scenario(alpha, market) -> list[Order]:
    """Four households: paid on site, paid too much and refunded, weighed and settled, cancelled after
    paying, with a goodwill gesture on one."""
    people = [alpha.member] + [_member(alpha, f"foyer{i}@alpha.test", f"Foyer{i}") for i in range(1, 4)]
    orders = []
    for person, quantities in zip(
        people,
        [{market.tomatoes: 2}, {market.cheese: 2}, {market.beef: 1, market.tomatoes: 1}, {market.wine: 1}],
        strict=True,
    ):
        orders.append(
            checkout_services.order_place(
                sale_id=market.sale.pk,
                user=person,
                quantities={offer.pk: qty for offer, qty in quantities.items()},
                slot_id=market.slots[len(orders) % 2].pk,
                payment_method=PaymentMethod.CASH,
            )
        )
    by = alpha.coordinator
    pay = payment_services.onsite_payment_record
    pay(order_id=orders[0].pk, method=PaymentMethod.CASH, amount=Decimal("5.00"), note="", by=by)
    pay(order_id=orders[1].pk, method=PaymentMethod.CHEQUE, amount=Decimal("10.00"), note="n° 42", by=by)
    payment_services.refund_create(
        order_id=orders[1].pk, amount=Decimal("1.60"), reason="Trop-perçu", by=by, kind=OVERPAYMENT
    )
    line = orders[2].lines.get(is_variable_weight=True)
    payment_services.line_weigh(line_id=line.pk, weight_kg=Decimal("0.612"))
    pay(order_id=orders[2].pk, method=PaymentMethod.FOOD_VOUCHER, amount=Decimal("20.00"), note="", by=by)
    payment_services.refund_create(
        order_id=orders[2].pk, amount=Decimal("1.00"), reason="Tomate abîmée", by=by, kind=GOODWILL
    )
    payment_services.order_settle(order_id=orders[2].pk, by=by)
    pay(order_id=orders[3].pk, method=PaymentMethod.CASH, amount=Decimal("9.90"), note="", by=by)
    checkout_services.order_cancel(order_id=orders[3].pk, user=people[3])
    return orders


def test_for_every_sale_the_entries_add_up_to_payments_less_refunds(browse, alpha, market):
    orders = _scenario(alpha, market)
    for sale in Sale.objects.all():
        received = Payment.objects.filter(order__sale=sale, status=Payment.Status.SUCCEEDED).aggregate(
            total=Sum("amount")
        )["total"] or Decimal("0")
        refunded = Refund.objects.filter(payment__order__sale=sale).exclude(
            status=Refund.Status.FAILED
        ).aggregate(total=Sum("amount"))["total"] or Decimal("0")
        assert ledger_selectors.sale_money_in_entries(sale_id=sale.pk) == received - refunded
    for order in Order.objects.filter(pk__in=[o.pk for o in orders]):
        balance = order_balance(order)
        # What the pages show (paid less due) is what the entries say.
        assert _entries_sum(order=order) == balance.net - balance.due, order.number
        assert (
            LedgerEntry.objects.filter(order=order).exclude(reason="").count()
            == LedgerEntry.objects.filter(order=order).count()
        )
    weighed = Order.objects.get(pk=orders[2].pk)
    assert weighed.payment_status == PaymentStatus.PAID
    assert LedgerEntry.objects.filter(order=weighed, kind=LedgerEntry.Kind.WEIGHING).exists()
    cancelled = Order.objects.get(pk=orders[3].pk)
    assert _entries_sum(order=cancelled) == 0  # due cancelled, payment refunded in full
    # The coordinator's payments page reads the same numbers.
    page = words(browse(alpha, alpha.coordinator).get(f"/ventes/{market.sale.pk}/paiements/"))
    assert "Gestes commerciaux 1,00 €" in page


def test_the_data_migration_writes_entries_that_give_the_balances_shown(alpha, market):
    orders = _scenario(alpha, market)
    shown = {}
    for order in Order.objects.filter(pk__in=[o.pk for o in orders]):
        balance = order_balance(order)
        shown[order.pk] = balance.net - balance.due
    LedgerEntry.objects.filter(kind=LedgerEntry.Kind.GOODWILL).delete()  # the one kind that did not exist
    LedgerEntry.objects.exclude(kind=LedgerEntry.Kind.GOODWILL).delete()
    migration = importlib.import_module("orders.migrations.0009_ledger_entries_for_existing_orders")
    migration.entries_write(apps, None)
    for order in Order.objects.filter(pk__in=[o.pk for o in orders]):
        # Without the gesture (not recorded before the ledger), the weighed order shows what it did then.
        expected = shown[order.pk] - (Decimal("1.00") if order.pk == orders[2].pk else 0)
        assert _entries_sum(order=order) == expected, order.number


# Credit (« avoir ») and top-ups ----------------------------------------------------------------------------


def _credit_on(coordinator_client, overdraft: str = "0"):
    response = coordinator_client.post(
        "/reglages/paiements/",
        {
            "payment_methods": ["cash"],
            "weight_margin_percent": 15,
            "card_hold_minutes": 30,
            "credit_allowed": "on",
            "credit_overdraft": overdraft,
        },
    )
    assert response.status_code == 302, text(response)


def test_a_member_keeps_an_overpayment_as_credit_and_spends_it_on_the_next_sale(browse, alpha, market):
    coordinator = browse(alpha, alpha.coordinator)
    member = browse(alpha, alpha.member)
    _checkout(member, market, {market.tomatoes: 2}, method=PaymentMethod.CASH)  # 5,00 €
    order = Order.objects.get(user=alpha.member)
    payment_services.onsite_payment_record(
        order_id=order.pk, method=PaymentMethod.CASH, amount=Decimal("8.00"), note="", by=alpha.staff
    )
    # Without the setting, the form offers no credit.
    url = f"/ventes/{market.sale.pk}/commandes/{order.pk}/"
    assert "Garder en avoir" not in text(coordinator.get(url))
    _credit_on(coordinator)
    assert "Garder en avoir pour la prochaine vente" in text(coordinator.get(url))
    kept = coordinator.post(
        url + "remboursement/",
        {"kind": "overpayment", "amount": "3,00", "reason": "Monnaie", "keep_as_credit": "on"},
    )
    assert kept.status_code == 302 and not Refund.objects.exists()
    assert ledger_selectors.account_balance(user_id=alpha.member.pk) == Decimal("3.00")
    # Next sale: the order page offers the credit, which pays part of it.
    farm = market.tomatoes.producer
    next_sale = make_sale(market.point, [farm], title="Vente suivante")
    tomatoes = next_sale.offers.get(product=market.tomatoes.product)
    member.post(f"/ventes/{next_sale.pk}/", {f"qty_{tomatoes.pk}": 2})
    member.post(
        f"/ventes/{next_sale.pk}/commander/",
        {
            "slot": PickupSlot.objects.filter(distribution=next_sale.distribution)
            .order_by("starts_at")
            .first()
            .pk,
            "payment_method": "cash",
        },
    )
    second = Order.objects.get(user=alpha.member, sale=next_sale)
    page = words(member.get(f"/commandes/{second.pk}/"))
    assert "Payer avec mon avoir (3,00 € disponibles)" in page
    paid = member.post(f"/commandes/{second.pk}/avoir/", follow=True)
    assert "3,00 € payés avec votre avoir." in words(paid)
    assert "Reste à régler 2,00 €" in words(paid) and "Payé avec l'avoir 3,00 €" in words(paid)
    assert ledger_selectors.account_balance(user_id=alpha.member.pk) == 0
    assert ledger_selectors.account_balance_from_entries(user_id=alpha.member.pk) == 0
    assert "Payer avec mon avoir" not in words(paid)  # nothing left to spend: no button that would refuse
    again = member.post(f"/commandes/{second.pk}/avoir/", follow=True)
    assert "Vous n'avez pas d'avoir à utiliser." in words(again)
    balance = words(member.get("/mon-solde/"))
    assert "Gardé en avoir : Monnaie" in balance and "Avoir utilisé pour la commande" in balance
    # Cancelling the order gives the credit back to the account.
    checkout_services.order_cancel(order_id=second.pk, user=alpha.member)
    assert ledger_selectors.account_balance(user_id=alpha.member.pk) == Decimal("3.00")
    assert ledger_selectors.account_balance_from_entries(user_id=alpha.member.pk) == Decimal("3.00")


def test_a_coordinator_records_a_top_up_and_only_coordinators_may(browse, alpha, beta, market):
    coordinator = browse(alpha, alpha.coordinator)
    refused = coordinator.post(
        "/reglages/soldes/", {"member": alpha.member.pk, "method": "transfer", "amount": "20,00"}
    )
    assert refused.status_code == 400 and "ne propose pas les versements d'avance" in text(refused)
    _credit_on(coordinator)
    for data, message in [
        ({"member": alpha.member.pk, "method": "card", "amount": "20"}, "Sélectionnez un choix valide"),
        ({"member": alpha.member.pk, "method": "cash", "amount": "-1"}, "Le montant doit être positif."),
        ({"member": 999999, "method": "cash", "amount": "5"}, "Sélectionnez un choix valide"),
        ({"member": alpha.member.pk, "method": "cash", "amount": "2500"}, "2\xa0000,00\xa0€ au plus."),
    ]:
        bad = coordinator.post("/reglages/soldes/", data)
        assert bad.status_code == 400 and message in text(bad)
    done = coordinator.post(
        "/reglages/soldes/",
        {"member": alpha.member.pk, "method": "transfer", "amount": "20,00", "note": "VIR 0412"},
        follow=True,
    )
    assert "Versement d'avance enregistré" in words(done)
    assert ledger_selectors.account_balance(user_id=alpha.member.pk) == Decimal("20.00")
    page = words(browse(alpha, alpha.member).get("/mon-solde/"))
    assert "Versement d'avance, Virement bancaire (VIR 0412)" in page and "20,00 € en votre faveur" in page
    for person in (alpha.member, alpha.producer, alpha.staff):
        assert browse(alpha, person).get("/reglages/soldes/").status_code == 403
    # The other collective sees none of it: its own schema holds no entry, its page lists nobody of alpha.
    with tenant_context(beta.collective):
        assert not LedgerEntry.objects.exists() and not MemberAccount.objects.exists()
    beta_page = text(browse(beta, beta.coordinator).get("/reglages/soldes/"))
    assert alpha.member.display_name not in beta_page and "20,00" not in beta_page
    connection.set_tenant(alpha.collective)


def test_a_member_sees_only_their_own_ledger(browse, alpha, market):
    neighbour = _member(alpha, "voisine@alpha.test", "Voisine")
    checkout_services.order_place(
        sale_id=market.sale.pk,
        user=neighbour,
        quantities={market.wine.pk: 1},
        slot_id=market.slots[0].pk,
        payment_method=PaymentMethod.CASH,
    )
    theirs = Order.objects.get(user=neighbour)
    mine = words(browse(alpha, alpha.member).get("/mon-solde/"))
    assert theirs.number not in mine and "Aucun mouvement pour l'instant." in mine
    assert theirs.number in words(browse(alpha, neighbour).get("/mon-solde/"))
    assert browse(alpha).get("/mon-solde/").status_code == 302  # signed out: to the login page
    assert browse(alpha, alpha.member).post(f"/commandes/{theirs.pk}/avoir/").status_code == 404


def test_the_floor_is_a_database_constraint(alpha, market):
    MemberAccount.objects.create(user=alpha.member, balance=Decimal("1.00"), overdraft=Decimal("0"))
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberAccount.objects.filter(user=alpha.member).update(balance=Decimal("-0.01"))


# Concurrent top-ups and spends never break the floor -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_spends_and_top_ups_never_break_the_floor(alpha, market):
    payment_services.shop_settings_update(payment_methods=[PaymentMethod.CASH], credit_allowed=True)
    farm = market.tomatoes.producer
    orders = []
    for index in range(6):
        sale = market.sale if index == 0 else make_sale(market.point, [farm], title=f"Vente {index}")
        offer = sale.offers.get(product=market.tomatoes.product)
        slot = PickupSlot.objects.filter(distribution=sale.distribution).order_by("starts_at").first()
        orders.append(
            checkout_services.order_place(
                sale_id=sale.pk,
                user=alpha.member,
                quantities={offer.pk: 2},  # 5,00 € each
                slot_id=slot.pk,
                payment_method=PaymentMethod.CASH,
            )
        )
    ledger_services.topup_record(
        user_id=alpha.member.pk,
        amount=Decimal("10.00"),
        method=PaymentMethod.CASH,
        note="",
        by=alpha.coordinator,
    )
    barrier = threading.Barrier(8)
    unexpected: list[str] = []

    def run(index: int) -> None:
        connection.set_tenant(alpha.collective)
        try:
            barrier.wait()
            if index < 6:
                payment_services.credit_spend(order_id=orders[index].pk, user=alpha.member)
            else:
                ledger_services.topup_record(
                    user_id=alpha.member.pk,
                    amount=Decimal("1.50"),
                    method=PaymentMethod.CHEQUE,
                    note=f"chèque {index}",
                    by=alpha.coordinator,
                )
        except payment_services.PaymentRefused:
            pass
        except Exception as error:  # noqa: BLE001 - any other error is a failure of the test
            unexpected.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    connection.set_tenant(alpha.collective)
    assert unexpected == []
    account = MemberAccount.objects.get(user=alpha.member)
    spent = -_entries_sum(order__isnull=True, kind=LedgerEntry.Kind.CREDIT_SPENT)
    assert account.balance >= 0
    assert account.balance == ledger_selectors.account_balance_from_entries(user_id=alpha.member.pk)
    assert account.balance == Decimal("13.00") - spent
    # What left the account reached the orders, no more.
    assert _entries_sum(order__in=orders, kind=LedgerEntry.Kind.CREDIT_SPENT) == spent
    assert spent >= Decimal("10.00")  # the first 10,00 € were there before any thread started


def test_checkout_offers_the_credit_and_a_card_order_fully_covered_needs_no_card(
    browse, alpha, card_market, stripe_on
):
    payment_services.shop_settings_update(
        payment_methods=[PaymentMethod.CARD, PaymentMethod.CASH], credit_allowed=True
    )
    member = browse(alpha, alpha.member)
    member.post(f"/ventes/{card_market.sale.pk}/", {f"qty_{card_market.tomatoes.pk}": 2})
    assert "Utiliser mon avoir" not in text(member.get(f"/ventes/{card_market.sale.pk}/commander/"))
    ledger_services.topup_record(
        user_id=alpha.member.pk,
        amount=Decimal("6.00"),
        method=PaymentMethod.CASH,
        note="",
        by=alpha.coordinator,
    )
    assert "Utiliser mon avoir (6,00\xa0€ disponibles)" in text(
        member.get(f"/ventes/{card_market.sale.pk}/commander/")
    )
    placed = member.post(
        f"/ventes/{card_market.sale.pk}/commander/",
        {"slot": card_market.slots[0].pk, "payment_method": "card", "use_credit": "on"},
        follow=True,
    )
    assert "5,00\xa0€ payés avec votre avoir." in text(placed)  # not sent to Stripe
    order = Order.objects.get(user=alpha.member)
    assert order.payment_status == PaymentStatus.PAID and not Payment.objects.exists()
    assert ledger_selectors.account_balance(user_id=alpha.member.pk) == Decimal("1.00")


def test_coordinators_export_every_entry_of_a_period_for_the_accountant(browse, alpha, beta, market):
    orders = _scenario(alpha, market)
    today = timezone.localdate()
    month = {"start": str(today - timedelta(days=3)), "end": str(today + timedelta(days=1))}
    later = {"start": str(today + timedelta(days=2)), "end": str(today + timedelta(days=30))}
    coordinator = browse(alpha, alpha.coordinator)
    url = "/reglages/soldes/ecritures/"
    csv_file = coordinator.get(url, {**month, "file_format": "csv"})
    assert csv_file.status_code == 200 and csv_file["Content-Type"].startswith("text/csv")
    rows = [line.split(";") for line in csv_file.content.decode("utf-8-sig").strip().splitlines()]
    assert rows[0][:2] == ["Date", "Membre"] and len(rows) - 1 == LedgerEntry.objects.count()
    assert any("Trop-perçu" in row[7] and row[8] == "-1,60" for row in rows[1:])
    assert sum(Decimal(row[8].replace(",", ".")) for row in rows[1:]) == _entries_sum()
    assert orders[0].number in csv_file.content.decode("utf-8-sig")
    xlsx = coordinator.get(url, {**month, "file_format": "xlsx"})
    sheet = tablib.Dataset().load(io.BytesIO(xlsx.content), format="xlsx")
    assert len(sheet) == LedgerEntry.objects.count()
    assert sum(Decimal(str(amount)) for amount in sheet.get_col(8)) == _entries_sum()
    # Days after: nothing; a period backwards: its reason, no file.
    empty = coordinator.get(url, {**later, "file_format": "csv"})
    assert empty.content.decode("utf-8-sig").strip().count("\n") == 0
    backwards = coordinator.get(
        url, {"start": month["end"], "end": month["start"], "file_format": "csv"}, follow=True
    )
    assert "La fin de la période précède son début." in text(backwards)
    for person in (alpha.member, alpha.producer, alpha.staff):
        assert browse(alpha, person).get(url, month).status_code == 403
    other = browse(beta, beta.coordinator).get(url, {**month, "file_format": "csv"})
    assert other.content.decode("utf-8-sig").strip().count("\n") == 0  # beta's books hold none of alpha's
    connection.set_tenant(alpha.collective)


def test_credit_spent_on_a_weighed_order_comes_back_when_the_weight_is_lower(alpha, market):
    payment_services.shop_settings_update(payment_methods=[PaymentMethod.CASH], credit_allowed=True)
    ledger_services.topup_record(
        user_id=alpha.member.pk,
        amount=Decimal("20.00"),
        method=PaymentMethod.CASH,
        note="",
        by=alpha.coordinator,
    )
    order = checkout_services.order_place(
        sale_id=market.sale.pk,
        user=alpha.member,
        quantities={market.beef.pk: 1},  # about 12,00 €
        slot_id=market.slots[0].pk,
        payment_method=PaymentMethod.CASH,
    )
    assert payment_services.credit_spend(order_id=order.pk, user=alpha.member) == Decimal("12.00")
    line = order.lines.get()
    payment_services.line_weigh(line_id=line.pk, weight_kg=Decimal("0.400"))  # 9,60 €
    payment_services.order_settle(order_id=order.pk, by=alpha.coordinator)
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID
    assert order_balance(order).remaining == 0 and order_balance(order).excess == 0
    # 20,00 − 12,00 + 2,40 back: the weighing's difference returns to the account, not lost.
    assert ledger_selectors.account_balance(user_id=alpha.member.pk) == Decimal("10.40")
    assert ledger_selectors.account_balance_from_entries(user_id=alpha.member.pk) == Decimal("10.40")
    assert LedgerEntry.objects.filter(
        order=order, kind=LedgerEntry.Kind.WEIGHING, amount=Decimal("2.40")
    ).exists()
