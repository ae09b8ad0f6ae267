"""The treasurer's books as a treasurer notices them: each point's cash box at a distribution (expected from
the ledger's on-site entries per method, counted, the difference with its reason, closed once), the cheques'
deposit slip, food vouchers per issuer, members' transfers expected and received; bad input in French; the
other roles, other points' staff and the other collective see nothing."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
import tablib
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from marketplace.models import Membership, Role, User
from marketplace.personal_data import member_data_export, membership_leave
from orders.cashbox import services as cashbox_services
from orders.checkout import services as checkout_services
from orders.models import (
    CashBox,
    CashCount,
    LedgerEntry,
    Order,
    Payment,
    PaymentMethod,
    ProducerBankAccount,
    VoucherIssuer,
)
from orders.payments import services as payment_services
from orders.payments.balance import order_balance
from pickup_points import services as point_services
from producers import services as producer_services
from producers.models import ProducerAccount
from tests.conftest import text, words
from tests.orders.conftest import make_sale

CASH, CHEQUE, VOUCHER, TRANSFER = (
    PaymentMethod.CASH,
    PaymentMethod.CHEQUE,
    PaymentMethod.FOOD_VOUCHER,
    PaymentMethod.TRANSFER,
)


def _member(cast, email: str, first_name: str, last_name: str) -> User:
    user = User.objects.create_user(
        email=email, password="x-pass-1234", first_name=first_name, last_name=last_name
    )
    Membership.objects.create(user=user, collective=cast.collective, roles=[Role.MEMBER])
    return user


def _treasurer(cast) -> User:
    user = User.objects.create_user(email=f"tresor@{cast.collective.slug}.test", password="x-pass-1234")
    user.first_name, user.last_name = "Thérèse", "Trésor"
    user.save()
    Membership.objects.create(user=user, collective=cast.collective, roles=[Role.TREASURER])
    return user


def _order(market, user, quantities, method, slot: int = 0) -> Order:
    return checkout_services.order_place(
        sale_id=market.sale.pk,
        user=user,
        quantities={offer.pk: quantity for offer, quantity in quantities.items()},
        slot_id=market.slots[slot].pk,
        payment_method=method,
    )


def _pay(order: Order, method: str, amount: str, note: str = "", issuer=None, by=None) -> Payment:
    return payment_services.onsite_payment_record(
        order_id=order.pk,
        method=method,
        amount=Decimal(amount),
        note=note,
        issuer=issuer,
        by=by or order.user,
    )


@pytest.fixture
def day(alpha, market):
    """A distribution where three households paid on site (cash, a cheque, vouchers, a cash refund), and a
    second sale at the same point whose cash is another box's."""
    payment_services.shop_settings_update(payment_methods=[CASH, CHEQUE, VOUCHER, TRANSFER])
    point_services.point_staff_add(collective=alpha.collective, point=market.point, user=alpha.staff)
    bernard = _member(alpha, "bernard@alpha.test", "Bernard", "Lafon")
    chloe = _member(alpha, "chloe@alpha.test", "Chloé", "Martin")
    ccas = VoucherIssuer.objects.create(name="CCAS d'Agen")
    tickets = VoucherIssuer.objects.create(name="Titres-restaurant")
    maud = _order(market, alpha.member, {market.tomatoes: 2, market.cheese: 1}, CASH)  # 9,20 €
    bern = _order(market, bernard, {market.wine: 2}, CHEQUE, slot=1)  # 19,80 €
    chlo = _order(market, chloe, {market.tomatoes: 4, market.cheese: 2}, VOUCHER)  # 18,40 €
    staff = alpha.staff
    _pay(maud, CASH, "10.00", by=staff)  # 0,80 € too much: given back in cash below
    payment_services.refund_create(
        order_id=maud.pk, amount=Decimal("0.80"), reason="Monnaie rendue", by=staff
    )
    _pay(bern, CHEQUE, "19.80", note="chèque n° 0012345", by=staff)
    _pay(chlo, VOUCHER, "10.00", issuer=ccas, by=staff)
    _pay(chlo, VOUCHER, "5.00", issuer=tickets, by=staff)
    _pay(chlo, CASH, "3.40", by=staff)
    other_sale = make_sale(market.point, [market.tomatoes.producer], title="Autre vente")
    other_offer = other_sale.offers.get(name="Tomme")
    other = checkout_services.order_place(
        sale_id=other_sale.pk,
        user=alpha.member,
        quantities={other_offer.pk: 1},
        slot_id=other_sale.distribution.slots.first().pk,
        payment_method=CASH,
    )
    _pay(other, CASH, "4.20", by=staff)
    return {
        "distribution": market.sale.distribution,
        "point": market.point,
        "orders": {"maud": maud, "bernard": bern, "chloe": chlo},
        "issuers": {"ccas": ccas, "tickets": tickets},
        "other": other_sale.distribution,
        "url": f"/tresorerie/caisses/{market.sale.distribution.pk}/points/{market.point.pk}/",
    }


