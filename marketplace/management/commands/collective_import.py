"""`manage.py collective_import FILE [--slug NEW]`: restore a collective's archive (marketplace.archives)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from marketplace import archives


class Command(BaseCommand):
    help = "Restore a collective from its archive, under its own sub-domain or a new one (--slug)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--slug", help="restore under this sub-domain instead of the archive's own")

    def handle(self, *args, file: str, slug: str | None = None, **options):
        try:
            result = archives.collective_import(path=Path(file), slug=slug)
        except archives.ArchiveError as error:
            raise CommandError(str(error)) from error
        collective = result.collective
        self.stdout.write(
            self.style.SUCCESS(
                f"Collectif « {collective.name} » restauré à {collective.base_url} : {result.rows} lignes, "
                f"{result.files} fichiers, {result.accounts_created} compte(s) créé(s)."
            )
        )
        if result.accounts_merged:
            self.stdout.write(
                f"{len(result.accounts_merged)} compte(s) existaient déjà avec la même adresse e-mail : ils "
                "gardent leur mot de passe et reçoivent les adhésions de l'archive ("
                + ", ".join(result.accounts_merged)
                + ")."
            )
