"""Orders placed over HTTP by many concurrent members against gunicorn on PostgreSQL.

Loads a sale of 300 products (some scarce, so members race for the last units), starts gunicorn, signs in
N members, then each places one order (sale page GET, cart POST, checkout POST) from C concurrent client
threads; a member told that the scarce product in their cart is sold out orders the rest, as a member would:
refused by the cart, they post it again without it; refused by the checkout, which brings the cart down to
what is left, they confirm again (the refused attempts' requests count in the time).
Runs BENCH_ROUNDS rounds (3) of BENCH_MEMBERS new members (240) placing their orders, the scarce offers'
units put back before each, each round between two runs of the floor (`/sante/`, a trivial page of the same
app through the same middleware, from the same clients, right before and right after): each round's orders
per second are a ratio to the mean of its two floors (the machine's speed drifts within a run), and the
median round is the figure, as the issue measures it.
Prints orders per second, p50/p95 latency of the checkout request and the sale page, the floor, and the
oversold count, which must be 0.

Also, for the checkout POST alone (issue 21, item 2): its server time with one client at a time (median,
against `/sante/` measured the same way), its statements (counted in this process through Django's test
client, outside any test transaction, so savepoints are real ones), the CPU the web workers spent per
order, and the path's throughput as a ratio to the floor's requests per second.
"""

from __future__ import annotations

import cProfile
import http.client
import os
import pstats
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import time as clock
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

from _setup import django_for_bench, report, statistics_gathered

django_for_bench()

from django.db import connection  # noqa: E402
from django.db.models import F, Sum  # noqa: E402
from django.utils import timezone  # noqa: E402

from marketplace import services as marketplace_services  # noqa: E402
from marketplace import tenancy  # noqa: E402
from marketplace.models import Membership, Role, User  # noqa: E402
from orders.models import Offer, Order, OrderLine, PaymentMethod  # noqa: E402
from orders.payments import services as payment_services  # noqa: E402
from orders.sales import services as sale_services  # noqa: E402
from pickup_points import services as point_services  # noqa: E402
from producers import services as producer_services  # noqa: E402

PRODUCTS = 300
MEMBERS = int(os.environ.get("BENCH_MEMBERS", "240"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "32"))  # issue 21: the member path at 32 clients
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
SEQUENTIAL = int(os.environ.get("BENCH_SEQUENTIAL", "20"))  # members placing one order each, one at a time
ROUNDS = int(
    os.environ.get("BENCH_ROUNDS", "3")
)  # MEMBERS orders between two floors; the median round counts
SCARCE_STOCK = 5  # units of each scarce product, put back before each round
PASSWORD = "bench-password-2026"
HOST = "bench.localhost"


def setup(*, rounds: int = 1) -> tuple[int, list[int], list[int], list[str]]:
    """The collective, its sale and `rounds` × MEMBERS members who order (and SEQUENTIAL + 1 more)."""
    tenancy.public_tenant_ensure()
    tenancy.template_tenant_ensure()
    owner = User.objects.create_user(email="coord@bench.test", password=PASSWORD)
    collective = marketplace_services.collective_create(
        owner=owner, name="Bench", slug="bench", kind="drive", town="Agen", join_mode="open"
    )
    emails = []
    for i in range(MEMBERS * rounds + SEQUENTIAL + 1):
        user = User.objects.create_user(
            email=f"member{i}@bench.test", password=PASSWORD, first_name="M", last_name=str(i)
        )
        Membership.objects.create(user=user, collective=collective, roles=[Role.MEMBER])
        emails.append(user.email)
    connection.set_tenant(collective)
    payment_services.shop_settings_update(payment_methods=[PaymentMethod.CASH])
    farms = [producer_services.producer_create(name=f"Ferme {i}", town="Agen") for i in range(10)]
    for i in range(PRODUCTS):
        # One product in ten is scarce: members race for its last units.
        producer_services.product_create(
            producer=farms[i % 10],
            name=f"Produit {i}",
            price=Decimal("2.40") + i % 7,
            unit="piece",
            stock=SCARCE_STOCK if i % 10 == 0 else 500,
        )
    point = point_services.point_create(
        name="Mairie", address="1 place", town="Agen", slot_minutes=10, slot_capacity=120
    )
    point_services.point_update(point=point, hours=[(day, clock(16, 0), clock(20, 0)) for day in range(7)])
    start = timezone.localtime() + timedelta(days=3)
    sale = sale_services.sale_create(
        title="Vente bench",
        opens_at=timezone.now() - timedelta(hours=1),
        closes_at=timezone.now() + timedelta(days=1),
        distribution_starts_at=start.replace(hour=16, minute=0),
        distribution_ends_at=start.replace(hour=20, minute=0),
        points=[point],
        producers=farms,
        publish=True,
    )
    offers = list(sale.offers.order_by("pk").values_list("pk", flat=True))
    slots = list(sale.distribution.slots.values_list("pk", flat=True))
    statistics_gathered()
    return sale.pk, offers, slots, emails


