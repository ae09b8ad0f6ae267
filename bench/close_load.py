"""Closing a sale and making its PDF sheets, for N = 500, 1 000 and 2 000 orders (three sales in one run).

Loads a collective (40 producers × 5 products, 3 pickup points) and, per N, a published sale whose orders
(3–6 lines each, spread over the 3 points' slots) are written directly with bulk_create, counters kept
consistent (PickupSlot.reserved, Offer.sold, one basket number per booking). One producer has a minimum
order amount the sale never reaches, so the close also takes its "cancel the lines" path. The sale's
closing time is then moved into the past and, for each N, measured:

- `orders.jobs.sale_close(sale_id=...)`: wall time, SQL queries (CaptureQueriesContext);
- the sheets in one process, as one rendering worker makes them: every follow-up of the "sheets" queue that
  the close recorded (the plan, each sheet or part of a sheet, each merge) run one after the other by
  `followup_run`, until none is left; the time of each (the largest render's share of the total), the
  process's peak memory;
- the floor: WeasyPrint rendering one plain HTML table (same CSS as the sheets) with as many rows as the
  sale's order lines still placed after the close (the lines the sheets show).

Printed: sheets / floor per N, the largest single render's share, time per order line from 500 to 2 000
orders (linear when flat), peak RSS of the rendering process. About 6 minutes on a 2-core machine, nearly
all of it WeasyPrint (quick run: BENCH_CLOSE_ORDERS=100,400). With 1 and 2 rendering workers fed through
Redis: close_workers.py.

Every measurement runs in a forked child process (the parent closes its database connection first); its
memory is the child's peak RSS (resource.getrusage ru_maxrss: WeasyPrint's C allocations included, no cost
in time, unlike tracemalloc), in absolute and as growth over its RSS at the fork.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import resource
import shutil
import sys
import time
import traceback
from datetime import time as clock
from datetime import timedelta
from decimal import Decimal

from _setup import django_for_bench, report

django_for_bench()

from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection  # noqa: E402
from django.template.loader import get_template  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import get_public_schema_name, schema_context  # noqa: E402
from weasyprint import HTML  # noqa: E402

from marketplace import followups, tenancy  # noqa: E402
from marketplace import services as marketplace_services  # noqa: E402
from marketplace.models import FollowUp, Membership, Role, User  # noqa: E402
from marketplace.money import money  # noqa: E402
from orders.checkout import services as checkout_services  # noqa: E402
from orders.closing import jobs  # noqa: E402
from orders.models import Offer, Order, OrderEvent, OrderLine, PaymentMethod, Sale, Sheet  # noqa: E402
from orders.payments import services as payment_services  # noqa: E402
from orders.sales import services as sale_services  # noqa: E402
from orders.sheets import pdf as sheet_pdf  # noqa: E402
from pickup_points import services as point_services  # noqa: E402
from pickup_points.models import BasketCounter, PickupSlot, SlotBooking  # noqa: E402
from producers import services as producer_services  # noqa: E402

SIZES = [int(n) for n in os.environ.get("BENCH_CLOSE_ORDERS", "500,1000,2000").split(",")]
PRODUCERS = 40
PRODUCTS_PER_PRODUCER = 5
SLUG = "closebench"
MISSED_MINIMUM = Decimal("1000000.00")  # never reached: the close cancels this producer's lines


def collective_setup():
    tenancy.public_tenant_ensure()
    tenancy.template_tenant_ensure()
    owner = User.objects.create_user(email="coord@closebench.test", password="bench-password-2026")
    collective = marketplace_services.collective_create(
        owner=owner, name="Close bench", slug=SLUG, kind="drive", town="Agen", join_mode="open"
    )
    password = make_password(None)  # unusable, and no hashing per account
    users = User.objects.bulk_create(
        User(email=f"member{i}@closebench.test", password=password, first_name="Membre", last_name=str(i))
        for i in range(max(SIZES))
    )
    with schema_context(get_public_schema_name()):
        Membership.objects.bulk_create(
            Membership(user=user, collective=collective, roles=[Role.MEMBER]) for user in users
        )
    connection.set_tenant(collective)
    payment_services.shop_settings_update(payment_methods=[PaymentMethod.CASH, PaymentMethod.CHEQUE])
    farms = []
    for i in range(PRODUCERS):
        farms.append(
            producer_services.producer_create(
                name=f"Ferme {i:02d}",
                town="Agen",
                minimum_order_amount=MISSED_MINIMUM if i == 0 else None,
            )
        )
        for j in range(PRODUCTS_PER_PRODUCER):
            weighed = j == PRODUCTS_PER_PRODUCER - 1
            producer_services.product_create(
                producer=farms[-1],
                name=f"Produit {i:02d}-{j}",
                price=Decimal("2.40") + (i + j) % 7,
                unit="kg" if weighed else "piece",
                vat_rate=Decimal("20.0") if j == 3 else Decimal("5.5"),
                is_variable_weight=weighed,
                estimated_weight_kg=Decimal("0.500") if weighed else None,
            )
    points = []
    for name in ("Mairie", "Centre social", "Salle des fêtes"):
        point = point_services.point_create(
            name=name, address="1 place", town="Agen", slot_minutes=10, slot_capacity=500
        )
        point_services.point_update(
            point=point, hours=[(day, clock(16, 0), clock(20, 0)) for day in range(7)]
        )
        points.append(point)
    return users, farms, points


def sale_with_orders(n: int, users, farms, points, rng: random.Random) -> tuple[int, int]:
    """A published sale with n orders written directly; returns (sale id, number of order lines)."""
    start = timezone.localtime() + timedelta(days=3)
    sale = sale_services.sale_create(
        title=f"Vente {n} commandes",
        opens_at=timezone.now() - timedelta(hours=2),
        closes_at=timezone.now() + timedelta(days=1),
        distribution_starts_at=start.replace(hour=16, minute=0),
        distribution_ends_at=start.replace(hour=20, minute=0),
        points=points,
        producers=farms,
        publish=True,
    )
    offers = list(sale.offers.order_by("pk"))
    slots = list(PickupSlot.objects.filter(distribution=sale.distribution).order_by("point_id", "starts_at"))
    PickupSlot.objects.filter(distribution=sale.distribution).update(capacity=500)
    bookings = SlotBooking.objects.bulk_create(
        SlotBooking(
            slot=slots[i % len(slots)],
            distribution_id=sale.distribution_id,
            user=users[i],
            basket_number=i + 1,
        )
        for i in range(n)
    )
    BasketCounter.objects.create(distribution_id=sale.distribution_id, last=n)  # as basket_book would
    methods = [PaymentMethod.CASH, PaymentMethod.CHEQUE]
    wanted = [
        {offer.pk: rng.randint(1, 3) for offer in rng.sample(offers, rng.randint(3, 6))} for _ in range(n)
    ]
    by_pk = {offer.pk: offer for offer in offers}
    totals = [
        sum((money(by_pk[pk].unit_amount * qty) for pk, qty in order.items()), Decimal("0"))
        for order in wanted
    ]
    orders = Order.objects.bulk_create(
        Order(
            sale=sale,
            user=users[i],
            number=f"{sale.pk}-{i + 1:05d}",
            booking=bookings[i],
            basket_number=bookings[i].basket_number,
            payment_method=methods[i % 2],
            total=totals[i],
        )
        for i in range(n)
    )
    lines = []
    for order, items in zip(orders, wanted, strict=True):
        lines += checkout_services.order_lines_build(order, by_pk, items)
    OrderLine.objects.bulk_create(lines, batch_size=2000)
    OrderEvent.objects.bulk_create(OrderEvent(order=order, kind="placed") for order in orders)
    for offer in offers:
        offer.sold = sum(items.get(offer.pk, 0) for items in wanted)
    Offer.objects.bulk_update(offers, ["sold"])
    for index, slot in enumerate(slots):
        slot.reserved = len(range(index, n, len(slots)))
    PickupSlot.objects.bulk_update(slots, ["reserved"])
    Sale.objects.filter(pk=sale.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    return sale.pk, len(lines)


def forked(fn) -> dict:
    """Run fn() in a child process; returns its result dict plus the child's peak RSS growth (MiB)."""
    connection.close()  # the child opens its own connection; the parent reconnects on its next query
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        status = 0
        try:
            base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            result = fn(base)
            connection.close()
        except BaseException:  # noqa: BLE001 - reported to the parent
            result, status = {"error": traceback.format_exc()}, 1
        with os.fdopen(write_end, "w") as pipe:
            json.dump(result, pipe)
        os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        result = json.loads(pipe.read() or '{"error": "child died"}')
    os.waitpid(pid, 0)
    if "error" in result:
        print(result["error"], file=sys.stderr)
        raise SystemExit(1)
    return result


