"""The fast path for new collectives: a template schema, kept migrated, that new schemas are cloned from.

django-tenants runs every tenant migration for a new schema by default (time grows with every app), and
its optional clone_schema() SQL function takes about 2 s even for an empty schema. Collective.create_schema
calls `schema_clone` below instead: the template's DDL rebuilt from the catalog, run as one batch. The
template is an unlisted Collective row without a domain, so `migrate_schemas` keeps it up to date like
any other collective.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists

from marketplace.models import Collective, Domain

TEMPLATE_SLUG = "modele-de-collectif"


@transaction.atomic
def public_tenant_ensure() -> Collective:
    """The public schema's row and the platform's own domain (the public site and the directory)."""
    with schema_context(get_public_schema_name()):
        public, _ = Collective.objects.get_or_create(
            schema_name=get_public_schema_name(),
            defaults={"name": "Étal", "slug": "public", "is_listed": False},
        )
        Domain.objects.get_or_create(
            domain=settings.BASE_DOMAIN, defaults={"tenant": public, "is_primary": True}
        )
    return public


def template_tenant_ensure() -> Collective:
    """Create (once) the template schema, migrated the slow way, that every new collective is cloned from."""
    with schema_context(get_public_schema_name()):
        template = Collective.objects.filter(schema_name=settings.TENANT_BASE_SCHEMA).first()
        if template and schema_exists(template.schema_name):
            return template
        if template is None:
            template = Collective(
                schema_name=settings.TENANT_BASE_SCHEMA,
                name="Modèle de collectif",
                slug=TEMPLATE_SLUG,
                is_listed=False,
            )
            template.save(verbosity=0)
        else:
            template.create_schema(check_if_exists=True, verbosity=0)
    return template


# Tables, columns, constraints and indexes of a schema, read from the catalog; the DDL is rebuilt from them.
_TABLES_SQL = """
SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.relname
"""
_COLUMNS_SQL = """
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity,
       pg_get_expr(d.adbin, d.adrelid)
FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attrelid, a.attnum
"""
_CONSTRAINTS_SQL = """
SELECT conrelid, conname, contype, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = ANY(%s)
ORDER BY CASE contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 WHEN 'c' THEN 2 ELSE 3 END, conname
"""
_INDEXES_SQL = """
SELECT i.indexrelid, pg_get_indexdef(i.indexrelid) FROM pg_index i
WHERE i.indrelid = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
ORDER BY i.indexrelid
"""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def schema_clone(*, source: str, target: str) -> None:
    """Create schema `target` with the structure of `source` and a copy of its migration records.

    django-tenants' own clone_schema() PL/pgSQL function takes about 2 s even for a near-empty schema;
    rebuilding the DDL from the catalog and running it as one batch takes a few tens of milliseconds.
    Names of constraints and indexes are kept, so later migrations find what they expect. Runs on the
    public search_path: references to shared tables (accounts) print unqualified and stay on public.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(";\n".join(schema_clone_statements(source=source, target=target)))


def schema_clone_statements(*, source: str, target: str) -> list[str]:
    """The SQL that makes `target` a copy of `source`'s structure and migration records (see schema_clone);
    it no longer needs `source` once read, so the test suite keeps the template's to rebuild it at once."""
    from django.db import connection

    qsource, qtarget = _quote(source), _quote(target)
    with connection.cursor() as cursor:
        cursor.execute(_TABLES_SQL, [source])
        tables = dict(cursor.fetchall())
        oids = list(tables)
        cursor.execute(_COLUMNS_SQL, [oids])
        columns: dict[int, list[str]] = {oid: [] for oid in oids}
        for relid, name, type_, not_null, identity, default in cursor.fetchall():
            column = f"{_quote(name)} {type_}"
            if identity:
                column += (
                    " GENERATED ALWAYS AS IDENTITY"
                    if identity == "a"
                    else " GENERATED BY DEFAULT AS IDENTITY"
                )
            elif default is not None:
                if f"{source}." in default:
                    raise NotImplementedError(f"default refers to the template schema: {default}")
                column += f" DEFAULT {default}"
            if not_null:
                column += " NOT NULL"
            columns[relid].append(column)
        cursor.execute(_CONSTRAINTS_SQL, [oids])
        constraints = cursor.fetchall()
        cursor.execute(_INDEXES_SQL, [oids])
        indexes = cursor.fetchall()

        statements = [f"CREATE SCHEMA {qtarget}"]
        for oid, table in tables.items():
            statements.append(f"CREATE TABLE {qtarget}.{_quote(table)} ({', '.join(columns[oid])})")
        for relid, name, _type, definition in constraints:
            definition = definition.replace(f"REFERENCES {source}.", f"REFERENCES {qtarget}.")
            statements.append(
                f"ALTER TABLE {qtarget}.{_quote(tables[relid])} ADD CONSTRAINT {_quote(name)} {definition}"
            )
        for _oid, definition in indexes:
            statements.append(definition.replace(f" ON {source}.", f" ON {qtarget}.", 1))
        cursor.execute(f"SELECT app, name, applied FROM {qsource}.django_migrations ORDER BY id")  # noqa: S608
        records = [
            cursor.mogrify("(%s, %s, %s)", [app, name, applied]) for app, name, applied in cursor.fetchall()
        ]
        if records:  # quoted schema names (validated slugs) and values quoted by the driver
            statements.append(
                f"INSERT INTO {qtarget}.django_migrations (app, name, applied) VALUES {', '.join(records)}"  # noqa: S608
            )
    return statements
