"""A small market in collective alpha: one producer, four products, one pickup point, one open sale."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from marketplace.models import Collective, Membership, Role, User
from orders.models import Offer, PaymentMethod, Sale
from orders.payments import services as payment_services
from orders.sales import services as sale_services
from pickup_points import services as point_services
from pickup_points.models import PickupPoint, PickupSlot
from producers import services as producer_services
from producers import shared_catalogue
from producers.models import Product, Unit


@dataclass
class Market:
    sale: Sale
    point: PickupPoint
    tomatoes: Offer  # 10 in stock, 2.50 €
    cheese: Offer  # unlimited, 4.20 €
    beef: Offer  # by weight: 24.00 €/kg, about 0.5 kg a piece
    wine: Offer  # 20 % VAT, 3 in stock

    @property
    def slots(self) -> list[PickupSlot]:
        return list(PickupSlot.objects.filter(distribution=self.sale.distribution).order_by("starts_at"))


def local_at(days: int, at: time) -> datetime:
    return datetime.combine(
        timezone.localdate() + timedelta(days=days), at, tzinfo=timezone.get_current_timezone()
    )


def make_sale(
    point: PickupPoint, producers, *, opens_in_days: int = -1, title: str = "Vente de la semaine"
) -> Sale:
    return sale_services.sale_create(
        title=title,
        opens_at=timezone.now() + timedelta(days=opens_in_days),
        closes_at=timezone.now() + timedelta(days=opens_in_days + 3),
        distribution_starts_at=local_at(opens_in_days + 5, time(17, 0)),
        distribution_ends_at=local_at(opens_in_days + 5, time(19, 0)),
        points=[point],
        producers=producers,
        publish=True,
    )


@pytest.fixture
def in_alpha(alpha):
    connection.set_tenant(alpha.collective)
    return alpha


@pytest.fixture
def market(in_alpha) -> Market:
    payment_services.shop_settings_update(payment_methods=[PaymentMethod.CASH, PaymentMethod.FOOD_VOUCHER])
    farm = producer_services.producer_create(name="Ferme du Pech", town="Nérac")
    products = {
        "tomatoes": producer_services.product_create(
            producer=farm, name="Tomates", price=Decimal("2.50"), unit=Unit.KG, stock=10
        ),
        "cheese": producer_services.product_create(
            producer=farm, name="Tomme", price=Decimal("4.20"), unit=Unit.PIECE, stock=None
        ),
        "beef": producer_services.product_create(
            producer=farm,
            name="Rôti de bœuf",
            price=Decimal("24.00"),
            unit=Unit.KG,
            is_variable_weight=True,
            estimated_weight_kg=Decimal("0.5"),
            stock=20,
        ),
        "wine": producer_services.product_create(
            producer=farm,
            name="Vin de Buzet",
            price=Decimal("9.90"),
            unit=Unit.PIECE,
            vat_rate=Decimal("20"),
            stock=3,
        ),
    }
    point = point_services.point_create(
        name="Salle des fêtes", address="1 place de la Mairie", town="Agen", slot_minutes=30, slot_capacity=3
    )
    point_services.point_update(point=point, hours=[(day, time(17, 0), time(19, 0)) for day in range(7)])
    sale = make_sale(point, [farm])
    offers = {offer.product_id: offer for offer in sale.offers.all()}
    return Market(
        sale=sale,
        point=point,
        **{key: offers[product.pk] for key, product in products.items()},
    )


@pytest.fixture
def product_prices():
    return lambda: dict(Product.objects.values_list("name", "price"))


# Card payments against the Stripe double ------------------------------------------------------------------

STRIPE_TEST_KEY = "sk_test_etal_double"
WEBHOOK_SECRET = "whsec_etal_tests"


@pytest.fixture(scope="session")
def stripe_double():
    """The local Stripe double (devtools/stripe_double) for the whole session; tests deliver its events."""
    from devtools.stripe_double import StripeDouble

    double = StripeDouble(webhook_secret=WEBHOOK_SECRET).start()
    yield double
    double.stop()


@pytest.fixture
def stripe_on(settings, stripe_double):
    """The official stripe library pointed at the double, as `make dev` does without keys; the double
    starts each test empty (a transactional test restarts the id sequences our idempotency keys use)."""
    stripe_double.reset()
    settings.STRIPE_SECRET_KEY = STRIPE_TEST_KEY
    settings.STRIPE_API_BASE = stripe_double.url
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    return stripe_double


def stripe_connect(collective, double) -> str:
    """Connect the collective's Stripe account and finish its onboarding, as a coordinator would."""
    payment_services.stripe_connect_start(
        collective=collective, email="coord@test", refresh_url="http://x/", return_url="http://x/"
    )
    double.onboard(collective.stripe_account_id)
    assert payment_services.stripe_account_refresh(collective=collective)
    return collective.stripe_account_id


