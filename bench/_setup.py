"""Point Django at a throw-away benchmark database on the configured server, then set it up."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

# ETAL_BENCH_DATABASE: another name, so that two benchmarks on one server do not drop each other's database.
BENCH_DATABASE = os.environ.get("ETAL_BENCH_DATABASE", "etal_bench")


def django_for_bench() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    url = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/etal"))
    os.environ["DATABASE_URL"] = urlunsplit(url._replace(path=f"/{BENCH_DATABASE}"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")

    import psycopg

    admin_url = urlunsplit(url._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DATABASE}")

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate_schemas", "--shared", verbosity=0)


def statistics_gathered() -> None:
    """ANALYZE the whole benchmark database, as autovacuum has long done on a live one: a benchmark measures
    right after loading its data, when the planner knows nothing of the new rows yet (a sale page's stock
    read was planned as nested loops, 1.12 ms instead of 0.71 ms, and autovacuum then analysed the tables
    in the middle of the first measurements)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def report(what: str, figure: str, floor: str = "", ratio: float | str | None = None) -> None:
    """One line of `make bench`'s summary table: `what | figure | floor | ratio`.

    figure and floor are texts with their units ("3.9 orders/s", "12 ms"); ratio is a number (printed
    "0.42×": figure over floor, or however the script's docstring defines it) or a text. The line goes to
    stdout as `BENCH|what|figure|floor|ratio`; bench/run_all.py collects these lines from every script and
    prints them as one table at the end."""
    if isinstance(ratio, int | float):
        ratio = f"{ratio:.3g}×"
    cells = [str(cell or "").replace("|", "/").strip() for cell in (what, figure, floor, ratio)]
    print("BENCH|" + "|".join(cells), flush=True)
