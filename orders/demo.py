"""Demo sales for `manage.py seed_demo`: an open sale with a few orders, and a recurring schedule, in each
demo collective. Idempotent: nothing is added once the collective has a sale."""

from __future__ import annotations

import os
import urllib.request
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from orders.checkout import services as checkout_services
from orders.ledger import services as ledger_services
from orders.models import (
    LedgerEntry,
    PaymentMethod,
    ProducerStripeAccount,
    RecurringSchedule,
    Sale,
    ShopSettings,
    VoucherIssuer,
)
from orders.payments import connect, gateway
from orders.payments import services as payment_services
from orders.sales import services as sale_services
from orders.solidarity import services as solidarity_services
from orders.statements import services as statement_services
from orders.waiting import offers as offer_waits
from orders.waiting import services as waiting_services
from pickup_points import services as point_services
from pickup_points.models import Distribution, PickupPoint
from producers.models import Producer

DEMO = {
    "cagette47": {
        "payment_methods": [PaymentMethod.CASH, PaymentMethod.CHEQUE, PaymentMethod.TRANSFER],
        "title": "Drive de la semaine",
        "hours": (time(17, 0), time(19, 0)),
        "schedule": {"title": "Drive du vendredi", "kind": RecurringSchedule.Kind.WEEKLY},
        "orders": [("membre@cagette47.demo", 3, PaymentMethod.CASH)],
    },
    "emplettes": {
        "payment_methods": [PaymentMethod.CASH, PaymentMethod.FOOD_VOUCHER],
        "title": "Bon de commande du mois",
        "hours": (time(9, 30), time(12, 0)),
        "schedule": {
            "title": "Bon de commande mensuel",
            "kind": RecurringSchedule.Kind.MONTHLY,
            "distribution_start": time(9, 30),
            "distribution_end": time(12, 0),
            "sales_ahead": 1,
        },
        "orders": [("membre@emplettes.demo", 4, PaymentMethod.FOOD_VOUCHER)],
        # Who issues the vouchers its members pay with (the treasurer claims each one's total).
        "voucher_issuers": ["CCAS de Toulouse", "Chèques alimentaires de la Haute-Garonne"],
    },
}


SHARED_IN_EVERY_ORDER = "Crottin frais"


def _distribution_day(points, after):
    """The first day after `after` on which every demo point opens (the points' common weekday) and none of
    them has a distribution yet: the demo never shows two pickups of one morning at one place."""
    weekdays = set.intersection(
        *(set(point.opening_hours.values_list("weekday", flat=True)) for point in points)
    )
    taken = set(Distribution.objects.filter(points__in=points, date__gt=after).values_list("date", flat=True))
    day = after + timedelta(days=1)
    while day.weekday() not in weekdays or day in taken:
        day += timedelta(days=1)
    return day


def stripe_double_connect(collective) -> bool:
    """Under `make dev` without Stripe keys: link the drive's account at the local Stripe double and
    accept cards, at every start (the double forgets everything when it stops). True when card is on."""
    double_url = os.environ.get("STRIPE_DOUBLE_URL")
    if not double_url or collective.slug != "cagette47":
        return False
    if collective.stripe_account_id:
        try:
            gateway.account_retrieve(collective.stripe_account_id)
        except gateway.StripeError:  # an account of a previous run of the double
            collective.stripe_account_id = ""
    payment_services.stripe_connect_start(
        collective=collective,
        email="coordination@cagette47.demo",
        refresh_url=double_url,
        return_url=double_url,
    )
    request = urllib.request.Request(  # noqa: S310 - the local double's control endpoint
        f"{double_url}/_double/accounts/{collective.stripe_account_id}/onboard", data=b"", method="POST"
    )
    urllib.request.urlopen(request, timeout=10).close()  # noqa: S310
    if not payment_services.stripe_account_refresh(collective=collective):
        return False
    current = ShopSettings.current().payment_methods
    if PaymentMethod.CARD not in current:
        payment_services.shop_settings_update(payment_methods=[PaymentMethod.CARD, *current])
    if connect.connect_offered():
        _connect_producer(double_url, email=CONNECT_PRODUCER)
    return True


CONNECT_PRODUCER = "claire@demo.etal"