def _count(client, day, method: str, counted: str, reason: str = "", key: str = "k1"):
    return client.post(
        day["url"],
        {"method": method, f"{method}-counted": counted, f"{method}-reason": reason, f"{method}-key": key},
    )


def _box_sum(day, method: str) -> Decimal:
    return LedgerEntry.objects.filter(
        order__sale__distribution=day["distribution"],
        method=method,
        kind__in=[LedgerEntry.Kind.ONSITE_PAYMENT, LedgerEntry.Kind.REFUND],
    ).aggregate(total=Sum("amount"))["total"]


def test_expected_is_the_sum_of_the_distributions_on_site_entries_per_method(browse, alpha, day):
    page = browse(alpha, alpha.coordinator).get(day["url"])
    assert page.status_code == 200
    shown = words(page)
    # Cash: 10,00 − 0,80 given back + 3,40; cheque 19,80; the other sale's 4,20 is another box's.
    assert _box_sum(day, CASH) == Decimal("12.60") and _box_sum(day, CHEQUE) == Decimal("19.80")
    assert "Espèces Attendu 12,60 €" in shown and "Chèques Attendu 19,80 €" in shown
    assert "CCAS d'Agen : 10,00 €" in shown and "Titres-restaurant : 5,00 €" in shown
    assert "1 chèque, 19,80 €." in shown
    other = browse(alpha, alpha.coordinator).get(
        f"/tresorerie/caisses/{day['other'].pk}/points/{day['point'].pk}/"
    )
    assert "Espèces Attendu 4,20 €" in words(other)


def test_a_count_with_a_difference_shows_it_and_records_it_once(browse, alpha, day):
    treasurer = browse(alpha, _treasurer(alpha))
    no_reason = _count(treasurer, day, "cash", "12,20")
    assert no_reason.status_code == 400
    assert "Écart de caisse de -0,40 € (attendu 12,60 €, compté 12,20 €) : indiquez-en le motif." in words(
        no_reason
    )
    assert 'value="12,20"' in text(no_reason)  # what was typed stays
    assert not CashCount.objects.exists()
    done = _count(treasurer, day, "cash", "12,20", reason="Erreur de rendu de monnaie")
    assert done.status_code == 302
    again = _count(treasurer, day, "cash", "12,20", reason="Erreur de rendu de monnaie")  # double submit
    assert again.status_code == 302
    count = CashCount.objects.get()
    assert (count.expected, count.counted, count.difference) == (
        Decimal("12.60"),
        Decimal("12.20"),
        Decimal("-0.40"),
    )
    page = words(treasurer.get(day["url"]))
    assert "Écart de caisse -0,40 € — Erreur de rendu de monnaie" in page
    assert page.count("Erreur de rendu de monnaie") == 2  # the standing count and its history line
    # A correction is a new count; the history keeps both.
    _count(treasurer, day, "cash", "12,60", key="k2")
    assert CashCount.objects.count() == 2
    assert "Écart de caisse aucun" in words(treasurer.get(day["url"]))


