"""seed_demo opens a sale in each demo collective, with a few orders and a recurring schedule, once."""

import io

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings
from django_tenants.utils import tenant_context

from marketplace.models import Collective, SharedProduct, User
from orders.models import LedgerEntry, OfferWait, Order, PriceTier, RecurringSchedule, Sale, SolidarityFund
from tests.conftest import text, words


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo, seeded once for this module's tests (seeding takes seconds; seeding again, which each test
    still may do, adds nothing). It lives in a transaction of its own, rolled back after the module: each
    test runs in a savepoint of it, rolled back after the test as usual, so no test sees another's changes
    and no other module sees the demo. Its photos go to a folder of the module's."""
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("demo-media")),
        transaction.atomic(),
    ):
        call_command("seed_demo", "--quiet", stdout=io.StringIO())
        connection.set_schema_to_public()
        yield
        transaction.set_rollback(True)


@pytest.fixture
def media_root(demo, settings):
    return settings.MEDIA_ROOT


def test_demo_sales(browse, media_root):
    call_command("seed_demo", "--quiet", stdout=io.StringIO())  # a second run adds nothing
    for slug, kind, payment in [("cagette47", "weekly", "cash"), ("emplettes", "monthly", "food_voucher")]:
        collective = Collective.objects.get(slug=slug)
        with tenant_context(collective):
            open_sales = [sale for sale in Sale.objects.all() if sale.is_open]
            assert len(open_sales) == 1
            sale = open_sales[0]
            assert sale.offers.count() >= 5 and sale.distribution.slots.exists()
            placed = Order.objects.filter(
                status=Order.Status.PLACED
            )  # the buying group's has a cancelled one
            assert list(placed.values_list("payment_method", flat=True)) == [payment]
            assert RecurringSchedule.objects.get().kind == kind
            assert Sale.objects.filter(schedule__isnull=False).exists()
        home = text(browse(f"{slug}.localhost").get("/"))
        assert sale.title in home and "Commander" in home
        member = User.objects.get(email=f"membre@{slug}.demo")
        orders = text(browse(f"{slug}.localhost", member).get("/commandes/"))
        assert sale.title in orders


def test_demo_buying_group_has_solidarity_prices(browse, media_root):
    """Emplettes et Cagettes: three tiers, Fatou on « solidaire » ordering with the fund's help, a basket
    suspended by Claire; the drive has none of it."""
    group = Collective.objects.get(slug="emplettes")
    with tenant_context(group):
        assert list(PriceTier.objects.values_list("name", flat=True)) == [
            "solidaire",
            "de base",
            "de soutien",
        ]
        order = Order.objects.get(status=Order.Status.PLACED)
        assert order.tier_percent == -30 and order.total < sum(line.base_amount for line in order.lines.all())
        basket = LedgerEntry.objects.get(account="fund", kind=LedgerEntry.Kind.SUSPENDED_BASKET)
        assert basket.user.email == "claire@demo.etal"
        discount = LedgerEntry.objects.get(account="fund", order=order)
        assert discount.amount < 0
        assert SolidarityFund.objects.get().balance == 35 + discount.amount
    member = User.objects.get(email="membre@emplettes.demo")
    shop = text(browse("emplettes.localhost", member).get(f"/ventes/{order.sale_id}/"))
    assert "Tarif « solidaire »" in shop
    coordinator = User.objects.get(email="coordination@emplettes.demo")
    fund_page = text(browse("emplettes.localhost", coordinator).get("/reglages/fonds-solidaire/"))
    assert "Claire Dubois" in fund_page and "Panier suspendu" in fund_page
    with tenant_context(Collective.objects.get(slug="cagette47")):
        assert not PriceTier.objects.exists() and not LedgerEntry.objects.filter(account="fund").exists()


def test_demo_claire_sells_in_both_collectives_from_one_catalogue_and_one_stock(browse, media_root):
    call_command("seed_demo", "--quiet", stdout=io.StringIO())  # a second run adds nothing
    claire = User.objects.get(email="claire@demo.etal")
    crottin = SharedProduct.objects.get(owner=claire, name="Crottin frais")
    assert (crottin.stock, crottin.reserved, crottin.available) == (30, 4, 26)  # 2 ordered in each collective
    assert SharedProduct.objects.filter(owner=claire).count() == 4

    drive = words(browse("cagette47.localhost").get("/boutique/"))
    group = words(browse("emplettes.localhost").get("/boutique/"))
    assert "Crottin frais 2,20 €" in drive and "Crottin frais 2,00 €" in group
    assert "Lait cru de chèvre" in drive and "Lait cru de chèvre" not in group  # the buying group refused it

    page = words(browse("localhost", claire).get("/mes-ventes/"))
    assert "La cagette collective 47 · Drive de la semaine" in page
    assert "Emplettes et Cagettes · Bon de commande du mois" in page
    assert "Crottin frais 2 × pièce" in page


def test_demo_buying_group_has_a_waiting_list_that_gave_a_freed_place_to_its_first_member(browse, media_root):
    """Claire cancelled her order in a full slot: the place is held for Fatou, first in line; Nadia waits."""
    fatou = text(
        browse("emplettes.localhost", User.objects.get(email="membre@emplettes.demo")).get(
            "/mes-listes-attente/"
        )
    )
    assert (
        "Une place s'est libérée : elle vous est réservée jusqu'au" in fatou
        and "Prendre cette place" in fatou
    )
    nadia = browse("emplettes.localhost", User.objects.get(email="coordination@emplettes.demo"))
    assert "Vous êtes le premier de la liste." in text(nadia.get("/mes-listes-attente/"))
    with tenant_context(Collective.objects.get(slug="emplettes")):
        sale_id = Sale.objects.filter(closed_at__isnull=True, schedule__isnull=True).get().pk
    orders_page = text(nadia.get(f"/ventes/{sale_id}/commandes/"))
    assert "Listes d'attente : 1 en attente, 1 place(s) réservée(s) en cours d'offre" in orders_page
    # A sold-out product too: Claire cancelled her 2, held for Fatou (who asked for 2); Nadia is next.
    assert (
        "Listes d'attente des produits épuisés : 1 en attente, 1 réservation(s) en cours d'offre"
        in orders_page
    )
    assert "Il s'est libéré : 2 vous sont réservés jusqu'au" in fatou and "Les ajouter à ma commande" in fatou
    with tenant_context(Collective.objects.get(slug="emplettes")):
        held = OfferWait.objects.get(status=OfferWait.Status.OFFERED)
        order = Order.objects.get(status=Order.Status.PLACED, user__email="membre@emplettes.demo")
    member = browse("emplettes.localhost", User.objects.get(email="membre@emplettes.demo"))
    added = text(member.post(f"/mes-listes-attente/produits/{held.pk}/accepter/", follow=True))
    assert "ils sont ajoutés à votre commande" in added and held.offer.name in added
    with tenant_context(Collective.objects.get(slug="emplettes")):
        assert order.lines.get(offer=held.offer).quantity == 2
