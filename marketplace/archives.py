"""One collective's data, out and back (issue 20): an archive per collective, deletion with a grace period.

An archive is a tar.gz holding
- `manifest.json`: format version, Étal version, the collective's applied migrations per app, PostgreSQL's
  version, when it was made, row and file counts and the SHA-256 of every other member;
- `public.json`: its row of the public schema, its domains, memberships and invitations, and the accounts
  that belong to it or that its rows point to (password hashes included, never staff or superuser rights);
- `tables/<table>.copy`: every table of its schema in PostgreSQL's COPY text format (pg_dump's data
  format, without pg_dump: no client binary whose version must match the server's);
- `files/media/…` and `files/private/…`: everything under `<schema>/` in the default and private storages.

The schema's structure is not in the archive: the import builds it from the migrations recorded in the
manifest (the template clone when they are the instance's own, else the migrations up to the archive's
state, its rows, then the instance's later migrations), so an archive outlives PostgreSQL upgrades.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import metadata
from pathlib import Path, PurePosixPath

from allauth.account.models import EmailAddress
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage, storages
from django.db import connection, models, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists

from marketplace import tenancy
from marketplace.models import SLUG_VALIDATOR, Collective, Domain, FollowUp, Invitation, Membership, User
from marketplace.services import RESERVED_SLUGS, schema_name_for_slug
from marketplace.storage import private_storage

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
_USER_FIELDS = [
    "email",
    "password",
    "first_name",
    "last_name",
    "phone",
    "is_active",
    "date_joined",
    "last_login",
    "erased_at",
    "email_undeliverable_at",
    "email_undeliverable_reason",
]
_COLLECTIVE_FIELDS = [
    "name",
    "kind",
    "description",
    "town",
    "department",
    "contact_email",
    "contact_phone",
    "logo",
    "join_mode",
    "allow_cooptation",
    "is_listed",
    "stripe_account_id",
    "stripe_charges_enabled",
    "created_at",
]


class ArchiveError(Exception):
    """An archive that cannot be imported here, with a message for the operator."""


@dataclass
class ImportResult:
    collective: Collective
    accounts_created: int = 0
    accounts_merged: list[str] = field(default_factory=list)  # existing accounts kept with their password
    rows: int = 0
    files: int = 0


# Where a collective's data lives ----------------------------------------------------------------------------


def _tenant_models() -> list[type[models.Model]]:
    tenant_apps = {app.rsplit(".", 1)[-1] for app in settings.TENANT_APPS}
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in tenant_apps and model._meta.managed
    ]


def _user_columns() -> list[tuple[str, str]]:
    """(table, column) of every tenant column that holds an account's id (orders, producers' staff…)."""
    return [
        (model._meta.db_table, item.column)
        for model in _tenant_models()
        for item in model._meta.concrete_fields
        if item.is_relation and item.related_model is User
    ]


def _file_columns() -> list[tuple[str, str]]:
    """(table, column) of every tenant column that holds a file's name (photos, sheets)."""
    return [
        (model._meta.db_table, item.column)
        for model in _tenant_models()
        for item in model._meta.concrete_fields
        if isinstance(item, models.FileField)
    ]


def _storages() -> dict[str, Storage]:
    return {"media": storages["default"], "private": private_storage()}


def _files_under(storage: Storage, folder: str) -> list[str]:
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return []
    found = [f"{folder}/{name}" for name in files]
    for sub in folders:
        found += _files_under(storage, f"{folder}/{sub}")
    return sorted(found)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables(cursor, schema: str) -> dict[str, list[str]]:
    cursor.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = %s "
        "AND table_name IN (SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
        "AND table_type = 'BASE TABLE') ORDER BY table_name, ordinal_position",
        [schema, schema],
    )
    tables: dict[str, list[str]] = {}
    for table, column in cursor.fetchall():
        if table != "django_migrations":
            tables.setdefault(table, []).append(column)
    return tables