def _connect_producer(double_url: str, *, email: str) -> None:
    """The drive pays its producers by Stripe Connect; Claire's farm has set up its payouts (the other
    producers still see « Configurer mes versements » on « Mes ventes »)."""
    shop = ShopSettings.current()
    if not shop.pays_by_connect:
        statement_services.statement_settings_update(
            commission_percent=shop.commission_percent,
            commission_vat_rate=shop.commission_vat_rate,
            bank_holder=shop.bank_holder,
            bank_iban=shop.bank_iban,
            bank_bic=shop.bank_bic,
            producer_payout=ShopSettings.Payout.CONNECT,
        )
    producer = Producer.objects.filter(accounts__email=email).order_by("pk").first()
    if producer is None:
        return
    known = ProducerStripeAccount.objects.filter(producer=producer).first()
    if known is not None:
        try:
            gateway.account_retrieve(known.account_id)
        except gateway.StripeError:  # an account of a previous run of the double
            known.delete()
    connect.producer_connect_start(
        producer=producer, email=email, refresh_url=double_url, return_url=double_url
    )
    account = ProducerStripeAccount.objects.get(producer=producer).account_id
    request = urllib.request.Request(  # noqa: S310 - the local double's control endpoint
        f"{double_url}/_double/accounts/{account}/onboard", data=b"", method="POST"
    )
    urllib.request.urlopen(request, timeout=10).close()  # noqa: S310
    connect.producer_account_refresh(producer_id=producer.pk)


# The buying group's solidarity prices: three tiers, a member on the solidarity tier (her own choice), a
# basket suspended by another member and a gift, recorded on site by the coordinator, before she orders.
SOLIDARITY_TIERS = [
    ("solidaire", Decimal("-30"), "pour les foyers aux minima sociaux ou en difficulté ce mois-ci"),
    ("de base", Decimal("0"), "le prix négocié avec les fournisseurs"),
    ("de soutien", Decimal("15"), "pour qui peut aider : la différence va au fonds solidaire"),
]


def _solidarity_seed(accounts: dict) -> None:
    tiers = {
        name: solidarity_services.tier_save(
            tier_id=None, name=name, percent=percent, description=description, position=index, is_active=True
        )
        for index, (name, percent, description) in enumerate(SOLIDARITY_TIERS)
    }
    coordinator = accounts["coordination@emplettes.demo"]
    solidarity_services.member_tier_set(
        user_id=accounts["membre@emplettes.demo"].pk, tier_id=tiers["solidaire"].pk, by_member=True
    )
    solidarity_services.member_tier_set(
        user_id=coordinator.pk, tier_id=tiers["de soutien"].pk, by_member=True
    )
    ledger_services.fund_gift_record(
        user_id=accounts["claire@demo.etal"].pk,
        amount=Decimal("25.00"),
        kind=LedgerEntry.Kind.SUSPENDED_BASKET,
        method=PaymentMethod.CASH,
        note="",
        by=coordinator,
    )
    ledger_services.fund_gift_record(
        user_id=coordinator.pk,
        amount=Decimal("10.00"),
        kind=LedgerEntry.Kind.GIFT,
        method=PaymentMethod.CHEQUE,
        note="",
        by=coordinator,
    )


def _waiting_list_seed(sale: Sale, slots: list, offers: list, accounts: dict) -> None:
    """The first slot holds one household (Claire's): Fatou (membre@, her order in the second slot) and Nadia
    wait for it; Claire cancels, and the freed place is held for Fatou (« Mes listes d'attente »), for a day
    (never past the closing, two days ahead), then it would go to Nadia."""
    payment_services.shop_settings_update(
        payment_methods=ShopSettings.current().payment_methods, wait_hold_minutes=24 * 60
    )
    first = slots[0]
    point_services.slot_update(slot=first, capacity=1)
    claire = checkout_services.order_place(
        sale_id=sale.pk,
        user=accounts["claire@demo.etal"],
        quantities={offers[0].pk: 1},
        slot_id=first.pk,
        payment_method=PaymentMethod.CASH,
    )
    for email in ["membre@emplettes.demo", "coordination@emplettes.demo"]:
        waiting_services.slot_wait_join(slot_id=first.pk, user=accounts[email])
    checkout_services.order_cancel(order_id=claire.pk, user=accounts["claire@demo.etal"])
    waiting_services.slot_waits_offer(slot_id=first.pk)  # what the follow-up does (idempotent)


