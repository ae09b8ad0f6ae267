"""`migrate_schemas` for thousands of collectives (settings.GET_EXECUTOR_FUNCTION points here).

django-tenants runs Django's `migrate` in every schema, even when there is nothing to do: about a quarter of
a second each (loading the migration graph, switching the search path), a minute for 200 collectives. Here
the applied migrations of every schema are read at once (one UNION query per 500 schemas) and compared with
the migrations on disk; only the schemas that miss some are handed to django-tenants' executor (the
standard one, or the multiprocessing one with `--executor multiprocessing`). Anything but a plain forward
run (a target migration, --fake, --plan, --prune, --check) is left entirely to django-tenants.
"""

from __future__ import annotations

import sys

from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django_tenants.migration_executors import get_executor as tenants_get_executor

CHUNK = 500
_NOT_PLAIN = ("app_label", "migration_name", "fake", "fake_initial", "plan", "prune", "check_unapplied")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def schemas_behind(schemas: list[str]) -> list[str]:
    """The schemas among `schemas` that miss at least one migration found on disk (or have no migration
    table yet), in the order given."""
    expected = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    applied: dict[str, set[tuple[str, str]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema FROM information_schema.tables"
            " WHERE table_name = 'django_migrations' AND table_schema = ANY(%s)",
            [schemas],
        )
        with_table = [row[0] for row in cursor.fetchall()]
        for start in range(0, len(with_table), CHUNK):
            chunk = with_table[start : start + CHUNK]
            query = " UNION ALL ".join(
                f"SELECT %s, app, name FROM {_quote(schema)}.django_migrations"  # noqa: S608 - quoted names
                for schema in chunk
            )
            cursor.execute(query, chunk)
            for schema, app, name in cursor.fetchall():
                applied.setdefault(schema, set()).add((app, name))
    return [schema for schema in schemas if not expected <= applied.get(schema, set())]


def get_executor(codename: str | None = None):
    base = tenants_get_executor(codename)

    class SkipUpToDate(base):  # type: ignore[valid-type,misc]  # the executor django-tenants picked
        codename = base.codename

        def run_migrations(self, tenants=None):
            tenants = list(tenants or [])
            if tenants and not any(self.options.get(option) for option in _NOT_PLAIN):
                behind = schemas_behind(tenants)
                if self.options.get("verbosity", 1) >= 1 and len(behind) < len(tenants):
                    sys.stdout.write(f"{len(tenants) - len(behind)} schema(s) already up to date, skipped\n")
                tenants = behind
            if tenants:
                super().run_migrations(tenants=tenants)

    return SkipUpToDate