class Browser:
    """One member's keep-alive HTTP connection with cookies (session and CSRF)."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)  # a busy machine is slow
        self.cookies: dict[str, str] = {}
        self.location = ""

    def request(self, method: str, path: str, data: dict | None = None) -> tuple[int, str]:
        headers = {"Host": HOST, "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if data is not None:
            data = {**data, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://{HOST}{path}"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode()
        self.location = response.getheader("Location", "")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, text

    def login(self, email: str) -> None:
        self.request("GET", "/accounts/login/")
        status, _ = self.request("POST", "/accounts/login/", {"login": email, "password": PASSWORD})
        check, _ = self.request("GET", "/commandes/")
        if status != 302 or check != 200:
            raise RuntimeError(
                f"login failed for {email}: {status}, then {check} (cookies: {sorted(self.cookies)})"
            )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def worker_cpu_seconds(server: subprocess.Popen) -> float:
    """User + system CPU of gunicorn's workers (the children of the arbiter), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    for pid in children:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def sequential(browser: Browser, sale_id: int, offers: list[int], slots: list[int], rng) -> float:
    """One member's checkout POST alone on the server (cart filled first), in seconds."""
    browser.request("GET", f"/ventes/{sale_id}/")  # as a member would (and its CSRF cookie)
    cart = {f"qty_{offer}": 1 for offer in rng.sample(offers, 5)}
    status, _ = browser.request("POST", f"/ventes/{sale_id}/", cart)
    if status != 302:
        raise RuntimeError(f"cart refused: {status}")
    t0 = time.perf_counter()
    status, _ = browser.request(
        "POST", f"/ventes/{sale_id}/commander/", {"slot": rng.choice(slots), "payment_method": "cash"}
    )
    took = time.perf_counter() - t0
    if status != 302:
        raise RuntimeError(f"checkout refused: {status}")
    return took


def checkout_statements(sale_id: int, offers: list[int], slot: int, email: str) -> list[str]:
    """The SQL statements of one checkout POST, through Django's test client in this process."""
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    connection.set_schema_to_public()
    client = Client(HTTP_HOST=HOST)
    client.force_login(User.objects.get(email=email))
    client.post(f"/ventes/{sale_id}/", {f"qty_{offer}": 1 for offer in offers})
    profile = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
    with CaptureQueriesContext(connection) as captured:
        if profile:
            profile.enable()
        response = client.post(f"/ventes/{sale_id}/commander/", {"slot": slot, "payment_method": "cash"})
        if profile:
            profile.disable()
    if response.status_code != 302:
        raise RuntimeError(f"checkout refused: {response.status_code}")
    if profile:  # BENCH_PROFILE=1: where this checkout POST spends its time (cumulative, top 25)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    return [query["sql"] for query in captured.captured_queries]


def stock_put_back(scarce: list[int]) -> int:
    """The scarce offers have SCARCE_STOCK units left again (each round races for the last units: what is
    left of an offer is its quantity, the product's stock when the sale was made, less what it sold);
    returns how many offers had sold out."""
    connection.set_schema("c_bench")
    sold_out = Offer.objects.filter(pk__in=scarce, sold__gte=F("quantity")).count()
    Offer.objects.filter(pk__in=scarce).update(quantity=F("sold") + SCARCE_STOCK)
    connection.set_schema_to_public()
    return sold_out


