"""A producer's catalogue import preview (the dry run shown before « Confirmer l'import ») on N rows.

A producer with N products (default 2 000, the most a file may hold) exports its catalogue as CSV (French
Excel flavour), then the file is previewed as an import would be (every row read, matched and validated,
nothing written): wall time and SQL statements, with django-tenants sending `SET search_path` once per
tenant switch (the project's setting, TENANT_LIMIT_SET_CALLS = True) and before every query (its default),
in the same run. The floor: reading the file into rows and the producer's products from the database.
Issue 21's goal: a 2 000-row preview in ≤ 5 s.
"""

from __future__ import annotations

import csv
import io
import os
import time
from decimal import Decimal

from _setup import django_for_bench, report

django_for_bench()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from marketplace import services as marketplace_services  # noqa: E402
from marketplace import tenancy  # noqa: E402
from marketplace.models import User  # noqa: E402
from producers import catalogue  # noqa: E402
from producers import services as producer_services  # noqa: E402
from producers.models import Product  # noqa: E402

N = int(os.environ.get("BENCH_IMPORT_ROWS", "2000"))


def main() -> None:
    tenancy.public_tenant_ensure()
    tenancy.template_tenant_ensure()
    owner = User.objects.create_user(email="coord@importbench.test", password="bench-password-2026")
    collective = marketplace_services.collective_create(
        owner=owner, name="Import bench", slug="importbench", kind="drive", town="Agen", join_mode="open"
    )
    connection.set_tenant(collective)
    farm = producer_services.producer_create(name="Ferme", town="Agen")
    for i in range(N):
        producer_services.product_create(
            producer=farm, name=f"Produit {i:04d}", price=Decimal("2.40") + i % 7, unit="piece", stock=i % 30
        )
    unchanged = catalogue.catalogue_export(producer=farm, file_format="csv")
    print(f"catalogue import preview of {N} rows (2 cores, PostgreSQL)")
    floor = _floor(farm, unchanged)
    print(f"  floor (the file read into rows, the producer's products read): {floor * 1000:.0f} ms")
    for what, content in (("unchanged", unchanged), ("every price changed", _prices_raised(unchanged))):
        elapsed = _preview(collective, farm, what, content)
        report(
            f"catalogue import preview, {N} rows, {what}",
            f"{elapsed:.2f} s",
            f"reading file + products {floor * 1000:.0f} ms",
            elapsed / floor,
        )


def _floor(farm, content: bytes) -> float:
    """The least a preview does: parse the file, read the products it is matched against (median of 3)."""
    times = []
    for _attempt in range(3):
        began = time.perf_counter()
        catalogue.dataset_read(content, "csv")
        list(Product.objects.filter(producer=farm).select_related("category"))
        times.append(time.perf_counter() - began)
    return sorted(times)[1]


def _prices_raised(content: bytes) -> bytes:
    """The same file with every price 0,05 € higher: each row is then checked as an update."""
    text = content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    column = next(i for i, title in enumerate(rows[0]) if title.lower().startswith("prix"))
    for row in rows[1:]:
        row[column] = str(Decimal(row[column].replace(",", ".")) + Decimal("0.05")).replace(".", ",")
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()


def _preview(collective, farm, what: str, content: bytes) -> float:
    """Prints both search-path settings' figures; returns the project's setting's time."""
    timings = {}
    for limit in (True, False):
        settings.TENANT_LIMIT_SET_CALLS = limit
        connection.set_tenant(collective)
        queries = []  # counted by a wrapper: Django's query log keeps only the last 9 000

        def count(execute, sql, params, many, context, queries=queries):
            queries.append(1)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count), transaction.atomic():
            began = time.perf_counter()
            report = catalogue.catalogue_import_run(
                producer=farm, content=content, file_format="csv", dry_run=True
            )
            elapsed = time.perf_counter() - began
            transaction.set_rollback(True)
        errors = sum(1 for row in report.rows if row.errors) + len(report.file_errors)
        label = "SET search_path once per switch" if limit else "SET search_path before every query"
        print(
            f"  {what}, {label}: {elapsed:.2f} s ({elapsed / N * 1000:.1f} ms/row), "
            f"{len(queries)} SQL statements ({len(queries) / N:.1f}/row), rows with errors: {errors}"
        )
        if errors:
            raise SystemExit("the exported catalogue should import back without errors")
        timings[limit] = elapsed
    settings.TENANT_LIMIT_SET_CALLS = True
    return timings[True]


if __name__ == "__main__":
    main()
