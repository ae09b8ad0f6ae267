"""New collectives are cloned from the template schema: the clone must equal a fully migrated schema."""

from unittest import mock

from django.db import connection
from django.test import override_settings

from marketplace import schemas, tenancy
from marketplace.models import Collective


def _describe(schema: str) -> dict:
    """Everything a migration creates in a schema, with the schema's own name taken out."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity,
                      character_maximum_length, numeric_precision, numeric_scale
               FROM information_schema.columns WHERE table_schema = %s ORDER BY 1, 2""",
            [schema],
        )
        columns = cursor.fetchall()
        cursor.execute(
            """SELECT cl.relname, co.conname, co.contype, pg_get_constraintdef(co.oid)
               FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid
               JOIN pg_namespace n ON n.oid = cl.relnamespace WHERE n.nspname = %s ORDER BY 1, 2""",
            [schema],
        )
        constraints = [tuple(str(v).replace(f"{schema}.", "S.") for v in row) for row in cursor.fetchall()]
        cursor.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = %s ORDER BY 1, 2",
            [schema],
        )
        indexes = [tuple(v.replace(f"{schema}.", "S.") for v in row) for row in cursor.fetchall()]
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations ORDER BY app, name')
        migrations = cursor.fetchall()
    return {"columns": columns, "constraints": constraints, "indexes": indexes, "migrations": migrations}


def test_cloned_schema_equals_a_migrated_schema(db):
    template = tenancy.template_tenant_ensure()
    cloned = Collective(schema_name="c_clone_check", slug="clone-check", name="Clone")
    cloned.save(verbosity=0)
    with (
        override_settings(TENANT_BASE_SCHEMA="no_such_template"),
        mock.patch.object(schemas, "schema_clone", side_effect=AssertionError("must migrate")),
    ):
        migrated = Collective(schema_name="c_migrate_check", slug="migrate-check", name="Migré")
        migrated.save(verbosity=0)

    migrated_schema = _describe(migrated.schema_name)
    assert migrated_schema["migrations"], "the migrated schema records its migrations"
    assert _describe(cloned.schema_name) == migrated_schema
    assert _describe(template.schema_name) == migrated_schema


def test_a_new_collective_does_not_run_migrations(db):
    from marketplace import services
    from marketplace.models import User

    owner = User.objects.create_user(email="owner@clone.test", password="x")
    with mock.patch("django_tenants.models.call_command", side_effect=AssertionError("migrations ran")):
        collective = services.collective_create(
            owner=owner, name="Rapide", slug="rapide", kind="drive", town="Nérac"
        )
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{collective.schema_name}".django_migrations')
        assert cursor.fetchone()[0] > 0


def test_migrate_schemas_migrates_only_the_collectives_that_are_behind(alpha, beta):
    """beta misses the record of the shared app's last migration (a tenant schema records it, its tables
    live in public): migrate_schemas finds beta alone behind, and brings it up to date."""
    from django.core.management import call_command
    from django.db.migrations.loader import MigrationLoader

    from marketplace.migration_executor import schemas_behind

    (last,) = MigrationLoader(None).graph.leaf_nodes("marketplace")
    schemas = [alpha.collective.schema_name, beta.collective.schema_name]
    assert schemas_behind(schemas) == []
    forget = f"DELETE FROM {beta.collective.schema_name}.django_migrations WHERE app = %s AND name = %s"
    with connection.cursor() as cursor:
        cursor.execute(forget, list(last))
    assert schemas_behind(schemas) == [beta.collective.schema_name]
    call_command("migrate_schemas", "--tenant", "--noinput", "-v", "0")
    assert schemas_behind(schemas) == []
