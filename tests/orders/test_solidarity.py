"""Solidarity prices as members and coordinators notice them: a member on the solidarity tier sees and pays
−30 %, suppliers are paid the base price (sheets, statements), the support tier and gifts raise the fund,
the fund never goes below zero (a constraint, and real threads racing for it), a short fund is said on the
sale page before ordering, a cancellation gives the discount back, weighing adjusts it, and only
coordinators see a member's tier — in their own collective only."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from marketplace.models import Membership, Role, User
from orders import pricing
from orders.checkout import services as checkout_services
from orders.closing import jobs
from orders.ledger import fund
from orders.ledger import services as ledger_services
from orders.models import LedgerEntry, MemberAccount, Order, PaymentMethod, SolidarityFund
from orders.payments import services as payment_services
from orders.sheets.services import sheet_specs
from orders.solidarity import services as solidarity_services
from orders.statements import services as statement_services
from tests.conftest import words


@pytest.fixture
def tiers(market):
    return {
        name: solidarity_services.tier_save(
            tier_id=None, name=name, percent=Decimal(percent), description="", position=index, is_active=True
        )
        for index, (name, percent) in enumerate(
            [("solidaire", "-30"), ("de base", "0"), ("de soutien", "15")]
        )
    }


def _give(alpha, amount: str) -> None:
    ledger_services.fund_gift_record(
        user_id=alpha.coordinator.pk,
        amount=Decimal(amount),
        kind=LedgerEntry.Kind.SUSPENDED_BASKET,
        method=PaymentMethod.CASH,
        note="",
        by=alpha.coordinator,
    )


def _order_through_pages(client, market, quantity: int = 2, slot_index: int = 0):
    response = client.post(f"/ventes/{market.sale.pk}/", {f"qty_{market.tomatoes.pk}": quantity})
    assert response.status_code == 302
    page = client.get(f"/ventes/{market.sale.pk}/commander/")
    seen = page.context["form"]["pricing"].value()
    return page, client.post(
        f"/ventes/{market.sale.pk}/commander/",
        {"slot": market.slots[slot_index].pk, "payment_method": PaymentMethod.CASH, "pricing": seen},
    )


def test_tier_price_is_one_rounded_function():
    assert pricing.tier_price(Decimal("2.50"), Decimal("-30")) == Decimal("1.75")
    assert pricing.tier_price(Decimal("2.50"), Decimal("15")) == Decimal("2.88")  # 2,875 rounded half up
    assert pricing.tier_price(Decimal("2.50"), None) == Decimal("2.50")
    assert pricing.pricing_variant(None) == "base"
    assert pricing.pricing_variant(Decimal("-30")) != pricing.pricing_variant(Decimal("15"))


def test_a_solidarity_member_sees_and_pays_their_prices(alpha, market, tiers, browse):
    _give(alpha, "20.00")
    client = browse(alpha, alpha.member)
    chosen = client.post("/mon-tarif/", {"tier": tiers["solidaire"].pk})
    assert chosen.status_code == 302
    assert "aucun justificatif" in words(client.get("/mon-tarif/"))
    shop = words(client.get(f"/ventes/{market.sale.pk}/"))
    assert "1,75 €" in shop and "2,50 €" not in shop  # tomatoes at −30 %
    assert "Tarif « solidaire »" in shop and "il couvre encore 20,00 €" in shop
    page, placed = _order_through_pages(client, market)
    assert "3,50 €" in words(page)
    # Back on the sale page before ordering, the cart's running total is at her price too.
    assert "Total du panier : 3,50 €" in words(client.get(f"/ventes/{market.sale.pk}/"))
    assert placed.status_code == 302
    order = Order.objects.get(user=alpha.member)
    assert order.total == Decimal("3.50")
    assert fund.fund_balance() == Decimal("18.50")
    assert "3,50 €" in words(client.get(f"/commandes/{order.pk}/"))
    assert "3,50 €" in words(client.get("/commandes/"))
    entry = LedgerEntry.objects.get(account=LedgerEntry.Account.FUND, order=order)
    assert entry.kind == LedgerEntry.Kind.TIER_DISCOUNT and entry.amount == Decimal("-1.50")
    # The member's own « Mon solde » shows what they owe, not the fund's entries.
    assert "Remise solidaire" not in words(client.get("/mon-solde/"))


def test_suppliers_see_base_prices_and_the_statement_sums_to_the_base(alpha, market, tiers):
    _give(alpha, "20.00")
    solidarity_services.member_tier_set(
        user_id=alpha.member.pk, tier_id=tiers["solidaire"].pk, by_member=True
    )
    checkout_services.order_place(
        sale_id=market.sale.pk,
        user=alpha.member,
        quantities={market.tomatoes.pk: 2, market.cheese.pk: 1},
        slot_id=market.slots[0].pk,
        payment_method=PaymentMethod.CASH,
        pricing_seen="tier",
    )
    assert Order.objects.get(user=alpha.member).total == Decimal("6.44")  # 3,50 + 2,94
    assert jobs.sale_close(sale_id=market.sale.pk, now=market.sale.closes_at + timedelta(minutes=1))
    specs = {spec.kind: spec for spec in sheet_specs(market.sale)}
    products = {product.name: product for product in specs["producer"].context["products"]}
    assert products["Tomates"].unit_price == Decimal("2.50") and products["Tomates"].amount == Decimal("5.00")
    assert specs["producer"].context["sheet"].total == Decimal("9.20")
    assert specs["summary"].context["fund_discounts"] == Decimal("2.76")
    statement = statement_services.statements_issue(sale_id=market.sale.pk)[0]
    assert [line.amount for line in statement.lines.all()] == [Decimal("5.00"), Decimal("4.20")]
    assert statement.gross == Decimal("9.20")


def test_a_support_surplus_and_a_gift_raise_the_fund(alpha, market, tiers, browse):
    payment_services.shop_settings_update(payment_methods=[PaymentMethod.CASH], credit_allowed=True)
    solidarity_services.member_tier_set(
        user_id=alpha.member.pk, tier_id=tiers["de soutien"].pk, by_member=True
    )
    client = browse(alpha, alpha.member)
    assert "2,88 €" in words(client.get(f"/ventes/{market.sale.pk}/"))
    _page, placed = _order_through_pages(client, market)
    assert placed.status_code == 302
    assert Order.objects.get(user=alpha.member).total == Decimal("5.76")
    assert fund.fund_balance() == Decimal("0")  # a member may still cancel: counted once the sale closes
    assert jobs.sale_close(sale_id=market.sale.pk, now=market.sale.closes_at + timedelta(minutes=1))
    assert fund.fund_balance() == Decimal("0.76")
    ledger_services.topup_record(
        user_id=alpha.member.pk,
        amount=Decimal("10.00"),
        method=PaymentMethod.CASH,
        note="",
        by=alpha.coordinator,
    )
    given = client.post("/mon-solde/donner/", {"kind": LedgerEntry.Kind.GIFT, "amount": "4,00"})
    assert given.status_code == 302
    assert fund.fund_balance() == Decimal("4.76")
    assert MemberAccount.objects.get(user=alpha.member).balance == Decimal("6.00")
    too_much = client.post("/mon-solde/donner/", {"kind": LedgerEntry.Kind.GIFT, "amount": "7,00"})
    assert too_much.status_code == 400 and "ne couvre pas ce montant" in words(too_much)
    coordinator_page = words(browse(alpha, alpha.coordinator).get("/reglages/fonds-solidaire/"))
    assert "4,76 €" in coordinator_page and alpha.member.display_name in coordinator_page
    # Other members see the gift, never who gave.
    other = User.objects.create_user(
        email="autre@alpha.test", password="x", first_name="Aline", last_name="Autre"
    )
    Membership.objects.create(user=other, collective=alpha.collective, roles=[Role.MEMBER])
    seen_by_other = words(browse(alpha, other).get("/mon-solde/"))
    assert "4,00 €" in seen_by_other and alpha.member.display_name not in seen_by_other


def test_a_short_fund_is_said_before_ordering_and_the_price_is_the_base(alpha, market, tiers, browse):
    solidarity_services.member_tier_set(
        user_id=alpha.member.pk, tier_id=tiers["solidaire"].pk, by_member=True
    )
    client = browse(alpha, alpha.member)
    shop = words(client.get(f"/ventes/{market.sale.pk}/"))
    assert "Le fonds solidaire ne couvre plus la remise : prix de base pour cette vente." in shop
    assert "2,50 €" in shop and "1,75 €" not in shop
    _give(alpha, "1.00")  # the fund covers 1,00 €; two tomatoes need 1,50 €
    page, _placed = None, None
    client.post(f"/ventes/{market.sale.pk}/", {f"qty_{market.tomatoes.pk}": 2})
    page = words(client.get(f"/ventes/{market.sale.pk}/commander/"))
    assert "il reste 1,00 €" in page and "5,00 €" in page
    # A member who saw the discount is not charged more behind their back: the order is refused, explained.
    refused = client.post(
        f"/ventes/{market.sale.pk}/commander/",
        {"slot": market.slots[0].pk, "payment_method": PaymentMethod.CASH, "pricing": "tier"},
    )
    assert refused.status_code == 400
    assert "Le fonds solidaire ne couvre plus la remise de ce panier" in words(refused)
    assert not Order.objects.filter(user=alpha.member).exists()
    placed = client.post(
        f"/ventes/{market.sale.pk}/commander/",
        {"slot": market.slots[0].pk, "payment_method": PaymentMethod.CASH, "pricing": "base"},
    )
    assert placed.status_code == 302
    order = Order.objects.get(user=alpha.member)
    assert order.total == Decimal("5.00") and fund.fund_balance() == Decimal("1.00")
    assert "Prix de base : le fonds solidaire ne couvrait pas la remise" in words(
        client.get(f"/commandes/{order.pk}/")
    )


def test_the_fund_floor_is_a_database_constraint(market):
    SolidarityFund.objects.create(pk=1, balance=Decimal("1.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        SolidarityFund.objects.filter(pk=1).update(balance=Decimal("-0.01"))


@pytest.mark.django_db(transaction=True)
def test_concurrent_solidarity_checkouts_never_take_the_fund_below_zero(alpha, market, tiers):
    _give(alpha, "3.00")  # two discounts of 1,50 €
    members = []
    for index in range(6):
        user = User.objects.create_user(
            email=f"solidaire{index}@alpha.test", password="x", first_name="S", last_name=str(index)
        )
        Membership.objects.create(user=user, collective=alpha.collective, roles=[Role.MEMBER])
        solidarity_services.member_tier_set(user_id=user.pk, tier_id=tiers["solidaire"].pk, by_member=True)
        members.append(user)
    slots = market.slots
    barrier = threading.Barrier(len(members))
    placed: list[int] = []
    refused: list[str] = []
    unexpected: list[str] = []

    def run(index: int) -> None:
        connection.set_tenant(alpha.collective)
        try:
            barrier.wait()
            order = checkout_services.order_place(
                sale_id=market.sale.pk,
                user=members[index],
                quantities={market.tomatoes.pk: 1},  # tomatoes: 10 in stock, 0,75 € of discount each
                slot_id=slots[index % len(slots)].pk,
                payment_method=PaymentMethod.CASH,
                pricing_seen="tier",
            )
            placed.append(order.pk)
        except checkout_services.OrderRefused as refusal:
            refused.append(str(refusal))
        except Exception as error:  # noqa: BLE001 - any other error is a failure of the test
            unexpected.append(repr(error))
        finally:
            connection.close()

    # Four discounts of 0,75 € fit in 3,00 €: at most four orders get it, never a fifth.
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(members))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    connection.set_tenant(alpha.collective)
    assert unexpected == []
    assert len(placed) == 4 and len(refused) == 2
    assert all("fonds solidaire" in message for message in refused)
    balance = SolidarityFund.objects.get(pk=1).balance
    assert balance == Decimal("0.00")
    entries = LedgerEntry.objects.filter(account=LedgerEntry.Account.FUND)
    assert sum(entry.amount for entry in entries) == balance


def test_cancelling_gives_the_reservation_back(alpha, market, tiers, browse):
    _give(alpha, "5.00")
    solidarity_services.member_tier_set(
        user_id=alpha.member.pk, tier_id=tiers["solidaire"].pk, by_member=True
    )
    client = browse(alpha, alpha.member)
    _order_through_pages(client, market)
    order = Order.objects.get(user=alpha.member)
    assert fund.fund_balance() == Decimal("3.50")
    assert client.post(f"/commandes/{order.pk}/annuler/").status_code == 302
    assert fund.fund_balance() == Decimal("5.00")
    reasons = list(LedgerEntry.objects.filter(account="fund", order=order).values_list("amount", flat=True))
    assert sorted(reasons) == [Decimal("-1.50"), Decimal("1.50")]


def test_weighing_adjusts_the_discount(alpha, market, tiers):
    _give(alpha, "10.00")
    solidarity_services.member_tier_set(
        user_id=alpha.member.pk, tier_id=tiers["solidaire"].pk, by_member=True
    )
    order = checkout_services.order_place(
        sale_id=market.sale.pk,
        user=alpha.member,
        quantities={market.beef.pk: 1},  # about 0,5 kg at 24,00 €/kg; 16,80 €/kg at −30 %
        slot_id=market.slots[0].pk,
        payment_method=PaymentMethod.CASH,
    )
    assert order.total == Decimal("8.40") and fund.fund_balance() == Decimal("6.40")
    assert jobs.sale_close(sale_id=market.sale.pk, now=market.sale.closes_at + timedelta(minutes=1))
    line = order.lines.get()
    payment_services.line_weigh(line_id=line.pk, weight_kg=Decimal("0.600"))
    line.refresh_from_db()
    assert line.weighed_amount == Decimal("10.08") and line.base_final_amount == Decimal("14.40")
    assert fund.fund_balance() == Decimal("5.68")  # 10,00 − 4,32


def test_weighing_beyond_the_fund_stays_with_the_order(alpha, market, tiers):
    _give(alpha, "3.60")  # exactly the estimated discount
    solidarity_services.member_tier_set(
        user_id=alpha.member.pk, tier_id=tiers["solidaire"].pk, by_member=True
    )
    order = checkout_services.order_place(
        sale_id=market.sale.pk,
        user=alpha.member,
        quantities={market.beef.pk: 1},
        slot_id=market.slots[0].pk,
        payment_method=PaymentMethod.CASH,
    )
    assert jobs.sale_close(sale_id=market.sale.pk, now=market.sale.closes_at + timedelta(minutes=1))
    payment_services.line_weigh(line_id=order.lines.get().pk, weight_kg=Decimal("0.600"))
    assert fund.fund_balance() == Decimal("0.00")
    short = LedgerEntry.objects.get(order=order, kind=LedgerEntry.Kind.FUND_SHORT)
    assert short.amount == Decimal("-0.72")
    order.refresh_from_db()
    from orders.payments.balance import order_balance

    assert order_balance(order).due == Decimal("10.80")  # 10,08 at −30 %, and 0,72 the fund could not pay


def test_only_coordinators_see_a_members_tier(alpha, market, tiers, browse):
    solidarity_services.member_tier_set(
        user_id=alpha.member.pk, tier_id=tiers["solidaire"].pk, by_member=True
    )
    other = User.objects.create_user(
        email="autre@alpha.test", password="x", first_name="Aline", last_name="Autre"
    )
    Membership.objects.create(user=other, collective=alpha.collective, roles=[Role.MEMBER])
    as_other = browse(alpha, other)
    assert as_other.get("/reglages/tarifs/").status_code == 403
    assert as_other.get("/reglages/fonds-solidaire/").status_code == 403
    assert "solidaire" not in words(as_other.get(f"/ventes/{market.sale.pk}/")).lower().replace(
        "fonds solidaire", ""
    )
    assert (
        as_other.post(
            f"/reglages/tarifs/membres/{other.pk}/", {f"member-{other.pk}-tier": tiers["solidaire"].pk}
        ).status_code
        == 403
    )
    page = words(browse(alpha, alpha.coordinator).get("/reglages/tarifs/"))
    assert alpha.member.display_name in page and "(choisi)" in page
    assigned = browse(alpha, alpha.coordinator).post(
        f"/reglages/tarifs/membres/{other.pk}/", {f"member-{other.pk}-tier": tiers["de soutien"].pk}
    )
    assert assigned.status_code == 302
    assert pricing.member_tier(user=other) == tiers["de soutien"]


def test_the_other_collective_sees_none_of_it(alpha, beta, market, tiers, browse):
    _give(alpha, "12.00")
    solidarity_services.member_tier_set(
        user_id=alpha.member.pk, tier_id=tiers["solidaire"].pk, by_member=True
    )
    for path in ["/reglages/tarifs/", "/reglages/fonds-solidaire/", "/mon-tarif/"]:
        assert browse(alpha, beta.coordinator).get(path).status_code in (403, 404)
    connection.set_schema_to_public()
    beta_fund = words(browse(beta, beta.coordinator).get("/reglages/fonds-solidaire/"))
    assert "12,00 €" not in beta_fund and alpha.coordinator.display_name not in beta_fund
    beta_tiers = words(browse(beta, beta.coordinator).get("/reglages/tarifs/"))
    assert "solidaire" not in beta_tiers.split("Tarifs du collectif")[1].split("Ajouter")[0]
    assert alpha.member.display_name not in beta_tiers
    refused = browse(beta, beta.coordinator).post(
        f"/reglages/tarifs/membres/{alpha.member.pk}/",
        {f"member-{alpha.member.pk}-tier": tiers["de soutien"].pk},
    )
    assert refused.status_code == 404
    connection.set_tenant(alpha.collective)
    assert pricing.member_tier(user=alpha.member) == tiers["solidaire"]


def test_a_coordinator_defines_tiers_on_the_settings_page(alpha, market, browse):
    client = browse(alpha, alpha.coordinator)
    added = client.post(
        "/reglages/tarifs/",
        {
            "new-name": "solidaire",
            "new-percent": "-30",
            "new-description": "",
            "new-position": "0",
            "new-is_active": "on",
        },
    )
    assert added.status_code == 302
    wrong = client.post(
        "/reglages/tarifs/",
        {"new-name": "trop", "new-percent": "-95", "new-description": "", "new-position": "0"},
    )
    assert wrong.status_code == 400 and "Une remise de 90 % au plus." in words(wrong)
    page = words(client.get("/reglages/tarifs/"))
    assert "solidaire" in page and "Ajouter un tarif" in page
    assert "solidaire" in words(browse(alpha, alpha.member).get("/mon-tarif/"))
    _ = timezone.now()


def test_a_coordinator_deletes_a_tier_nobody_uses_and_one_in_use_stays(alpha, beta, market, tiers, browse):
    from orders.models import PriceTier

    coordinator = browse(alpha, alpha.coordinator)
    page = words(coordinator.get("/reglages/tarifs/"))
    assert "Supprimer « de base »" in page and "Supprimer « solidaire »" in page
    deleted = coordinator.post(f"/reglages/tarifs/{tiers['de base'].pk}/supprimer/", follow=True)
    assert "Tarif « de base » supprimé." in words(deleted)
    assert not PriceTier.objects.filter(name="de base").exists()

    # A tier of a member stays, and the page says why and what to do instead.
    solidaire = tiers["solidaire"].pk
    solidarity_services.member_tier_set(user_id=alpha.member.pk, tier_id=solidaire, by_member=True)
    assert "Supprimer « solidaire »" not in words(coordinator.get("/reglages/tarifs/"))
    refused = words(coordinator.post(f"/reglages/tarifs/{tiers['solidaire'].pk}/supprimer/", follow=True))
    assert "« solidaire » est le tarif de 1 membre : donnez-lui un autre tarif" in refused
    # Orders placed at it keep it, even once nobody has it any more.
    _give(alpha, "20.00")
    _page, placed = _order_through_pages(browse(alpha, alpha.member), market)
    assert placed.status_code == 302
    solidarity_services.member_tier_set(user_id=alpha.member.pk, tier_id=None, by_member=True)
    refused = words(coordinator.post(f"/reglages/tarifs/{tiers['solidaire'].pk}/supprimer/", follow=True))
    assert "Des commandes ont été passées au tarif « solidaire »" in refused
    assert PriceTier.objects.filter(pk=tiers["solidaire"].pk).exists()

    # A member may not; another collective's coordinator finds no such tier in theirs.
    support = f"/reglages/tarifs/{tiers['de soutien'].pk}/supprimer/"
    assert browse(alpha, alpha.member).post(support).status_code == 403
    assert browse(beta, beta.coordinator).post(support).status_code == 404
    connection.set_tenant(alpha.collective)
    assert PriceTier.objects.filter(pk=tiers["de soutien"].pk).exists()
