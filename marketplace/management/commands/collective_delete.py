"""`manage.py collective_delete <slug> [--cancel]`: delete a collective with a grace period, or restore it."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from marketplace import archives
from marketplace.models import Collective


class Command(BaseCommand):
    help = (
        "Delete a collective: its site closes at once, its schema is archived and dropped by the nightly "
        "purge after COLLECTIVE_GRACE_DAYS. --cancel restores it during the grace period."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--cancel", action="store_true", help="restore a collective deleted recently")

    def handle(self, *args, slug: str, cancel: bool = False, **options):
        collective = Collective.objects.tenants().filter(slug=slug).first()
        if collective is None:
            raise CommandError(f"Aucun collectif « {slug} » sur cette instance.")
        if cancel:
            archives.collective_undelete(collective_id=collective.pk)
            self.stdout.write(self.style.SUCCESS(f"Collectif « {slug} » restauré : son site est rouvert."))
            return
        collective = archives.collective_delete(collective_id=collective.pk)
        self.stdout.write(
            self.style.SUCCESS(
                f"Collectif « {slug} » supprimé : son site est fermé ; restaurable jusqu'au "
                f"{archives.purge_due_at(collective):%d/%m/%Y} (collective_delete {slug} --cancel)."
            )
        )
