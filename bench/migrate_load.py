"""`migrate_schemas` with nothing to do, for many collectives: django-tenants' own executors (every schema
migrated in turn, or by a process pool) against Étal's (marketplace.migration_executor: every schema's
applied migrations read at once, only the schemas behind are migrated). Then one real migration across
them all: a tenth of the schemas lose the record of the shared app's last migration (nothing to redo in a
tenant schema but the record), and are migrated again, by the standard and by the multiprocessing executor.

BENCH_MIGRATE_COLLECTIVES (default 200) collectives are made by cloning the template schema. Prints the
seconds and the milliseconds per collective of each run.
"""

from __future__ import annotations

import os
import time

from _setup import django_for_bench, report

django_for_bench()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.migrations.loader import MigrationLoader  # noqa: E402
from django_tenants.management.commands import migrate_schemas  # noqa: E402
from django_tenants.migration_executors import get_executor as tenants_get_executor  # noqa: E402

from marketplace import tenancy  # noqa: E402
from marketplace.migration_executor import get_executor as etal_get_executor  # noqa: E402
from marketplace.models import Collective, Domain  # noqa: E402

COUNT = int(os.environ.get("BENCH_MIGRATE_COLLECTIVES", "200"))


def collectives_make(count: int) -> list[str]:
    tenancy.public_tenant_ensure()
    tenancy.template_tenant_ensure()
    schemas = []
    for index in range(count):
        collective = Collective(
            schema_name=f"c_mig{index:05d}", name=f"Collectif {index}", slug=f"mig{index:05d}"
        )
        collective.save(verbosity=0)  # cloned from the template (see Collective.create_schema)
        Domain.objects.create(domain=f"mig{index:05d}.localhost", tenant=collective, is_primary=True)
        schemas.append(collective.schema_name)
    return schemas


def timed(get_executor, *args) -> float:
    migrate_schemas.GET_EXECUTOR_FUNCTION = get_executor
    started = time.perf_counter()
    call_command("migrate_schemas", "--tenant", "--noinput", "-v", "0", *args)
    return time.perf_counter() - started


def forget_a_migration(schemas: list[str]) -> None:
    """As if these schemas had not had the shared app's last migration yet (its tables live in public: a
    tenant schema only records it)."""
    (last,) = MigrationLoader(None).graph.leaf_nodes("marketplace")
    with connection.cursor() as cursor:
        for schema in schemas:
            cursor.execute(f"DELETE FROM {schema}.django_migrations WHERE app = %s AND name = %s", list(last))  # noqa: S608


def main() -> None:
    started = time.perf_counter()
    schemas = collectives_make(COUNT)
    print(f"set-up: {COUNT} collectives cloned from the template in {time.perf_counter() - started:.1f} s")
    total = COUNT + 1  # and the template
    rows = []
    for label, get_executor, args in [
        ("django-tenants standard", tenants_get_executor, ["--executor", "standard"]),
        ("django-tenants multiprocessing", tenants_get_executor, ["--executor", "multiprocessing"]),
        ("Étal (skip up to date)", etal_get_executor, ["--executor", "standard"]),
    ]:
        seconds = timed(get_executor, *args)
        rows.append((f"nothing to do, {label}", seconds))
    behind = schemas[::10]
    for label, args in [
        ("standard", ["--executor", "standard"]),
        ("multiprocessing", ["--executor", "multiprocessing"]),
    ]:
        forget_a_migration(behind)
        seconds = timed(etal_get_executor, *args)
        rows.append((f"{len(behind)} schemas behind, Étal + {label}", seconds))
    for label, seconds in rows:
        print(f"{label:<52} {seconds:7.2f} s  {seconds * 1000 / total:7.1f} ms per collective")
        report(
            f"migrate_schemas, {total} collectives, {label}",
            f"{seconds * 1000 / total:.1f} ms per collective",
        )


if __name__ == "__main__":
    main()