@pytest.fixture
def card_market(market, stripe_on) -> Market:
    """The market of alpha, with its Stripe account connected and card payment accepted."""
    stripe_connect(connection.tenant, stripe_on)
    payment_services.shop_settings_update(payment_methods=[PaymentMethod.CARD, PaymentMethod.CASH])
    return market


# One producer across two collectives (issue 19) ----------------------------------------------------------


@dataclass
class Side:
    collective: Collective
    sale: Sale
    offer: Offer

    def slots(self):
        with tenant_context(self.collective):
            return list(PickupSlot.objects.filter(distribution=self.sale.distribution).order_by("starts_at"))


def _shop(collective: Collective, farm_name: str, user: User, *, capacity: int = 50):
    with tenant_context(collective):
        payment_services.shop_settings_update(payment_methods=[PaymentMethod.CASH])
        farm = producer_services.producer_create(name=farm_name, town="Penne-d'Agenais")
        producer_services.producer_account_link(producer=farm, user=user)
        point = point_services.point_create(
            name=f"Point {collective.slug}",
            address="1 place",
            town="Agen",
            slot_minutes=60,
            slot_capacity=capacity,
        )
        point_services.point_update(point=point, hours=[(day, time(17, 0), time(19, 0)) for day in range(7)])
        return farm, point


def _sale(collective, point, farm) -> tuple[Sale, dict[str, Offer]]:
    with tenant_context(collective):
        sale = make_sale(point, [farm])
        return sale, {offer.name: offer for offer in sale.offers.select_related("product")}


@pytest.fixture
def two_shops(alpha, beta):
    """alpha's producer also sells in beta; « Crottin frais » (10 in the central stock) is in both, at 2,20 €
    in alpha and 2,40 € in beta; « Yaourt » is alpha's only."""
    claire = alpha.producer
    Membership.objects.create(user=claire, collective=beta.collective, roles=[Role.PRODUCER])
    farm_a, point_a = _shop(alpha.collective, "Chèvrerie du Pech", claire)
    farm_b, point_b = _shop(beta.collective, "Chèvrerie du Pech", claire)
    with tenant_context(alpha.collective):
        crottin = producer_services.product_create(
            producer=farm_a, name="Crottin frais", price=Decimal("2.20"), unit=Unit.PIECE, stock=10
        )
        producer_services.product_create(
            producer=farm_a, name="Yaourt", price=Decimal("1.10"), unit=Unit.JAR, stock=None
        )
    shared = shared_catalogue.shared_product_create_from(
        collective=alpha.collective, product_id=crottin.pk, user=claire
    )
    copy = shared_catalogue.shared_product_offer(
        shared=shared, collective=beta.collective, user=claire, price=Decimal("2.40")
    )
    with tenant_context(beta.collective):
        shared_catalogue.product_link_decide(product_id=copy.pk, accept=True)
    sale_a, offers_a = _sale(alpha.collective, point_a, farm_a)
    sale_b, offers_b = _sale(beta.collective, point_b, farm_b)
    return {
        "shared": shared,
        "a": Side(alpha.collective, sale_a, offers_a["Crottin frais"]),
        "b": Side(beta.collective, sale_b, offers_b["Crottin frais"]),
        "yaourt": offers_a["Yaourt"],
        "farm_b": farm_b,
    }