def test_a_closed_cash_box_refuses_changes_with_a_message(browse, alpha, day):
    treasurer = browse(alpha, _treasurer(alpha))
    close_url = day["url"] + "cloturer/"
    early = treasurer.post(close_url, follow=True)
    assert "Comptez d'abord les espèces (12,60 € attendus)." in words(early)
    _count(treasurer, day, "cash", "12,60", key="a")
    _count(treasurer, day, "cheque", "19,80", key="b")
    _pay(day["orders"]["bernard"], CASH, "1.00")  # paid after the count: the count is stale
    stale = treasurer.post(close_url, follow=True)
    assert (
        "Des paiements ont été enregistrés depuis le comptage des espèces : 13,60 € attendus maintenant. "
        "Comptez de nouveau." in words(stale)
    )
    assert not CashBox.objects.filter(closed_at__isnull=False).exists()
    _count(treasurer, day, "cash", "13,60", key="c")
    closed = treasurer.post(close_url, follow=True)
    assert "Caisse clôturée : ses comptages ne changent plus." in text(closed)
    box = CashBox.objects.get()
    assert box.is_closed and "Caisse clôturée le" in words(closed)
    assert "Enregistrer le comptage" not in text(closed) and "Clôturer la caisse" not in words(closed)
    refused = _count(treasurer, day, "cash", "20,00", reason="?", key="d")
    assert refused.status_code == 400 and "Cette caisse a été clôturée le" in text(refused)
    assert CashCount.objects.count() == 3
    twice = treasurer.post(close_url, follow=True)
    assert "Cette caisse a été clôturée le" in text(twice)
    with pytest.raises(Exception, match="clôturée"):
        cashbox_services.cash_count_record(
            distribution_id=day["distribution"].pk,
            point_id=day["point"].pk,
            method="cash",
            counted=Decimal("1"),
            reason="x",
            key="e",
            by=alpha.coordinator,
        )


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-5", "Le montant compté ne peut pas être négatif."),
        ("douze", "Indiquez un montant en euros, par ex. 12,50."),
        ("12,505", "Deux chiffres après la virgule au plus."),
        ("", "Indiquez le montant compté (0 si rien)."),
    ],
)
def test_bad_counts_get_french_messages_and_record_nothing(browse, alpha, day, typed, message):
    response = _count(browse(alpha, alpha.coordinator), day, "cash", typed, reason="motif")
    assert response.status_code == 400 and message in text(response)
    assert f'value="{typed}"' in text(response) or not typed
    assert not CashCount.objects.exists()


def test_vouchers_are_summed_per_issuer_and_the_on_site_form_asks_for_one(browse, alpha, day):
    coordinator = browse(alpha, alpha.coordinator)
    order = day["orders"]["chloe"]
    url = f"/points/commandes/{order.pk}/paiement/"
    prefix = f"order{order.pk}"
    missing = coordinator.post(url, {f"{prefix}-method": VOUCHER, f"{prefix}-amount": "1,00"})
    assert missing.status_code == 400 and "Choisissez l'émetteur des bons." in text(missing)
    done = coordinator.post(
        url,
        {
            f"{prefix}-method": VOUCHER,
            f"{prefix}-amount": "1,00",
            f"{prefix}-issuer": day["issuers"]["ccas"].pk,
        },
    )
    assert done.status_code == 302
    entry = LedgerEntry.objects.filter(method=VOUCHER).order_by("-pk").first()
    assert "CCAS d'Agen" in entry.reason  # the member's ledger says whose vouchers
    today = timezone.localdate()
    period = {"start": str(today), "end": str(today + timedelta(days=30))}
    page = words(coordinator.get("/tresorerie/bons/", period))
    assert "CCAS d'Agen : 11,00 €" in page and "Titres-restaurant : 5,00 €" in page
    assert "Total de la période : 16,00 €" in page
    before = words(
        coordinator.get("/tresorerie/bons/", {"start": str(today - timedelta(days=30)), "end": str(today)})
    )
    assert "Aucun bon reçu pour les distributions de cette période." in before
    backwards = coordinator.get("/tresorerie/bons/", {"start": period["end"], "end": period["start"]})
    assert backwards.status_code == 400 and "La fin de la période précède son début." in text(backwards)
    # The list the collective keeps: an issuer added, one no longer accepted leaves the forms.
    added = coordinator.post("/tresorerie/bons/emetteurs/", {"name": "Chèques du Département"}, follow=True)
    assert "« Chèques du Département » ajouté" in text(added)
    duplicate = coordinator.post("/tresorerie/bons/emetteurs/", {"name": "ccas d'agen"})
    assert duplicate.status_code == 400 and "« CCAS d'Agen » est déjà dans la liste." in text(duplicate)
    coordinator.post(f"/tresorerie/bons/emetteurs/{day['issuers']['tickets'].pk}/")
    day_page = text(coordinator.get(f"/points/{day['point'].pk}/distributions/{day['distribution'].pk}/"))
    assert ">Chèques du Département</option>" in day_page and ">Titres-restaurant</option>" not in day_page


