"""Where sheet files live: moving old public files to private storage, deleting files no sheet points to."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.core.files.base import File
from django.core.files.storage import storages
from django.db import connection

from marketplace.storage import private_storage
from orders.models import Sheet, SheetPart


def _private_name(name: str) -> str:
    folder, _sep, base = name.rpartition("/")
    return f"{folder}/{secrets.token_urlsafe(16)}-{base}"


def sheet_files_move_to_private() -> int:
    """In the current schema: every sheet file that an older version left in public media (MEDIA_ROOT) moves
    to the private storage under an unguessable name, and so does any file left in `<schema>/sheets/` by a
    replaced sheet. Idempotent: a second run finds nothing. Returns how many files moved."""
    public, private = storages["default"], private_storage()
    moved = 0
    for sheet in Sheet.objects.exclude(file="").only("pk", "file"):
        old = sheet.file.name
        if not public.exists(old):
            continue
        with public.open(old, "rb") as handle:
            new = private.save(_private_name(old), File(handle))
        # Run outside a transaction (a command): the row points to the copy before the original goes.
        Sheet.objects.filter(pk=sheet.pk).update(file=new)
        public.delete(old)
        moved += 1
    for name in _files_under(public, f"{connection.schema_name}/sheets"):
        with public.open(name, "rb") as handle:
            private.save(_private_name(name), File(handle))
        public.delete(name)
        moved += 1
    return moved


def _files_under(storage, folder: str) -> list[str]:
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return []
    found = [f"{folder}/{name}" for name in files]
    for sub in folders:
        found += _files_under(storage, f"{folder}/{sub}")
    return found


def sheet_orphans_delete(*, older_than: datetime) -> int:
    """Delete the files of the collective's sheets folder in private storage that no sheet points to and
    that were written before `older_than` (a younger one may be about to be swapped in)."""
    storage = private_storage()
    kept = set(Sheet.objects.values_list("file", flat=True)) | set(
        SheetPart.objects.values_list("file", flat=True)
    )
    deleted = 0
    for name in _files_under(storage, f"{connection.schema_name}/sheets"):
        if name not in kept and storage.get_modified_time(name) < older_than:
            storage.delete(name)
            deleted += 1
    return deleted
