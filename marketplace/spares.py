"""Spare schemas: clones of the template made ahead of time, so that a new collective is live at once.

Cloning the template (marketplace.schemas) costs a few hundred milliseconds of DDL, most of it PostgreSQL
creating each table's and index's files. `spares_fill` (a Celery task, after every new collective and
every ten minutes) keeps TENANT_SPARE_SCHEMAS clones named `spare_<hex>` ready; `spare_take`, called by
marketplace.services.collective_create inside the creating transaction, renames one to the new
collective's schema name (a catalog update: milliseconds). If that transaction rolls back, the spare keeps
its name.

A spare is used only if its migration records are the template's: after a deploy that migrated the
template (migrate_schemas keeps it current like any collective; spares are not collectives), the old spares
are left alone by `spare_take` and dropped by the next `spares_fill`, which clones fresh ones. Two
creations at once never take the same spare: each takes a transaction-level advisory lock on the spare's
name (marketplace.locks.spare_claim) and checks it still exists under that lock.
"""

from __future__ import annotations

import logging
import re
import uuid

from django.conf import settings
from django.db import connection, transaction
from django_tenants.utils import schema_exists

from marketplace import locks, schemas

logger = logging.getLogger(__name__)

PREFIX = "spare_"
_NAME = re.compile(r"^spare_[0-9a-f]{12}$")

_SPARES_SQL = r"SELECT nspname FROM pg_namespace WHERE nspname LIKE 'spare\_%%' ORDER BY nspname"


def _records(schema: str) -> str:
    return (
        f"(SELECT md5(string_agg(app || '.' || name, ',' ORDER BY app, name)) "  # noqa: S608 - quoted name
        f"FROM {schemas.quote(schema)}.django_migrations)"
    )


def _spare_names() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(_SPARES_SQL)
        return [name for (name,) in cursor.fetchall() if _NAME.match(name)]


def _fresh(names: list[str]) -> dict[str, bool]:
    """Whether each spare's migration records are the template's (one statement for all)."""
    if not names:
        return {}
    template = _records(settings.TENANT_BASE_SCHEMA)
    columns = ", ".join(f"{_records(name)} = {template}" for name in names)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}")  # noqa: S608 - spare names matched by _NAME
        return dict(zip(names, (bool(value) for value in cursor.fetchone()), strict=True))


def spare_take(*, target: str) -> bool:
    """Rename a fresh spare to `target`, in the caller's transaction (the creating one); False when none is
    ready (the caller clones the template instead)."""
    names = _spare_names()
    with transaction.atomic():
        for name, fresh in _fresh(names).items():
            if not fresh or not locks.spare_claim(name):
                continue
            if not schema_exists(name):  # taken by a creation that committed since the list was read
                continue
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER SCHEMA {schemas.quote(name)} RENAME TO {schemas.quote(target)}")
            return True
    return False


def spares_fill(*, wanted: int | None = None) -> dict[str, int]:
    """Drop the spares that no longer match the template and clone new ones until `wanted`
    (TENANT_SPARE_SCHEMAS) are ready. Each spare is made in its own transaction."""
    wanted = settings.TENANT_SPARE_SCHEMAS if wanted is None else wanted
    template = settings.TENANT_BASE_SCHEMA
    if not schema_exists(template):
        return {"dropped": 0, "made": 0, "ready": 0}
    connection.set_schema_to_public()
    dropped = made = 0
    fresh = _fresh(_spare_names())
    for name, is_fresh in fresh.items():
        if is_fresh:
            continue
        with transaction.atomic():
            if locks.spare_claim(name) and schema_exists(name):
                with connection.cursor() as cursor:
                    cursor.execute(f"DROP SCHEMA {schemas.quote(name)} CASCADE")
                dropped += 1
    ready = sum(fresh.values())
    while ready < wanted:
        with transaction.atomic():
            schemas.schema_clone(source=template, target=f"{PREFIX}{uuid.uuid4().hex[:12]}")
        made += 1
        ready += 1
    if dropped or made:
        logger.info("spare schemas: %s dropped, %s made, %s ready", dropped, made, ready)
    return {"dropped": dropped, "made": made, "ready": ready}