def test_a_transfer_marked_received_leaves_what_is_expected_and_lowers_what_is_due(
    browse, alpha, day, market
):
    payer = _member(alpha, "daniel@alpha.test", "Daniel", "Virement")
    order = _order(market, payer, {market.wine: 1, market.cheese: 1}, TRANSFER)  # 14,10 €
    treasurer = browse(alpha, _treasurer(alpha))
    listed = words(treasurer.get("/tresorerie/virements-des-membres/"))
    assert "Virements attendus : 14,10 €" in listed and "Daniel Virement" in listed
    url = f"/tresorerie/virements-des-membres/{order.pk}/"
    prefix = f"order{order.pk}"
    today = timezone.localdate()
    form = {f"{prefix}-amount": "10,00", f"{prefix}-received_on": str(today), f"{prefix}-seen": "14.10"}
    future = treasurer.post(url, {**form, f"{prefix}-received_on": str(today + timedelta(days=1))})
    assert future.status_code == 400 and "La date de réception ne peut pas être dans le futur." in text(
        future
    )
    letters = treasurer.post(url, {**form, f"{prefix}-amount": "dix"})
    assert letters.status_code == 400 and "Indiquez un montant en euros, par ex. 12,50." in text(letters)
    partial = treasurer.post(url, form, follow=True)
    assert "Virement de 10,00 € reçu pour la commande" in words(
        partial
    ) and "Il reste 4,10 € attendus." in words(partial)
    order.refresh_from_db()
    assert order_balance(order).remaining == Decimal("4.10")
    assert "Virements attendus : 4,10 €" in words(partial)
    twice = treasurer.post(url, form)  # the same form again: recorded once
    assert twice.status_code == 400 and "ce virement vient d'être enregistré" in text(twice)
    assert Payment.objects.filter(order=order).count() == 1
    rest = {**form, f"{prefix}-amount": "4,10", f"{prefix}-seen": "4.10"}
    assert treasurer.post(url, rest).status_code == 302
    page = words(treasurer.get("/tresorerie/virements-des-membres/"))
    assert "Daniel Virement" in page.split("Derniers virements reçus")[1]
    assert "Aucun virement attendu." in page
    order.refresh_from_db()
    assert order.payment_status == "paid"
    entry = LedgerEntry.objects.filter(order=order, method=TRANSFER).first()
    assert f"reçu le {today:%d/%m/%Y}" in entry.reason


def test_the_cheque_slip_lists_each_cheque_with_member_basket_and_amount(browse, alpha, day):
    slip = browse(alpha, alpha.staff).get(day["url"] + "cheques/")
    assert slip.status_code == 200
    shown = words(slip)
    basket = day["orders"]["bernard"].basket_number
    assert "Bordereau de remise de chèques" in shown and "Nombre de chèques 1" in shown
    assert f"1 Bernard Lafon {basket} chèque n° 0012345 19,80 €" in shown
    assert "Total 19,80 €" in shown


