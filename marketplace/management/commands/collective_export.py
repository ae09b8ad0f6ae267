"""`manage.py collective_export <slug> [--output FILE]`: one collective's archive (marketplace.archives)."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from marketplace import archives


class Command(BaseCommand):
    help = "Write one collective's archive (its rows, accounts, memberships, media and private files)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--output", help="the archive to write (default: <slug>-<date>.tar.gz here)")

    def handle(self, *args, slug: str, output: str | None = None, **options):
        path = Path(output or f"{slug}-{timezone.now():%Y%m%d-%H%M%S}.tar.gz")
        started = time.monotonic()
        try:
            manifest = archives.collective_export(slug=slug, output=path)
        except archives.ArchiveError as error:
            raise CommandError(str(error)) from error
        counts = manifest["counts"]
        self.stdout.write(
            self.style.SUCCESS(
                f"Archive {path}: {counts['rows']} rows, {counts['accounts']} accounts, "
                f"{counts['memberships']} memberships, {counts['files']} files, "
                f"{path.stat().st_size / 1024:.0f} KiB in {time.monotonic() - started:.1f} s."
            )
        )
