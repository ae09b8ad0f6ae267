"""The clock's due-index (marketplace.ClockDue): which collectives need their clock job now.

Beat's minute tick used to send one task per collective, each reading its sales to find nothing to do in
nearly every case; now it reads the index (`due_schemas`) and visits only the collectives that are due.
The index is kept right in three ways:

- a service that changes what the clock looks at (a sale published or moved, a card order awaiting its
  payment, a schedule, a weighing, a price agreement) calls `due_lower(at=…)` in its own transaction: the
  collective is due at that moment at the latest. Lowering never hurts: too early costs one visit that finds
  nothing and recomputes;
- after its work, the collective's job recomputes its next moment from its own tables
  (orders.closing.due.due_refresh, `due_store` here);
- a collective without a row is due, and the hourly pass (orders.tasks.tenants_clock_check) visits every
  collective, so a row that is missing or wrong costs at most an hour, never a lost closing.

Recomputing and lowering cannot lose each other's work: lowering holds the collective's clock lock shared
until its commit, and recomputing takes it exclusive (without waiting) before reading the tables, so it sees
every change committed before it, and any later one lowers its result (marketplace.locks).
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from marketplace import locks
from marketplace.models import ClockDue, Collective


def _schema(schema_name: str | None) -> str:
    return schema_name or connection.schema_name  # type: ignore[attr-defined]  # django-tenants' connection


def due_lower(*, at: datetime, schema_name: str | None = None) -> None:
    """The collective (the current one by default) needs its clock job by `at` at the latest. Two statements,
    in the caller's transaction; a collective without a row is due anyway."""
    schema = _schema(schema_name)
    with transaction.atomic(savepoint=False):
        locks.clock_share(schema)
        # A fresh statement after the lock: it sees what a recomputation committed meanwhile.
        ClockDue.objects.filter(collective__schema_name=schema).filter(
            Q(next_due__isnull=True) | Q(next_due__gt=at)
        ).update(next_due=at)


def due_store(*, next_due: datetime | None, schema_name: str | None = None) -> None:
    """Write the collective's recomputed moment (under `locks.clock_try_lock`: orders.closing.due)."""
    collective_id = Collective.objects.filter(schema_name=_schema(schema_name)).values_list("pk", flat=True)
    ClockDue.objects.bulk_create(
        [ClockDue(collective_id=collective_id.get(), next_due=next_due, computed_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["collective"],
        update_fields=["next_due", "computed_at"],
    )


def due_schemas(*, now: datetime | None = None) -> list[str]:
    """The schemas of the active collectives whose clock job is due: their moment has come, or they have no
    row yet (a new collective, a lost row). One query; suspended and deleted collectives stand still."""
    now = now or timezone.now()
    return list(
        Collective.objects.active_tenants()
        .filter(Q(clock_due__isnull=True) | Q(clock_due__next_due__lte=now))
        .values_list("schema_name", flat=True)
    )
