"""The member's sale page and cart POST against the size of the catalogue, as ratios to the floor.

Loads one collective with four open sales of 30, 300, 1 000 and 3 000 products (one in ten scarce, one in
seven weighed), starts gunicorn (one sync worker: each figure is the server time of one request, as the
client sees it on the loopback) and, in the same run, prints:

- the floor: `/sante/` through the same middleware, 20 requests in a row (after 3 not counted) right before
  and right after each size's requests, whose ratios are to the median of those 40 (the machine's speed
  drifts during a run; the floor requests come in a row, as the pages do, so that none of them pays for a
  page's clean-up after its response, which the next request waits for in a sync worker);
- per sale: the sale page GET of a signed-in member with 5 products in the cart, cache warm and cache cold
  (a new version of the offer list before each request), median of several requests, the SQL statements of
  one warm request (counted in-process through Django's test client) and the ratios to the floor;
- per sale: the cart POST (« Continuer », every quantity field of the page posted, 5 filled in) that
  answers with the redirection to the checkout, median and ratio;
- the shop (`/boutique/`, every active product of the collective: the sum of the sizes), cached (warm) and
  just changed (a product saved before each request: what every request cost before it was cached).

`BENCH_PROFILE=1` also prints a cProfile summary of the warm sale page at 300 products (in-process).
"""

from __future__ import annotations

import cProfile
import http.client
import io
import os
import pstats
import re
import socket
import statistics
import subprocess
import sys
import time
from datetime import time as clock
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import _setup

# Its own database: other benchmarks drop theirs (ETAL_BENCH_SALE_DATABASE: two work trees on one server).
_setup.BENCH_DATABASE = os.environ.get("ETAL_BENCH_SALE_DATABASE", "etal_bench_sale_scale")
_setup.django_for_bench()

from django.db import connection  # noqa: E402
from django.db.models import F  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from marketplace import services as marketplace_services  # noqa: E402
from marketplace import tenancy  # noqa: E402
from marketplace.models import Membership, Role, User  # noqa: E402
from orders.models import PaymentMethod, Sale  # noqa: E402
from orders.payments import services as payment_services  # noqa: E402
from orders.sales import services as sale_services  # noqa: E402
from pickup_points import services as point_services  # noqa: E402
from producers import services as producer_services  # noqa: E402
from producers.models import Product  # noqa: E402

try:  # the cached offer list (absent before it was built: then cold and warm are the same page)
    from orders.checkout import offer_list
except ImportError:  # pragma: no cover - measuring an older tree
    offer_list = None

SIZES = [int(size) for size in os.environ.get("BENCH_SIZES", "30,300,1000,3000").split(",")]
PASSWORD = "bench-password-2026"
HOST = "bench.localhost"
MEMBER = "member@bench.test"
IN_CART = 5