def _applied_migrations(cursor, schema: str) -> dict[str, list[str]]:
    cursor.execute(f"SELECT app, name FROM {_q(schema)}.django_migrations ORDER BY app, name")  # noqa: S608
    applied: dict[str, list[str]] = {}
    for app, name in cursor.fetchall():
        applied.setdefault(app, []).append(name)
    return applied


def _etal_version() -> str:
    try:
        return metadata.version("etal")
    except metadata.PackageNotFoundError:
        return "unknown"


def _dt(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Export -----------------------------------------------------------------------------------------------------


def collective_export(*, slug: str, output: Path) -> dict:
    """Write the collective's archive to `output` (a tar.gz, written beside it then renamed: a failed export
    leaves no half-written file). Returns the manifest."""
    collective = Collective.objects.filter(slug=slug).first()
    if collective is None:
        raise ArchiveError(_("Aucun collectif « %(slug)s » sur cette instance.") % {"slug": slug})
    schema = collective.schema_name
    checksums: dict[str, str] = {}
    counts: dict[str, int] = {}
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = tempfile.NamedTemporaryFile(  # noqa: SIM115 - renamed or removed below, never left behind
        dir=output.parent, prefix=".export-", suffix=".tmp", delete=False
    )
    try:
        with tarfile.open(fileobj=temporary, mode="w:gz") as archive:

            def add(name: str, data: bytes) -> None:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mtime = int(timezone.now().timestamp())
                archive.addfile(info, io.BytesIO(data))
                checksums[name] = _sha256(data)

            connection.set_schema_to_public()
            outer = connection.in_atomic_block  # a caller's transaction (a test) has its snapshot already
            # One snapshot for every table and public row: an order placed meanwhile is in all or none.
            with transaction.atomic(), connection.cursor() as cursor:
                if not outer:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                cursor.execute("SHOW server_version")
                postgres_version = cursor.fetchone()[0]
                tables = _tables(cursor, schema)
                applied = _applied_migrations(cursor, schema)
                user_ids: set[int] = set(
                    Membership.objects.filter(collective=collective).values_list("user_id", flat=True)
                )
                for table, columns in tables.items():
                    buffer = io.BytesIO()
                    column_list = ", ".join(_q(column) for column in columns)
                    with cursor.copy(f"COPY {_q(schema)}.{_q(table)} ({column_list}) TO STDOUT") as copy:
                        for chunk in copy:
                            buffer.write(chunk)
                    data = buffer.getvalue()
                    counts[table] = data.count(b"\n")
                    add(f"tables/{table}.copy", data)
                for table, column in _user_columns():
                    if table in tables:
                        cursor.execute(
                            f"SELECT DISTINCT {_q(column)} FROM {_q(schema)}.{_q(table)} "  # noqa: S608
                            f"WHERE {_q(column)} IS NOT NULL"
                        )
                        user_ids.update(row[0] for row in cursor.fetchall())
                public = _public_rows(collective, user_ids)
            add("public.json", json.dumps(public, ensure_ascii=False, indent=1).encode())
            files = 0
            for kind, storage in _storages().items():
                for name in _files_under(storage, schema):
                    with storage.open(name, "rb") as handle:
                        add(f"files/{kind}/{name}", handle.read())
                    files += 1
            manifest = {
                "format_version": FORMAT_VERSION,
                "etal_version": _etal_version(),
                "created_at": timezone.now().isoformat(),
                "postgresql_version": postgres_version,
                "slug": collective.slug,
                "schema_name": schema,
                "migrations": applied,
                "tables": {
                    table: {"columns": columns, "rows": counts[table]} for table, columns in tables.items()
                },
                "counts": {
                    "rows": sum(counts.values()),
                    "accounts": len(public["users"]),
                    "memberships": len(public["memberships"]),
                    "files": files,
                },
                "checksums": checksums,
            }
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        temporary.close()
        Path(temporary.name).replace(output)
    except BaseException:
        temporary.close()
        Path(temporary.name).unlink(missing_ok=True)
        raise
    return manifest


def _public_rows(collective: Collective, user_ids: set[int]) -> dict:
    users = User.objects.filter(pk__in=user_ids).order_by("pk")
    addresses: dict[int, list[dict]] = {}
    for address in (
        EmailAddress.objects.filter(user_id__in=user_ids)
        .order_by("pk")
        .values("user_id", "email", "verified", "primary")
    ):
        addresses.setdefault(address.pop("user_id"), []).append(address)
    return {
        "collective": {
            "slug": collective.slug,
            "schema_name": collective.schema_name,
            **{
                name: (_dt(value) if isinstance(value, datetime) else str(value) if name == "logo" else value)
                for name in _COLLECTIVE_FIELDS
                for value in [getattr(collective, name)]
            },
        },
        "domains": list(Domain.objects.filter(tenant=collective).values("domain", "is_primary")),
        "users": [
            {
                "id": user.pk,
                **{
                    name: _dt(value) if isinstance(value, datetime) else value
                    for name in _USER_FIELDS
                    for value in [getattr(user, name)]
                },
                "email_addresses": addresses.get(user.pk, []),
            }
            for user in users
        ],
        "memberships": [
            {
                "user": membership.user_id,
                "roles": membership.roles,
                "status": membership.status,
                "invited_by": membership.invited_by_id,
                "created_at": _dt(membership.created_at),
            }
            for membership in Membership.objects.filter(collective=collective).order_by("pk")
        ],
        "invitations": [
            {
                "email": invitation.email,
                "role": invitation.role,
                "token": invitation.token,
                "created_by": invitation.created_by_id,
                "created_at": _dt(invitation.created_at),
                "expires_at": _dt(invitation.expires_at),
                "accepted_at": _dt(invitation.accepted_at),
                "accepted_by": invitation.accepted_by_id,
                "revoked_at": _dt(invitation.revoked_at),
                "scope": invitation.scope,
                "scope_label": invitation.scope_label,
            }
            for invitation in Invitation.objects.filter(collective=collective).order_by("pk")
        ],
    }


# Import -----------------------------------------------------------------------------------------------------


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts


def archive_read(path: Path) -> tuple[dict, Callable[[str], bytes]]:
    """Open and check an archive: every member named in the manifest is there with its checksum, and no
    other. Returns the manifest and a reader of members."""
    corrupt = _("L'archive %(path)s est illisible ou altérée") % {"path": path}
    try:
        contents: dict[str, bytes] = {}
        with tarfile.open(path, mode="r:gz") as archive:
            for member in archive:
                if not member.isfile() or not _safe_name(member.name):
                    raise ArchiveError(f"{corrupt} ({member.name}).")
                handle = archive.extractfile(member)
                contents[member.name] = handle.read() if handle else b""
        manifest = json.loads(contents.pop("manifest.json"))
    except ArchiveError:
        raise
    except (OSError, tarfile.TarError, EOFError, KeyError, ValueError) as error:
        raise ArchiveError(f"{corrupt} ({error}).") from error
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArchiveError(
            _("Format d'archive %(found)s inconnu de cette version d'Étal (elle lit le format %(known)s).")
            % {"found": manifest.get("format_version"), "known": FORMAT_VERSION}
        )
    checksums = manifest.get("checksums", {})
    if set(checksums) != set(contents):
        raise ArchiveError(f"{corrupt} " + _("(fichiers manquants ou en trop)."))
    for name, data in contents.items():
        if _sha256(data) != checksums[name]:
            raise ArchiveError(
                f"{corrupt} " + _("(somme de contrôle fausse pour %(name)s).") % {"name": name}
            )
    return manifest, contents.__getitem__


def _migration_targets(applied: dict[str, list[str]]) -> tuple[list[tuple[str, str]], bool]:
    """The archive's state as migration targets, and whether it is the instance's own state. Raises when the
    archive knows a migration this instance does not (made by a newer Étal)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    graph = loader.graph
    unknown = sorted(
        f"{app}.{name}"
        for app, names in applied.items()
        for name in names
        if app in loader.migrated_apps and (app, name) not in graph.nodes
    )
    if unknown:
        raise ArchiveError(
            _(
                "Cette archive vient d'une version d'Étal plus récente que cette instance "
                "(migrations inconnues ici : %(names)s). Mettez l'instance à jour avant de l'importer."
            )
            % {"names": ", ".join(unknown[:5])}
        )
    targets = []
    same = True
    for app in sorted(loader.migrated_apps):
        names = [name for name in applied.get(app, []) if (app, name) in graph.nodes]
        leaves = [node for node in graph.leaf_nodes() if node[0] == app]
        if not names:
            targets.append((app, None))
            same = same and not leaves
            continue
        latest = max(names, key=lambda name: len(graph.forwards_plan((app, name))))
        targets.append((app, latest))
        same = same and set(leaves) <= {(app, name) for name in names}
    return targets, same


def collective_import(*, path: Path, slug: str | None = None) -> ImportResult:
    """Restore an archive as collective `slug` (the archive's own by default). Refuses a taken address, an
    archive from a newer Étal and a corrupt archive; merges accounts by e-mail (an existing account keeps its
    password). All or nothing: on any failure no schema, row or file is left behind."""
    manifest, member = archive_read(Path(path))
    public = json.loads(member("public.json"))
    old_schema = manifest["schema_name"]
    slug = (slug or manifest["slug"]).strip().lower()
    if slug in RESERVED_SLUGS or not re.fullmatch(SLUG_VALIDATOR.regex, slug):
        # As creating a collective refuses them: a reserved name, or what is not a sub-domain.
        raise ArchiveError(
            _("« %(slug)s » ne peut pas être un sous-domaine : choisissez-en un autre (--slug).")
            % {"slug": slug}
        )
    schema = schema_name_for_slug(slug)
    connection.set_schema_to_public()
    if (
        Collective.objects.filter(slug=slug).exists()
        or Collective.objects.filter(schema_name=schema).exists()
        or Domain.objects.filter(domain=f"{slug}.{settings.BASE_DOMAIN}").exists()
        or schema_exists(schema)
    ):
        raise ArchiveError(
            _(
                "Le sous-domaine « %(slug)s » est déjà pris sur cette instance : "
                "choisissez-en un autre (--slug)."
            )
            % {"slug": slug}
        )
    targets, same_state = _migration_targets(manifest["migrations"])
    tenancy.template_tenant_ensure()
    written: list[tuple[Storage, str]] = []
    try:
        files = _files_restore(manifest, member, old_schema, schema, written)
        with transaction.atomic():
            result = _rows_restore(manifest, member, public, slug, schema, targets, same_state)
        result.files = files
    except BaseException:
        connection.set_schema_to_public()
        for storage, name in written:
            storage.delete(name)
        raise
    connection.set_schema_to_public()
    return result


def _files_restore(manifest, member, old_schema: str, schema: str, written: list) -> int:
    stores = _storages()
    count = 0
    for name in manifest["checksums"]:
        if not name.startswith("files/"):
            continue
        _files, kind, stored = name.split("/", 2)
        target = schema + stored[len(old_schema) :] if stored.startswith(old_schema + "/") else stored
        storage = stores[kind]
        if storage.exists(target):
            raise ArchiveError(_("Le fichier %(name)s existe déjà : import annulé.") % {"name": target})
        saved = storage.save(target, ContentFile(member(name)))
        written.append((storage, saved))
        if saved != target:
            raise ArchiveError(
                _("Le fichier %(name)s n'a pas pu garder son nom : import annulé.") % {"name": target}
            )
        count += 1
    return count


def _rows_restore(manifest, member, public, slug, schema, targets, same_state) -> ImportResult:
    data = public["collective"]
    old_schema = manifest["schema_name"]
    fields = {name: data[name] for name in _COLLECTIVE_FIELDS}
    fields["created_at"] = parse_datetime(fields["created_at"])
    if fields["logo"].startswith(old_schema + "/"):
        fields["logo"] = schema + fields["logo"][len(old_schema) :]
    if slug != manifest["slug"]:
        # A copy beside the original must not receive its Stripe webhooks: card payments are set up again.
        fields.update(stripe_account_id="", stripe_charges_enabled=False)
    collective = Collective(slug=slug, schema_name=schema, **fields)
    collective.full_clean(exclude=["logo"])
    with schema_context(get_public_schema_name()):
        if same_state:
            collective.save(verbosity=0)  # the template clone: the instance's own migrations
        else:
            collective.auto_create_schema = False
            collective.save()
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE SCHEMA {_q(schema)}")
            _migrate(schema, targets)
    result = ImportResult(collective=collective)
    users = _users_restore(public["users"], result)
    with connection.cursor() as cursor:
        tables = _tables(cursor, schema)
        archived = manifest["tables"]
        missing = sorted(set(archived) - set(tables))
        if missing:
            raise ArchiveError(
                _("Tables absentes de cette instance : %(names)s.") % {"names": ", ".join(missing)}
            )
        if tables:
            cursor.execute("TRUNCATE " + ", ".join(f"{_q(schema)}.{_q(table)}" for table in tables))
        # Django's foreign keys are deferrable: the rows go in table by table, accounts are renumbered after,
        # and every reference is checked at the end of this block.
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for table, spec in archived.items():
            column_list = ", ".join(_q(column) for column in spec["columns"])
            with cursor.copy(f"COPY {_q(schema)}.{_q(table)} ({column_list}) FROM STDIN") as copy:
                copy.write(member(f"tables/{table}.copy"))
            result.rows += spec["rows"]
        cursor.execute(
            "CREATE TEMPORARY TABLE etal_user_map (old integer PRIMARY KEY, new integer) ON COMMIT DROP"
        )
        cursor.executemany("INSERT INTO etal_user_map VALUES (%s, %s)", list(users.items()))
        for table, column in _user_columns():
            if table in archived and column in archived[table]["columns"]:
                cursor.execute(
                    f"UPDATE {_q(schema)}.{_q(table)} AS t SET {_q(column)} = m.new "  # noqa: S608
                    f"FROM etal_user_map AS m WHERE t.{_q(column)} = m.old"
                )
        cursor.execute("DROP TABLE etal_user_map")
        if schema != old_schema:
            for table, column in _file_columns():
                if table in archived and column in archived[table]["columns"]:
                    cursor.execute(
                        f"UPDATE {_q(schema)}.{_q(table)} SET {_q(column)} = %s || "  # noqa: S608
                        f"substr({_q(column)}, %s) WHERE {_q(column)} LIKE %s",
                        [schema, len(old_schema) + 1, old_schema.replace("_", r"\_") + "/%"],
                    )
        for table, columns in tables.items():
            if "id" in columns:
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [f"{_q(schema)}.{_q(table)}"])
                sequence = cursor.fetchone()[0]
                if sequence:
                    cursor.execute(
                        f"SELECT setval(%s, COALESCE((SELECT max(id) FROM {_q(schema)}.{_q(table)}), 0) + 1, "  # noqa: S608
                        "false)",
                        [sequence],
                    )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # a dangling reference fails here, not later
    if not same_state:
        _migrate(schema, None)
    connection.set_schema_to_public()
    domains = public["domains"] if slug == manifest["slug"] else []
    primary = f"{slug}.{settings.BASE_DOMAIN}"
    Domain.objects.create(domain=primary, tenant=collective, is_primary=True)
    for domain in domains:
        if domain["domain"] != primary and not Domain.objects.filter(domain=domain["domain"]).exists():
            Domain.objects.create(domain=domain["domain"], tenant=collective, is_primary=False)
    for row in public["memberships"]:
        Membership.objects.create(
            user_id=users[row["user"]],
            collective=collective,
            roles=row["roles"],
            status=row["status"],
            invited_by_id=users.get(row["invited_by"]),
            created_at=parse_datetime(row["created_at"]),
        )
    for row in public["invitations"]:
        if Invitation.objects.filter(token=row["token"]).exists():
            continue  # the original collective still holds this link
        Invitation.objects.create(
            collective=collective,
            email=row["email"],
            role=row["role"],
            token=row["token"],
            scope=row["scope"],
            scope_label=row["scope_label"],
            created_by_id=users.get(row["created_by"]),
            accepted_by_id=users.get(row["accepted_by"]),
            **{name: parse_datetime(row[name]) if row[name] else None for name in _INVITATION_DATES},
        )
    return result


_INVITATION_DATES = ["created_at", "expires_at", "accepted_at", "revoked_at"]


def _users_restore(rows: list[dict], result: ImportResult) -> dict[int, int]:
    """The archive's account ids → this instance's: an account with the same e-mail is kept as it is."""
    mapping = {}
    for row in rows:
        existing = User.objects.filter(email__iexact=row["email"]).first()
        if existing is not None:
            mapping[row["id"]] = existing.pk
            result.accounts_merged.append(existing.email)
            continue
        fields = {name: row[name] for name in _USER_FIELDS}
        for name in ["date_joined", "last_login", "erased_at", "email_undeliverable_at"]:
            fields[name] = parse_datetime(fields[name]) if fields[name] else None
        user = User.objects.create(**fields)
        for address in row["email_addresses"]:
            if not EmailAddress.objects.filter(email__iexact=address["email"]).exists():
                EmailAddress.objects.create(user=user, **address)
        mapping[row["id"]] = user.pk
        result.accounts_created += 1
    return mapping


def _migrate(schema: str, targets: list[tuple[str, str | None]] | None) -> None:
    """Migrate one schema to `targets` (None: the instance's latest), inside the caller's transaction."""
    connection.set_schema(schema)  # with public behind: tenant tables point at the accounts
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    connection.set_schema_to_public()


# Deletion with a grace period -------------------------------------------------------------------------------


def collective_delete(*, collective_id: int) -> Collective:
    """Close the collective's site (it answers like a suspended one) for COLLECTIVE_GRACE_DAYS, restorable
    by the operator; the nightly purge then archives and drops it."""
    Collective.objects.filter(pk=collective_id, deleted_at__isnull=True).update(deleted_at=timezone.now())
    return Collective.objects.get(pk=collective_id)


def collective_undelete(*, collective_id: int) -> Collective:
    Collective.objects.filter(pk=collective_id).update(deleted_at=None)
    return Collective.objects.get(pk=collective_id)


def purge_due_at(collective: Collective) -> datetime | None:
    if collective.deleted_at is None:
        return None
    return collective.deleted_at + timedelta(days=settings.COLLECTIVE_GRACE_DAYS)


def collectives_to_purge(*, now: datetime | None = None) -> Iterator[Collective]:
    limit = (now or timezone.now()) - timedelta(days=settings.COLLECTIVE_GRACE_DAYS)
    yield from Collective.objects.tenants().filter(deleted_at__lte=limit).order_by("pk")


def collectives_purge_due(*, now: datetime | None = None) -> list[str]:
    """The nightly job: purge every collective past its grace period; one that fails (storage down) is left
    for the next night, the others go on. Returns the archives written."""
    written = []
    for collective in list(collectives_to_purge(now=now)):
        try:
            written.append(collective_purge(collective_id=collective.pk))
        except Exception:
            logger.exception("Collective %s not purged: tried again next night", collective.schema_name)
    return written


def collective_purge(*, collective_id: int) -> str:
    """A last archive to private storage (`archives/<slug>-<date>.tar.gz`), then the schema, the public rows
    and the files go. Returns the archive's name in private storage."""
    collective = Collective.objects.get(pk=collective_id, deleted_at__isnull=False)
    storage = private_storage()
    with tempfile.TemporaryDirectory() as folder:
        local = Path(folder) / "archive.tar.gz"
        collective_export(slug=collective.slug, output=local)
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        with local.open("rb") as handle:
            name = storage.save(
                f"{settings.COLLECTIVE_ARCHIVES_FOLDER}/{collective.slug}-{stamp}.tar.gz", File(handle)
            )
    schema = collective.schema_name
    connection.set_schema_to_public()
    with transaction.atomic():
        FollowUp.objects.filter(schema_name=schema).delete()
        with connection.cursor() as cursor:  # no deferred check may wait on a table about to be dropped
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        collective.delete(force_drop=True)
    for store in _storages().values():
        for stored in _files_under(store, schema):
            store.delete(stored)
    logger.info("Collective %s purged after its grace period; archive %s", schema, name)
    return name
