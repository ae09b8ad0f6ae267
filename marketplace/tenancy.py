"""The fast path for new collectives: a template schema, kept migrated, that new schemas are cloned from.

django-tenants runs every tenant migration for a new schema by default (time grows with every app), and
its optional clone_schema() SQL function takes about 2 s even for an empty schema. Collective.create_schema
calls `schemas.schema_clone` instead: the template's DDL rebuilt from the catalog, run as one batch. The
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