def _product_wait_seed(sale: Sale, offers: list, accounts: dict) -> None:
    """A product sold out, then freed: the last offer (not weighed, not from a central stock) is limited to
    2 and Claire orders both; Fatou (membre@, for 2) and Nadia (for 1) join its waiting list; Claire
    cancels, and the 2 freed units are held for Fatou (« Mes listes d'attente », a click adds them to her
    order); Nadia is next in line."""
    offer = next(
        offer
        for offer in reversed(offers)
        if not offer.is_variable_weight and offer.product.shared_product_id is None
    )
    sale_services.sale_offers_update(
        sale_id=sale.pk,
        rows=[
            sale_services.OfferRow(product_id=offer.product_id, included=True, quantity=2, price=offer.price)
        ],
    )
    claire = accounts["claire@demo.etal"]
    order = checkout_services.order_place(
        sale_id=sale.pk,
        user=claire,
        quantities={offer.pk: 2},
        slot_id=sale.distribution.slots.order_by("-starts_at").first().pk,
        payment_method=PaymentMethod.CASH,
    )
    for email, wanted in [("membre@emplettes.demo", 2), ("coordination@emplettes.demo", 1)]:
        offer_waits.offer_wait_join(offer_id=offer.pk, user=accounts[email], wanted=wanted)
    checkout_services.order_cancel(order_id=order.pk, user=claire)
    offer_waits.offer_waits_offer(offer_id=offer.pk)  # what the follow-up does (idempotent)


def seed(*, collective, accounts: dict) -> None:
    spec = DEMO.get(collective.slug)
    if spec is None or Sale.objects.exists():
        return
    methods = spec["payment_methods"]
    if PaymentMethod.CARD in ShopSettings.current().payment_methods:
        methods = [PaymentMethod.CARD, *methods]
    payment_services.shop_settings_update(payment_methods=methods)
    for name in spec.get("voucher_issuers", []):
        VoucherIssuer.objects.get_or_create(name=name)
    if collective.slug == "emplettes":
        _solidarity_seed(accounts)
    points = list(PickupPoint.objects.filter(is_active=True).order_by("pk"))
    producers = list(Producer.objects.filter(is_active=True))
    main_point = points[0]
    closes_at = timezone.localtime().replace(hour=23, minute=59, second=0, microsecond=0) + timedelta(days=2)
    day = _distribution_day([main_point], closes_at.date())
    tz = timezone.get_current_timezone()
    start, end = spec["hours"]
    sale = sale_services.sale_create(
        title=spec["title"],
        opens_at=timezone.now() - timedelta(hours=2),
        closes_at=closes_at,
        distribution_starts_at=datetime.combine(day, start, tzinfo=tz),
        distribution_ends_at=datetime.combine(day, end, tzinfo=tz),
        points=[main_point] if collective.slug == "cagette47" else points,
        producers=producers,
        publish=True,
    )
    offers = list(sale.offers.filter(sold=0).order_by("pk"))
    slots = list(sale.distribution.slots.filter(point=main_point).order_by("starts_at"))
    for email, lines, payment in spec["orders"]:
        chosen = offers[:: max(1, len(offers) // lines)][:lines]
        quantities = {offer.pk: 1 + index % 2 for index, offer in enumerate(chosen)}
        # Claire's crottins come from one central stock: each collective's order takes some of it.
        quantities.update({offer.pk: 2 for offer in offers if offer.name == SHARED_IN_EVERY_ORDER})
        checkout_services.order_place(
            sale_id=sale.pk,
            user=accounts[email],
            quantities=quantities,
            slot_id=slots[min(1, len(slots) - 1)].pk,
            payment_method=payment,
        )
    if collective.slug == "emplettes":
        _waiting_list_seed(sale, slots, offers, accounts)
        _product_wait_seed(sale, offers, accounts)
    schedule = sale_services.schedule_create(points=points[:1], producers=producers, **spec["schedule"])
    sale_services.schedule_sales_create(schedule_id=schedule.pk)
