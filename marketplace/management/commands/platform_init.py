"""The production bootstrap: the public site's row and domain, and the template schema. No demo data.

Run it after `migrate_schemas`, on every deployment: it creates what is missing and changes nothing else.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from marketplace import tenancy


class Command(BaseCommand):
    help = (
        "Create the public tenant (the platform's own site at BASE_DOMAIN) and the template schema "
        "that new collectives are cloned from. Idempotent; creates no demo data."
    )

    def handle(self, *args, **options):
        public = tenancy.public_tenant_ensure()
        template = tenancy.template_tenant_ensure()
        domains = ", ".join(public.domains.order_by("domain").values_list("domain", flat=True)) or "none"
        self.stdout.write(
            self.style.SUCCESS(
                f"Platform ready: public schema '{public.schema_name}' (domains: {domains}), "
                f"template schema '{template.schema_name}'. "
                f"Collectives live at <slug>.{settings.BASE_DOMAIN}."
            )
        )