def test_other_roles_other_points_and_the_other_collective_see_nothing(browse, alpha, beta, day, market):
    urls = [day["url"], day["url"] + "cheques/"]
    treasury_only = ["/tresorerie/caisses/", "/tresorerie/bons/", "/tresorerie/virements-des-membres/"]
    for person in (alpha.member, alpha.producer):
        client = browse(alpha, person)
        for url in [*urls, *treasury_only]:
            assert client.get(url).status_code == 403, (person, url)
        assert _count(client, day, "cash", "1,00", reason="x").status_code == 403
    # The point's own staff count and print the slip, but neither close nor see the treasury's pages.
    staff = browse(alpha, alpha.staff)
    assert staff.get(day["url"]).status_code == 200
    assert "Clôturer la caisse" not in words(staff.get(day["url"]))
    assert _count(staff, day, "cash", "12,60", key="s").status_code == 302
    assert staff.post(day["url"] + "cloturer/").status_code == 403
    for url in treasury_only:
        assert staff.get(url).status_code == 403
    # Staff of another point: 404.
    elsewhere = point_services.point_create(name="Épicerie", address="2 rue Neuve", town="Agen")
    connection.set_tenant(alpha.collective)
    other_staff = _member(alpha, "sophie@alpha.test", "Sophie", "Ailleurs")
    Membership.objects.filter(user=other_staff).update(roles=[Role.POINT_STAFF])
    point_services.point_staff_add(collective=alpha.collective, point=elsewhere, user=other_staff)
    for url in urls:
        assert browse(alpha, other_staff).get(url).status_code == 404
    # The other collective: its coordinator finds nothing of alpha's.
    for url in [*urls]:
        assert browse(beta, beta.coordinator).get(url).status_code == 404
    beta_pages = [words(browse(beta, beta.coordinator).get(url)) for url in treasury_only]
    connection.set_tenant(alpha.collective)
    assert all("Bernard Lafon" not in page and "d'Agen :" not in page for page in beta_pages)
    assert CashCount.objects.count() == 1


def test_the_accountants_export_holds_the_closed_boxes_differences(browse, alpha, day):
    coordinator = browse(alpha, alpha.coordinator)
    _count(coordinator, day, "cash", "12,20", reason="Pièce fausse", key="a")
    _count(coordinator, day, "cheque", "19,80", key="b")
    coordinator.post(day["url"] + "cloturer/")
    today = timezone.localdate()
    period = {"start": str(today), "end": str(today), "file_format": "csv"}
    rows = [
        line.split(";")
        for line in coordinator.get("/reglages/soldes/ecritures/", period)
        .content.decode("utf-8-sig")
        .splitlines()
    ]
    differences = [row for row in rows if row[5] == "écart de caisse"]
    assert len(differences) == 1  # the cheques were right: no line
    assert differences[0][6] == "Espèces" and differences[0][8] == "-0,40"
    assert "Salle des fêtes" in differences[0][7] and "Pièce fausse" in differences[0][7]
    xlsx = coordinator.get("/reglages/soldes/ecritures/", {**period, "file_format": "xlsx"})
    sheet = tablib.Dataset().load(io.BytesIO(xlsx.content), format="xlsx")
    assert len(sheet) == LedgerEntry.objects.count() + 1
    # A treasurer has the export too, on its own page; a bad period keeps what was typed.
    treasurer = browse(alpha, _treasurer(alpha))
    assert treasurer.get("/reglages/soldes/ecritures/").status_code == 200
    bad = treasurer.get("/reglages/soldes/ecritures/", {"start": "2026-03-10", "end": "2026-03-01"})
    assert bad.status_code == 400 and "La fin de la période précède son début." in text(bad)
    assert 'value="2026-03-10"' in text(bad)


def test_the_balances_page_keeps_the_typed_period_when_the_export_is_refused(browse, alpha, market):
    coordinator = browse(alpha, alpha.coordinator)
    response = coordinator.get(
        "/reglages/soldes/ecritures/",
        {"start": "2026-03-10", "end": "2026-03-01", "file_format": "csv", "from": "balances"},
    )
    assert response.status_code == 400
    page = text(response)
    assert "La fin de la période précède son début." in page
    assert 'value="2026-03-10"' in page and 'value="2026-03-01"' in page
    assert "Versement d'avance" in page or "Soldes" in page  # the balances page itself


def test_my_orders_reads_the_balance_in_one_aggregate(browse, alpha, market, django_assert_max_num_queries):
    order = _order(market, alpha.member, {market.tomatoes: 2}, CASH)
    client = browse(alpha, alpha.member)
    assert "Mon solde : 5,00 € à régler" in words(client.get("/commandes/"))
    _pay(order, CASH, "5.00")
    _pay(order, CASH, "1.00")
    page = client.get("/commandes/")
    assert "Mon solde : 1,00 € en ma faveur" in words(page)


