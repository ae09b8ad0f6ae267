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
