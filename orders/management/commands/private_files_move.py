"""Move delivery sheets that an older version stored in public media into the private storage.

Idempotent and cheap when there is nothing to move (one query per collective): `make dev` runs it at start,
a deployment after `migrate_schemas`.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from marketplace.models import Collective
from orders.sheets import storage as sheet_storage


class Command(BaseCommand):
    help = "Move every sheet file still under MEDIA_ROOT into the private storage (PRIVATE_ROOT)."

    def handle(self, *args, **options):
        schemas = Collective.objects.tenants().order_by("pk").values_list("schema_name", flat=True)
        total = 0
        for schema_name in schemas:
            with schema_context(schema_name):
                moved = sheet_storage.sheet_files_move_to_private()
            if moved:
                self.stdout.write(f"{schema_name}: {moved} file(s) moved to the private storage.")
            total += moved
        if options["verbosity"] > 0:
            self.stdout.write(self.style.SUCCESS(f"Private files: {total} moved."))