def test_treasurers_enter_any_producers_bank_details_and_producers_only_their_own(
    browse, alpha, beta, market
):
    farm = market.tomatoes.producer
    bakery = producer_services.producer_create(name="Fournil de Lisa", town="Agen")
    ProducerAccount.objects.create(producer=farm, user=alpha.producer)
    treasurer = browse(alpha, _treasurer(alpha))
    form = {"holder": "Lisa Fournier", "iban": "FR76 3000 6000 0112 3456 7890 189", "bic": ""}
    saved = treasurer.post(f"/mes-ventes/coordonnees-bancaires/{bakery.pk}/", form, follow=True)
    assert "Coordonnées bancaires de Fournil de Lisa enregistrées" in text(saved)
    assert ProducerBankAccount.objects.get(producer=bakery).iban == "FR7630006000011234567890189"
    coordinator_page = browse(alpha, alpha.coordinator).get(f"/mes-ventes/coordonnees-bancaires/{farm.pk}/")
    assert coordinator_page.status_code == 200 and "d'après le RIB du producteur" in text(coordinator_page)
    bad = treasurer.post(f"/mes-ventes/coordonnees-bancaires/{farm.pk}/", {**form, "iban": "FR76 1234"})
    assert bad.status_code == 400 and "Cet IBAN n'est pas valide" in text(bad)
    producer = browse(alpha, alpha.producer)
    assert producer.get(f"/mes-ventes/coordonnees-bancaires/{farm.pk}/").status_code == 200
    assert producer.get(f"/mes-ventes/coordonnees-bancaires/{bakery.pk}/").status_code == 404
    assert browse(alpha, alpha.member).get(f"/mes-ventes/coordonnees-bancaires/{farm.pk}/").status_code == 403
    assert (
        browse(beta, beta.coordinator).get(f"/mes-ventes/coordonnees-bancaires/{bakery.pk}/").status_code
        == 404
    )
    connection.set_tenant(alpha.collective)


def test_a_producers_bank_details_are_in_their_data_export_and_go_when_they_leave(alpha, market):
    farm = market.tomatoes.producer
    ProducerAccount.objects.create(producer=farm, user=alpha.producer)
    ProducerBankAccount.objects.create(
        producer=farm, holder="Pierre Producer", iban="FR7630006000011234567890189"
    )
    shared = producer_services.producer_create(name="GAEC à deux", town="Agen")
    ProducerAccount.objects.create(producer=shared, user=alpha.producer)
    ProducerAccount.objects.create(producer=shared, user=alpha.coordinator)
    ProducerBankAccount.objects.create(producer=shared, holder="GAEC", iban="DE89370400440532013000")
    connection.set_schema_to_public()
    exported = member_data_export(user=alpha.producer)
    mine = next(entry for entry in exported["collectives"] if entry["collective"] == alpha.collective.name)
    assert {row["iban"] for row in mine["producer_bank_accounts"]} == {
        "FR7630006000011234567890189",
        "DE89370400440532013000",
    }
    membership_leave(collective=alpha.collective, user=alpha.producer)
    connection.set_tenant(alpha.collective)
    # Their own farm's details go with them; the GAEC's stay for its other account.
    assert list(ProducerBankAccount.objects.values_list("holder", flat=True)) == ["GAEC"]


def test_the_list_of_cash_boxes_says_what_each_expects_and_where_its_count_stands(
    browse, alpha, day, django_assert_max_num_queries
):
    coordinator = browse(alpha, alpha.coordinator)
    with django_assert_max_num_queries(20):
        listed = words(coordinator.get("/tresorerie/caisses/"))
    assert "Salle des fêtes 12,60 € 19,80 € à compter" in listed
    _count(coordinator, day, "cash", "12,20", reason="Pièce fausse", key="a")
    _count(coordinator, day, "cheque", "19,80", key="b")
    coordinator.post(day["url"] + "cloturer/")
    assert "Salle des fêtes 12,60 € 19,80 € clôturée écart -0,40 €" in words(
        coordinator.get("/tresorerie/caisses/")
    )