def main() -> None:
    sale_id, offers, slots, emails = setup(rounds=ROUNDS)
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.bench"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--preload",  # as the Dockerfile runs it: the workers start warm (config/warmup.py)
            "-w",
            str(WORKERS),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--timeout",  # a worker's first requests are slow on a busy machine: not a failure
            "120",
        ],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        alone_email = emails.pop()  # the in-process client's member
        browsers = [Browser(port) for _ in emails]
        started = time.perf_counter()
        queue = list(zip(browsers, emails, strict=True))
        lock = threading.Lock()

        def log_in_all():
            while True:
                with lock:
                    if not queue:
                        return
                    browser, email = queue.pop()
                browser.login(email)

        threads = [threading.Thread(target=log_in_all) for _ in range(min(CLIENTS, WORKERS * 2))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(f"{len(emails)} members signed in in {time.perf_counter() - started:.1f} s")

        # One request at a time: the server time of /sante/ and of a checkout POST, side by side.
        alone, browsers = browsers[:SEQUENTIAL], browsers[SEQUENTIAL:]
        floor_alone, checkout_alone = [], []
        seq_rng = random.Random(12)
        plenty = [offer for offer in offers if offer not in set(offers[::10])]
        for browser in alone:
            for _ in range(3):
                t0 = time.perf_counter()
                alone[0].request("GET", "/sante/")
                floor_alone.append(time.perf_counter() - t0)
            checkout_alone.append(sequential(browser, sale_id, plenty, slots, seq_rng))

        checkout: list[float] = []
        sale_page: list[float] = []
        outcomes = {"placed": 0, "refused": 0, "error": 0}
        refusals: dict[str, int] = {}
        rng = random.Random(47)
        scarce_list = offers[::10]
        scarce = set(scarce_list)

        def attempt_order(browser, quantities, slot, *, look: bool, fill: bool) -> str:
            if look:  # the member looks at the sale (and gets a CSRF cookie)
                t0 = time.perf_counter()
                browser.request("GET", f"/ventes/{sale_id}/")
                sale_page.append(time.perf_counter() - t0)
            if fill:
                cart = {f"qty_{offer}": quantity for offer, quantity in quantities.items()}
                status, _ = browser.request("POST", f"/ventes/{sale_id}/", cart)
                if status != 302:
                    return "cart refused"
            t0 = time.perf_counter()
            status, page = browser.request(
                "POST", f"/ventes/{sale_id}/commander/", {"slot": slot, "payment_method": "cash"}
            )
            checkout.append(time.perf_counter() - t0)
            if status == 302 and "/commandes/" in browser.location:
                with lock:
                    outcomes["placed"] += 1
                return "placed"
            if status != 400:
                with lock:
                    outcomes["error"] += 1
                print("unexpected", status, re.sub(r"\s+", " ", page)[:200])
            elif "Rien n&#x27;est encore commandé" in page or "Rien n'est encore commandé" in page:
                return "checkout brought the cart down"
            return "checkout refused"

        def work(todo: list[Browser]) -> None:
            while True:
                with lock:
                    if not todo:
                        return
                    browser = todo.pop()
                    wanted = rng.sample(offers, 4) + [rng.choice(scarce_list)]
                    quantities = {offer: rng.randint(1, 2) for offer in wanted}
                    slot = rng.choice(slots)
                # As a member does: when a scarce product is sold out, they order the rest. The cart keeps
                # what is left of a product that went since the page was drawn (the checkout page says so);
                # a cart refused all the same comes back as the sale page (posted again at once, without
                # it); a checkout refused because it sold out meanwhile comes back as the checkout page with
                # the cart brought down to what is left (confirmed again at once); refused for another
                # reason, it sends them back to the sale page. Every attempt's requests count in the time.
                look, fill = True, True
                for _attempt in range(4):  # a cart may hold more than one scarce product
                    outcome = attempt_order(browser, quantities, slot, look=look, fill=fill)
                    if outcome == "placed":
                        break
                    with lock:
                        outcomes["refused"] += 1
                        refusals[outcome] = refusals.get(outcome, 0) + 1
                    look = outcome == "checkout refused"
                    fill = outcome != "checkout brought the cart down"
                    quantities = {
                        offer: quantity for offer, quantity in quantities.items() if offer not in scarce
                    }

        def trivial(browser: Browser, floor: list[float]) -> None:
            for _ in range(50):
                t0 = time.perf_counter()
                browser.request("GET", "/sante/")
                floor.append(time.perf_counter() - t0)

        def floor_rate_of(clients: list[Browser], floor: list[float]) -> float:
            started, before = time.perf_counter(), len(floor)
            threads = [threading.Thread(target=trivial, args=(b, floor)) for b in clients[:CLIENTS]]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return (len(floor) - before) / (time.perf_counter() - started)

        # ROUNDS rounds, each MEMBERS members ordering once between two runs of the floor (the same clients,
        # right before and right after), with the scarce products' stock put back first: the machine's speed
        # drifts within a run, so each round's orders are compared with the mean of its own two floors, and
        # the median round is the figure.
        rounds = []
        for number in range(ROUNDS):
            members, browsers = browsers[:MEMBERS], browsers[MEMBERS:]
            sold_out = stock_put_back(scarce_list)
            floor: list[float] = []
            before = floor_rate_of(members, floor)
            placed_before, cpu_before = outcomes["placed"], worker_cpu_seconds(server)
            started = time.perf_counter()
            todo = list(members)  # shared by the clients' threads
            threads = [threading.Thread(target=work, args=(todo,)) for _ in range(CLIENTS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            placed = outcomes["placed"] - placed_before
            cpu = (worker_cpu_seconds(server) - cpu_before) / max(placed, 1)
            rate = placed / elapsed
            after = floor_rate_of(members, floor)
            floor_rate = (before + after) / 2
            rounds.append(
                (rate / floor_rate, rate, floor_rate, placed, elapsed, cpu, statistics.median(floor))
            )
            print(
                f"round {number + 1} ({sold_out} scarce offers sold out before it, put back): "
                f"{placed} orders in {elapsed:.1f} s, {rate:.1f} orders/s; floor "
                f"{before:.0f} requests/s before, {after:.0f} after; {rate / floor_rate:.3f}x; web workers' "
                "CPU per order "
                f"{cpu * 1000:.0f} ms",
                flush=True,
            )
    finally:
        server.terminate()
        try:
            server.wait(timeout=120)  # gunicorn lets its workers finish; slow on a busy machine
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        from config.celery import app

        queued = app.control.purge()  # the confirmation e-mails nobody will send
        print(f"{queued} confirmation e-mails were queued to Redis (purged)")

    statements = checkout_statements(sale_id, plenty[-5:], slots[-1], alone_email)
    connection.set_schema("c_bench")
    oversold = 0
    for offer in Offer.objects.filter(sale_id=sale_id):
        ordered = (
            OrderLine.objects.filter(offer=offer, order__status=Order.Status.PLACED).aggregate(
                total=Sum("quantity")
            )["total"]
            or 0
        )
        if (offer.quantity is not None and offer.sold > offer.quantity) or offer.sold != ordered:
            oversold += 1
    ms = 1000
    ratio, rate, floor_rate, placed, elapsed, cpu_per_order, floor_p50 = sorted(rounds)[len(rounds) // 2]
    print(
        f"{CLIENTS} concurrent clients, gunicorn {WORKERS} sync workers, "
        f"{PRODUCTS} products, {ROUNDS} rounds of {MEMBERS} members (the median round below)"
    )
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(refusals.items()))
    print(
        f"orders: {outcomes['placed']} placed, {outcomes['refused']} attempts refused ({kinds}: a scarce "
        f"product sold out, the member then ordered the rest), {outcomes['error']} errors"
        f" in all; the median round: {placed} in {elapsed:.1f} s, {rate:.1f} orders/s (each: sale page + "
        "cart POST + checkout POST, and what a refusal asks again)"
    )
    p50, p95 = statistics.median(checkout) * ms, percentile(checkout, 0.95) * ms
    print(f"checkout POST (places the order): p50 {p50:.0f} ms, p95 {p95:.0f} ms")
    p50, p95 = statistics.median(sale_page) * ms, percentile(sale_page, 0.95) * ms
    print(f"sale page GET ({PRODUCTS} products): p50 {p50:.0f} ms, p95 {p95:.0f} ms")
    print(
        f"trivial page /sante/ (the floor, 32 clients, right before and after the median round's orders): "
        f"{floor_rate:.0f} requests/s, p50 {floor_p50 * ms:.0f} ms"
    )
    floor_ms, checkout_ms = statistics.median(floor_alone) * ms, statistics.median(checkout_alone) * ms
    savepoints = sum(1 for sql in statements if sql.startswith("SAVEPOINT"))
    control = sum(1 for sql in statements if sql in {"BEGIN", "COMMIT"})
    print(
        f"checkout POST alone (one client, {len(checkout_alone)} orders of 5 lines): server time p50 "
        f"{checkout_ms:.1f} ms vs /sante/ {floor_ms:.1f} ms: {checkout_ms / floor_ms:.1f}x the floor; "
        f"{len(statements) - control} statements ({savepoints} savepoints; and {control} BEGIN/COMMIT)"
    )
    print(
        f"member path: {rate:.2f} orders/s vs the floor's {floor_rate:.0f} requests/s: "
        f"{ratio:.3f}x (rounds: {', '.join(f'{r[0]:.3f}x' for r in rounds)}); web workers' CPU per order "
        f"{cpu_per_order * ms:.0f} ms"
    )
    report(
        f"checkout POST alone ({len(statements) - control} statements)",
        f"{checkout_ms:.1f} ms",
        f"{floor_ms:.1f} ms",
        checkout_ms / floor_ms,
    )
    report(
        f"full member path, {CLIENTS} clients, {PRODUCTS} products ({oversold} oversold)",
        f"{rate:.2f} orders/s",
        f"{floor_rate:.0f} req/s",
        ratio,
    )
    if os.environ.get("BENCH_SHOW_SQL"):
        for number, sql in enumerate(statements, 1):
            print(f"  {number:2d} {sql[:160]}")
    print(f"oversold offers: {oversold}")
    if oversold or outcomes["error"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