def setup() -> tuple[object, dict[int, int]]:
    tenancy.public_tenant_ensure()
    tenancy.template_tenant_ensure()
    owner = User.objects.create_user(email="coord@bench.test", password=PASSWORD)
    collective = marketplace_services.collective_create(
        owner=owner, name="Bench", slug="bench", kind="drive", town="Agen", join_mode="open"
    )
    member = User.objects.create_user(email=MEMBER, password=PASSWORD, first_name="M", last_name="Membre")
    Membership.objects.create(user=member, collective=collective, roles=[Role.MEMBER])
    connection.set_tenant(collective)
    payment_services.shop_settings_update(payment_methods=[PaymentMethod.CASH])
    point = point_services.point_create(
        name="Mairie", address="1 place", town="Agen", slot_minutes=10, slot_capacity=40
    )
    point_services.point_update(point=point, hours=[(day, clock(16, 0), clock(20, 0)) for day in range(7)])
    start = timezone.localtime() + timedelta(days=3)
    sales = {}
    for size in SIZES:
        farms = [
            producer_services.producer_create(name=f"Ferme {size}-{i}", town="Agen")
            for i in range(max(3, size // 30))
        ]
        for i in range(size):
            weighed = i % 7 == 3
            producer_services.product_create(
                producer=farms[i % len(farms)],
                name=f"Produit {i}",
                price=Decimal("2.40") + i % 7,
                unit="kg" if weighed else "piece",
                is_variable_weight=weighed,
                estimated_weight_kg=Decimal("0.350") if weighed else None,
                stock=5 if i % 10 == 0 else 500,
            )
        sale = sale_services.sale_create(
            title=f"Vente de {size} produits",
            opens_at=timezone.now() - timedelta(hours=1),
            closes_at=timezone.now() + timedelta(days=1),
            distribution_starts_at=start.replace(hour=16, minute=0),
            distribution_ends_at=start.replace(hour=20, minute=0),
            points=[point],
            producers=farms,
            publish=True,
        )
        sales[size] = sale.pk
    _setup.statistics_gathered()
    return collective, sales


class Browser:
    """A keep-alive HTTP connection with cookies (session and CSRF)."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, data: list[tuple[str, str]] | None = None) -> tuple[int, str]:
        headers = {"Host": HOST, "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if data is not None:
            body = urlencode([*data, ("csrfmiddlewaretoken", self.cookies.get("csrftoken", ""))])
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://{HOST}{path}"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, text

    def timed(self, method: str, path: str, data=None, expect: int = 200) -> float:
        started = time.perf_counter()
        status, text = self.request(method, path, data)
        elapsed = time.perf_counter() - started
        if status != expect:
            flat = re.sub(r"\s+", " ", text)[:300]
            raise RuntimeError(f"{method} {path}: {status}, expected {expect}: {flat}")
        return elapsed

    def login(self) -> None:
        self.request("GET", "/accounts/login/")
        status, _ = self.request("POST", "/accounts/login/", [("login", MEMBER), ("password", PASSWORD)])
        if status != 302:
            raise RuntimeError(f"log-in failed: {status}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def new_offer_list_version(collective, sale_id: int) -> None:
    """Cold cache: a new version of the sale's offer list, as a change of its offers makes (every process,
    gunicorn's too, then renders it again)."""
    if offer_list is None:
        return
    with schema_context(collective.schema_name):
        Sale.objects.filter(pk=sale_id).update(offers_version=F("offers_version") + 1)


def product_touch(collective) -> None:
    """The shop just changed: one product saved (its `updated_at`, which the shop's version reads)."""
    with schema_context(collective.schema_name):
        Product.objects.filter(pk=Product.objects.order_by("pk").values("pk")[:1]).update(
            updated_at=timezone.now()
        )


def cart_fields(page: str, wanted: int) -> list[tuple[str, str]]:
    """Every quantity field of the page, as a browser posts them: `wanted` filled in, the others empty."""
    names = re.findall(r'name="(qty_\d+)"', page)
    step = max(1, len(names) // wanted)
    chosen = set(names[::step][:wanted])
    return [(name, "1" if name in chosen else "") for name in names]


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def main() -> None:
    collective, sales = setup()
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.bench"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--preload", "-w", "1"]
        + ["-b", f"127.0.0.1:{port}"]
        + ["--log-level", "warning", "--timeout", "120"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
    )
    rows = []
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        browser = Browser(port)
        browser.login()
        for _ in range(5):
            browser.request("GET", "/sante/")
        floors: list[float] = []  # the floor requests around the size being measured

        def floor_block() -> None:
            for _ in range(3):
                browser.timed("GET", "/sante/")
            floors.extend(browser.timed("GET", "/sante/") for _ in range(20))

        timed = browser.timed

        client = Client(HTTP_HOST=HOST)
        client.force_login(User.objects.get(email=MEMBER))
        for size, sale_id in sales.items():
            path = f"/ventes/{sale_id}/"
            _status, page = browser.request("GET", path)
            fields = cart_fields(page, IN_CART)
            browser.timed("POST", path, [*fields, ("update_total", "")])  # the cart: 5 products
            repeats = 25 if size <= 300 else 9
            floors.clear()
            floor_block()
            browser.timed("GET", path)
            warm = [timed("GET", path) for _ in range(repeats)]
            cold = []
            for _ in range(max(3, repeats // 3)):
                new_offer_list_version(collective, sale_id)
                cold.append(timed("GET", path))
            cart = [timed("POST", path, fields, expect=302) for _ in range(repeats)]
            floor_block()
            floor = median_ms(floors)
            client.post(path, dict([*fields, ("update_total", "")]))
            client.get(path)  # warm for this client's language too
            with CaptureQueriesContext(connection) as queries:
                response = client.get(path)
            assert response.status_code == 200
            with CaptureQueriesContext(connection) as cart_queries:
                response = client.post(path, dict(fields))
            assert response.status_code == 302
            rows.append(
                (
                    size,
                    median_ms(warm),
                    median_ms(cold),
                    len(queries),
                    median_ms(cart),
                    len(cart_queries),
                    floor,
                )
            )
            if os.environ.get("BENCH_PROFILE"):
                for query in queries.captured_queries:
                    print(f"    sale page SQL: {query['sql'][:160]}")
                for query in cart_queries.captured_queries:
                    print(f"    cart POST SQL: {query['sql'][:160]}")
            print(f"  measured {size} products", flush=True)
        floors.clear()
        floor_block()
        browser.timed("GET", "/boutique/")
        shop_warm = [timed("GET", "/boutique/") for _ in range(7)]
        shop_cold = []
        for _ in range(3):
            product_touch(collective)
            shop_cold.append(timed("GET", "/boutique/"))
        floor_block()
        shop_floor = median_ms(floors)
        if os.environ.get("BENCH_PROFILE") and 300 in sales:
            path = f"/ventes/{sales[300]}/"
            client.get(path)
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(20):
                client.get(path)
            profile.disable()
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(30)
            print("profile of 20 warm sale pages at 300 products (in-process, cumulative):")
            print(out.getvalue())
            _status, page = browser.request("GET", path)
            body = urlencode(cart_fields(page, IN_CART))  # as a browser posts the form
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(20):
                client.post(path, body, content_type="application/x-www-form-urlencoded")
            profile.disable()
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(60)
            pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(25)
            print("profile of 20 cart POSTs at 300 products (in-process, cumulative):")
            print(out.getvalue())
    finally:
        server.terminate()
        server.wait(timeout=20)
    print("floor: /sante/ through the same middleware, gunicorn 1 sync worker, before and after each size")
    print(
        f"{'products':>8} {'floor':>8} {'page warm':>10} {'ratio':>6} {'page cold':>10} {'ratio':>7} "
        f"{'statements':>10} {'cart POST':>10} {'ratio':>6} {'statements':>10}"
    )
    for size, warm, cold, statements, cart, cart_statements, floor in rows:
        print(
            f"{size:>8} {floor:>5.1f} ms {warm:>7.1f} ms {warm / floor:>5.1f}× {cold:>7.1f} ms "
            f"{cold / floor:>6.1f}× {statements:>10} {cart:>7.1f} ms {cart / floor:>5.1f}× "
            f"{cart_statements:>10}"
        )
    shop_size = sum(SIZES)
    shop_hit, shop_miss = median_ms(shop_warm), median_ms(shop_cold)
    print(
        f"shop /boutique/ ({shop_size} products, floor {shop_floor:.1f} ms): warm {shop_hit:.1f} ms "
        f"{shop_hit / shop_floor:.1f}×, just changed {shop_miss:.1f} ms {shop_miss / shop_floor:.1f}×"
    )
    for size, warm, cold, statements, cart, cart_statements, floor in rows:
        _setup.report(
            f"sale page GET, {size} products (warm; {statements} statements)",
            f"{warm:.1f} ms",
            f"{floor:.1f} ms",
            warm / floor,
        )
        _setup.report(
            f"sale page GET, {size} products, just changed", f"{cold:.1f} ms", f"{floor:.1f} ms", cold / floor
        )
        _setup.report(
            f"cart POST, {size} products ({cart_statements} statements)",
            f"{cart:.1f} ms",
            f"{floor:.1f} ms",
            cart / floor,
        )
    what = f"shop page GET, {shop_size} products"
    _setup.report(f"{what} (warm)", f"{shop_hit:.1f} ms", f"{shop_floor:.1f} ms", shop_hit / shop_floor)
    _setup.report(
        f"{what}, just changed", f"{shop_miss:.1f} ms", f"{shop_floor:.1f} ms", shop_miss / shop_floor
    )


if __name__ == "__main__":
    main()