def cpu_s() -> float:
    """CPU seconds of this process (user + system): unlike wall time, barely moved by other processes
    sharing the cores, so the CPU ratio stays meaningful on a busy machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def mib_since(base_kib: int) -> float:
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_kib) / 1024


def search_path_sets(captured: CaptureQueriesContext) -> int:
    """django-tenants sets the search_path on every new cursor: one extra round trip per query or so."""
    return sum(q["sql"].startswith("SET search_path") for q in captured.captured_queries)


def sheets_drain(schema: str, sale_id: int) -> list[tuple[str, float]]:
    """Run, in this process and in their order, every follow-up of the "sheets" queue of the collective
    until none is left (the plan queues the sheets and parts, the last part of a sheet its merge): what one
    rendering worker does. Returns (task, seconds) of each."""
    done = []
    while True:
        pending = list(
            FollowUp.objects.filter(
                schema_name=schema, queue="sheets", done_at__isnull=True, failed_at__isnull=True
            )
            .order_by("pk")
            .values_list("pk", "task")
        )
        if not pending:
            return done
        for followup_id, task in pending:
            t0 = time.perf_counter()
            if not followups.followup_run(followup_id=followup_id):
                raise RuntimeError(f"follow-up {followup_id} ({task}) failed")
            done.append((task.rsplit(".", 1)[1], time.perf_counter() - t0))


def close_and_render(sale_id: int):
    def run(base: int) -> dict:
        schema = connection.schema_name
        with CaptureQueriesContext(connection) as close_queries:
            t0 = time.perf_counter()
            closed = jobs.sale_close(sale_id=sale_id)
            close_s = time.perf_counter() - t0
        close_mib = mib_since(base)
        if not closed:
            raise RuntimeError(f"sale {sale_id} was not closed")
        events = sum('INSERT INTO "orders_orderevent"' in q["sql"] for q in close_queries.captured_queries)
        with CaptureQueriesContext(connection) as sheet_queries:
            t0, c0 = time.perf_counter(), cpu_s()
            renders = sheets_drain(schema, sale_id)
            sheets_s, sheets_cpu = time.perf_counter() - t0, cpu_s() - c0
        made = list(Sheet.objects.filter(sale_id=sale_id))
        return {
            "close_s": close_s,
            "close_queries": len(close_queries),
            "close_sets": search_path_sets(close_queries),
            "close_event_inserts": events,
            "close_mib": close_mib,
            "sheets_s": sheets_s,
            "sheets_cpu": sheets_cpu,
            "sheets_queries": len(sheet_queries),
            "sheets_sets": search_path_sets(sheet_queries),
            "sheets_mib": mib_since(base),
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "sheets": len(made),
            "pages": sum(sheet.pages for sheet in made),
            "renders": len(renders),
            "parts": sum(task == "sheet_part_make" for task, _s in renders),
            "largest_s": max(seconds for _task, seconds in renders),
            "largest_task": max(renders, key=lambda item: item[1])[0],
            "merges_s": sum(seconds for task, seconds in renders if task == "sheet_merge"),
            "lines_left": OrderLine.objects.filter(
                order__sale_id=sale_id, order__status=Order.Status.PLACED
            ).count(),
        }

    return run


STYLE = """
@page { size: A4; margin: 14mm 12mm 16mm; }
body { font-family: "DejaVu Sans", sans-serif; font-size: 9.5pt; }
table { width: 100%; border-collapse: collapse; }
th, td { border: 0.6pt solid #000; padding: 1.2mm 1.6mm; text-align: left; vertical-align: top; }
td.num { text-align: right; }
"""


def floor(rows: int, *, sheets_gc: bool = False):
    """`sheets_gc`: rendered under the sheets' own garbage-collector thresholds (`pdf.few_collections`), so
    that the floor gets the same help as the sheets."""

    def run(base: int) -> dict:
        body = "".join(
            f"<tr><td class=num>{i + 1}</td><td>Membre {i}</td><td>Produit {i % 200:03d}</td>"
            f"<td class=num>{1 + i % 3}</td><td class=num>{2 + i % 7},40 €</td></tr>"
            for i in range(rows)
        )
        html = (
            f"<!DOCTYPE html><html><head><meta charset=utf-8><style>{STYLE}</style></head><body><table>"
            "<thead><tr><th>Panier</th><th>Membre</th><th>Produit</th><th>Qté</th><th>Montant</th></tr>"
            f"</thead><tbody>{body}</tbody></table></body></html>"
        )
        t0, c0 = time.perf_counter(), cpu_s()
        with sheet_pdf.few_collections() if sheets_gc else contextlib.nullcontext():
            document = HTML(string=html).render()
            document.write_pdf()
        return {
            "floor_s": time.perf_counter() - t0,
            "floor_cpu": cpu_s() - c0,
            "floor_mib": mib_since(base),
            "pages": len(document.pages),
        }

    return run


def queries(result: dict, step: str) -> str:
    return f"{result[step + '_queries']} ({result[step + '_sets']})"


def main() -> None:
    started = time.perf_counter()
    rng = random.Random(47)
    users, farms, points = collective_setup()
    sales = {n: sale_with_orders(n, users, farms, points, rng) for n in SIZES}
    print(
        f"set-up: {PRODUCERS} producers × {PRODUCTS_PER_PRODUCER} products (one with an unreachable "
        f"minimum), 3 points, sales of {', '.join(str(n) for n in SIZES)} orders "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    # Warm-up in the parent, inherited by every child: fonts, WeasyPrint's user-agent CSS, the templates.
    HTML(string="<p>warm-up</p>").render().write_pdf()
    for name in ("producer", "point", "summary", "purchase_order"):
        get_template(f"orders/sheets/{name}.html")
    sheet_pdf._footer_font()  # noqa: SLF001 - the merge's footer glyphs, as a worker keeps them once made

    results = {}
    for n, (sale_id, lines) in sales.items():
        r = results[n] = forked(close_and_render(sale_id))
        r["lines"] = lines
        measured = forked(floor(r["lines_left"]))
        r.update(
            floor_s=measured["floor_s"],
            floor_cpu=measured["floor_cpu"],
            floor_mib=measured["floor_mib"],
            floor_pages=measured["pages"],
        )
        print(
            f"N={n}: close {r['close_s']:.2f} s, sheets {r['sheets_s']:.1f} s (CPU {r['sheets_cpu']:.1f} s), "
            f"floor {r['floor_s']:.1f} s (CPU {r['floor_cpu']:.1f} s)",
            flush=True,
        )

    from config.celery import app

    queued = app.control.purge()  # the sheets tasks and minimum e-mails nobody will run
    shutil.rmtree(settings.MEDIA_ROOT / f"c_{SLUG}", ignore_errors=True)

    print()
    print("sheets: every follow-up of the sheets queue run in one process (plan, sheets, parts, merges)")
    print("memory: growth of a forked child's peak RSS over its RSS at the fork; peak: its absolute peak RSS")
    header = (
        f"{'orders':>6} {'lines':>6} {'kept':>6} | {'close s':>7} {'queries':>9} {'ev.ins':>6} {'MiB':>5} | "
        f"{'sheets s':>8} {'queries':>9} {'MiB':>5} {'peak':>5} {'sheets':>6} {'tasks':>5} {'parts':>5} "
        f"{'pages':>5} {'largest':>7} | {'floor s':>7} {'MiB':>5} {'pages':>5} | {'sheets/floor':>12} "
        f"{'ms/line':>7} {'CPU ratio':>9}"
    )
    print(header)
    print("-" * len(header))
    for n, r in results.items():
        print(
            f"{n:>6} {r['lines']:>6} {r['lines_left']:>6} | {r['close_s']:>7.3f} {queries(r, 'close'):>9} "
            f"{r['close_event_inserts']:>6} {r['close_mib']:>5.0f} | {r['sheets_s']:>8.2f} "
            f"{queries(r, 'sheets'):>9} {r['sheets_mib']:>5.0f} {r['peak_mib']:>5.0f} {r['sheets']:>6} "
            f"{r['renders']:>5} {r['parts']:>5} {r['pages']:>5} {r['largest_s'] / r['sheets_s']:>6.1%} | "
            f"{r['floor_s']:>7.2f} {r['floor_mib']:>5.0f} {r['floor_pages']:>5} | "
            f"{r['sheets_s'] / r['floor_s']:>11.2f}× {1000 * r['sheets_s'] / r['lines_left']:>7.2f} "
            f"{r['sheets_cpu'] / r['floor_cpu']:>8.2f}×"
        )
    small, big = results[SIZES[0]], results[SIZES[-1]]
    scale = big["lines_left"] / small["lines_left"]
    print(
        f"sheets of {SIZES[-1]} orders in one process: {big['sheets_s']:.1f} s, "
        f"floor {big['floor_s']:.1f} s, "
        f"ratio {big['sheets_s'] / big['floor_s']:.2f}× (goal ≤ 1.2×; in CPU time "
        f"{big['sheets_cpu'] / big['floor_cpu']:.2f}×); largest single render "
        f"{big['largest_s']:.1f} s ({big['largest_task']}), {big['largest_s'] / big['sheets_s']:.1%} of the "
        f"total (goal ≤ ~15 %); merges {big['merges_s']:.1f} s; peak RSS of the rendering process "
        f"{max(r['peak_mib'] for r in results.values()):.0f} MiB (goal ≤ 400 MB)"
    )
    share = big["largest_s"] / big["sheets_s"]
    report(
        f"sheets of {SIZES[-1]} orders, one process (largest render {share:.0%})",
        f"{big['sheets_s']:.1f} s",
        f"{big['floor_s']:.1f} s",
        big["sheets_s"] / big["floor_s"],
    )
    # The same floor with the sheets' collector thresholds: what the sheets' own code costs over WeasyPrint's.
    tuned = forked(floor(big["lines_left"], sheets_gc=True))
    print(
        f"floor of {SIZES[-1]} orders with the sheets' GC thresholds: {tuned['floor_s']:.1f} s "
        f"(CPU {tuned['floor_cpu']:.1f} s): sheets {big['sheets_s'] / tuned['floor_s']:.2f}× "
        f"(CPU {big['sheets_cpu'] / tuned['floor_cpu']:.2f}×)"
    )
    report(
        f"sheets of {SIZES[-1]} orders, one process, floor with the same GC thresholds",
        f"{big['sheets_s']:.1f} s",
        f"{tuned['floor_s']:.1f} s",
        big["sheets_s"] / tuned["floor_s"],
    )
    print(
        f"linearity {SIZES[0]} → {SIZES[-1]} orders (lines ×{scale:.2f}): sheets ×"
        f"{big['sheets_s'] / small['sheets_s']:.2f} (CPU ×{big['sheets_cpu'] / small['sheets_cpu']:.2f}), "
        f"floor ×{big['floor_s'] / small['floor_s']:.2f}, "
        f"close ×{big['close_s'] / small['close_s']:.2f}; queries close {small['close_queries']} → "
        f"{big['close_queries']}, sheets {small['sheets_queries']} → {big['sheets_queries']}"
    )
    print("queries: all SQL statements captured (of which django-tenants' SET search_path)")
    print(
        "ev.ins: INSERTs into orders_orderevent during the close (one per order that lost lines to the "
        "missed minimum); largest: the longest single follow-up's share of the sheets' time"
    )
    print(f"{queued} queued tasks purged from Redis; total run {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
