"""Card payments against the local Stripe double: what Étal's side costs per order.

A collective linked to a Stripe double (in-process, no webhook delivery: events are posted to the public
webhook endpoint through Django's test client, signed like Stripe), N card orders (default 100), then:

- checkout: `payment_services.checkout_start` (one Checkout Session created at the double) per order;
- webhooks: every event of every payment posted once (4 per payment: 2 handled, 2 ignored), then the
  same events again (duplicates: "already received"); per-event latency and events per second;
- release: N other card orders left unpaid past their delay, released by `jobs.unpaid_orders_release`
  (one Stripe read per order, then stock and slot given back);
- settle: N orders of weighed goods, authorised, weighed and settled (`order_settle`: capture).

The double runs in the same process, so its own work is counted too (it is small: dicts in memory).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from datetime import time as clock
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from _setup import django_for_bench

django_for_bench()

from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import get_public_schema_name, schema_context  # noqa: E402

from devtools.stripe_double import StripeDouble  # noqa: E402
from devtools.stripe_double.webhooks import sign  # noqa: E402
from marketplace import services as marketplace_services  # noqa: E402
from marketplace import tenancy  # noqa: E402
from marketplace.models import Membership, Role, User  # noqa: E402
from orders.checkout import services as checkout_services  # noqa: E402
from orders.closing import jobs  # noqa: E402
from orders.models import Order, PaymentMethod, PaymentStatus  # noqa: E402
from orders.payments import services as payment_services  # noqa: E402
from orders.sales import services as sale_services  # noqa: E402
from pickup_points import services as point_services  # noqa: E402
from producers import services as producer_services  # noqa: E402

N = int(os.environ.get("BENCH_PAYMENT_ORDERS", "100"))
SECRET = "whsec_bench"


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return f"p50 {statistics.median(ordered) * 1000:.1f} ms / p95 {p95 * 1000:.1f} ms"


def setup(double: StripeDouble):
    tenancy.public_tenant_ensure()
    tenancy.template_tenant_ensure()
    owner = User.objects.create_user(email="coord@paybench.test", password="bench-password-2026")
    collective = marketplace_services.collective_create(
        owner=owner, name="Pay bench", slug="paybench", kind="drive", town="Agen", join_mode="open"
    )
    password = make_password(None)
    users = User.objects.bulk_create(
        User(email=f"member{i}@paybench.test", password=password, first_name="M", last_name=str(i))
        for i in range(3 * N)
    )
    with schema_context(get_public_schema_name()):
        Membership.objects.bulk_create(
            Membership(user=user, collective=collective, roles=[Role.MEMBER]) for user in users
        )
    connection.set_tenant(collective)
    payment_services.stripe_connect_start(
        collective=collective, email=owner.email, refresh_url="http://x/", return_url="http://x/"
    )
    double.onboard(collective.stripe_account_id)
    payment_services.stripe_account_refresh(collective=collective)
    payment_services.shop_settings_update(payment_methods=[PaymentMethod.CARD])
    farm = producer_services.producer_create(name="Ferme", town="Agen")
    jam = producer_services.product_create(producer=farm, name="Confiture", price=Decimal("4.50"), unit="jar")
    beef = producer_services.product_create(
        producer=farm,
        name="Rôti",
        price=Decimal("24.00"),
        unit="kg",
        is_variable_weight=True,
        estimated_weight_kg=Decimal("0.5"),
    )
    point = point_services.point_create(
        name="Mairie", address="1 place", town="Agen", slot_minutes=60, slot_capacity=min(500, 3 * N)
    )
    point_services.point_update(point=point, hours=[(day, clock(16), clock(20)) for day in range(7)])
    start = timezone.localtime() + timedelta(days=3)
    sale = sale_services.sale_create(
        title="Vente",
        opens_at=timezone.now() - timedelta(hours=1),
        closes_at=timezone.now() + timedelta(days=1),
        distribution_starts_at=start.replace(hour=16, minute=0),
        distribution_ends_at=start.replace(hour=20, minute=0),
        points=[point],
        producers=[farm],
        publish=True,
    )
    offers = {offer.product_id: offer for offer in sale.offers.all()}
    return users, sale, offers[jam.pk], offers[beef.pk]


def place(sale, user, offer, quantity: int) -> Order:
    return checkout_services.order_place(
        sale_id=sale.pk,
        user=user,
        quantities={offer.pk: quantity},
        slot_id=sale.distribution.slots.first().pk,
        payment_method=PaymentMethod.CARD,
    )


def start_checkout(order: Order) -> str:
    url = payment_services.checkout_start(
        order_id=order.pk, user=order.user, success_url="http://x/ok", cancel_url="http://x/no"
    )
    return urlsplit(url).path.rsplit("/", 1)[-1]


def main() -> None:
    double = StripeDouble(webhook_secret=SECRET).start()
    settings.STRIPE_SECRET_KEY = "sk_test_bench"
    settings.STRIPE_API_BASE = double.url
    settings.STRIPE_WEBHOOK_SECRETS = [SECRET]
    users, sale, jam, beef = setup(double)
    tenant = connection.tenant

    orders = [place(sale, users[i], jam, 1) for i in range(N)]
    checkout = []
    sessions = []
    for order in orders:
        began = time.perf_counter()
        sessions.append(start_checkout(order))
        checkout.append(time.perf_counter() - began)
    first_event = len(double.events)
    for session_id in sessions:
        double.pay(session_id)
    events = double.events[first_event:]

    client = Client(HTTP_HOST=settings.BASE_DOMAIN)

    def post_all() -> tuple[list[float], float, dict[int, int]]:
        latencies, codes = [], {}
        began = time.perf_counter()
        for event in events:
            body = json.dumps(event).encode()
            one = time.perf_counter()
            response = client.post(
                "/stripe/webhook/",
                body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=sign(body, SECRET),
            )
            latencies.append(time.perf_counter() - one)
            codes[response.status_code] = codes.get(response.status_code, 0) + 1
        connection.set_tenant(tenant)
        return latencies, time.perf_counter() - began, codes

    first, first_total, first_codes = post_all()
    again, again_total, again_codes = post_all()
    paid = Order.objects.filter(pk__in=[o.pk for o in orders], payment_status=PaymentStatus.PAID).count()

    unpaid = [place(sale, users[N + i], jam, 1) for i in range(N)]
    for order in unpaid:
        start_checkout(order)
    began = time.perf_counter()
    released = jobs.unpaid_orders_release(now=timezone.now() + timedelta(hours=2))
    release_total = time.perf_counter() - began

    weighed = [place(sale, users[2 * N + i], beef, 1) for i in range(N)]
    for order in weighed:
        double.pay(start_checkout(order))
        payment_services.payment_sync(payment_id=order.payments.get().pk)
        payment_services.line_weigh(line_id=order.lines.get().pk, weight_kg=Decimal("0.450"))
    settle = []
    for order in weighed:
        began = time.perf_counter()
        payment_services.order_settle(order_id=order.pk, by=None)
        settle.append(time.perf_counter() - began)
    settled = Order.objects.filter(pk__in=[o.pk for o in weighed], payment_status=PaymentStatus.PAID).count()
    double.stop()

    print(f"card orders: {N} (2 cores, PostgreSQL, Stripe double in-process)")
    print(f"checkout_start (Checkout Session at the double): {ms(checkout)}")
    print(
        f"webhook, first delivery: {len(events)} events in {first_total:.2f} s "
        f"({len(events) / first_total:.0f} events/s), {ms(first)}, statuses {first_codes}; "
        f"orders paid: {paid}/{N}"
    )
    print(
        f"webhook, duplicates: {len(events)} events in {again_total:.2f} s "
        f"({len(events) / again_total:.0f} events/s), {ms(again)}, statuses {again_codes}"
    )
    print(f"release of {N} unpaid orders past their delay: {released} released in {release_total:.2f} s")
    print(f"settle (capture of the weighed amount): {ms(settle)}; orders paid: {settled}/{N}")
    if paid != N or settled != N or released != N:
        raise SystemExit("some payments did not end as expected")


if __name__ == "__main__":
    main()
