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


def _fresh(name: str) -> bool:
    """Whether the spare's migration records are the template's."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_records(name)} = {_records(settings.TENANT_BASE_SCHEMA)}")  # noqa: S608
        return bool(cursor.fetchone()[0])


def _claim(name: str) -> bool | None:
    """Claim a spare until the transaction ends: None when another transaction has it or it is gone (taken
    since the list was read), else whether it is fresh. Its records are read only once it is claimed: a
    spare renamed meanwhile has no table left to read."""
    if not locks.spare_claim(name) or not schema_exists(name):
        return None
    return _fresh(name)


def spare_take(*, target: str) -> bool:
    """Rename a fresh spare to `target`, in the caller's transaction (the creating one); False when none is
    ready (the caller clones the template instead)."""
    with transaction.atomic():
        for name in _spare_names():
            if _claim(name):
                with connection.cursor() as cursor:
                    cursor.execute(f"ALTER SCHEMA {schemas.quote(name)} RENAME TO {schemas.quote(target)}")
                return True
    return False


def spares_fill(*, wanted: int | None = None) -> dict[str, int]:
    """Drop the spares that no longer match the template and clone new ones until `wanted`
    (TENANT_SPARE_SCHEMAS) are ready. Each spare is looked at, dropped or made in its own transaction."""
    wanted = settings.TENANT_SPARE_SCHEMAS if wanted is None else wanted
    template = settings.TENANT_BASE_SCHEMA
    if not schema_exists(template):
        return {"dropped": 0, "made": 0, "ready": 0}
    connection.set_schema_to_public()
    dropped = made = ready = 0
    for name in _spare_names():
        with transaction.atomic():
            fresh = _claim(name)
            if fresh is False:
                with connection.cursor() as cursor:
                    cursor.execute(f"DROP SCHEMA {schemas.quote(name)} CASCADE")
                dropped += 1
            elif fresh:
                ready += 1
    while ready < wanted:
        with transaction.atomic():
            schemas.schema_clone(source=template, target=f"{PREFIX}{uuid.uuid4().hex[:12]}")
        made += 1
        ready += 1
    if dropped or made:
        logger.info("spare schemas: %s dropped, %s made, %s ready", dropped, made, ready)
    return {"dropped": dropped, "made": made, "ready": ready}
