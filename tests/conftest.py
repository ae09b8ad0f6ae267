"""Test tenants and personas, created once per session on the real PostgreSQL.

Two collectives exist for every test: `alpha` (a drive fermier, open to all) and `beta` (a buying group,
by invitation, with co-optation), each with a coordinator, a producer, a pickup-point staff member and a
member, plus accounts that belong to no collective. Tests reach a collective through its sub-domain.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.test import Client, TransactionTestCase

from marketplace import schemas, services, tenancy
from marketplace.models import Collective, Membership, Role, User

PASSWORD = "un-mot-de-passe-solide"


_SESSION_STARTED = time.time()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Where the browser journeys left their screenshots (counted on disk: under pytest -n the worker
    processes take them)."""
    if hasattr(config, "workerinput"):
        return
    from tests.browser.conftest import artifacts_dir

    shots = sum(1 for path in artifacts_dir().rglob("*.png") if path.stat().st_mtime >= _SESSION_STARTED)
    if shots:
        terminalreporter.write_sep("-", "browser journeys")
        terminalreporter.write_line(f"Captures d'écran des parcours : {artifacts_dir()} ({shots} images)")


def pytest_configure(config):
    """ETAL_TODAY=2027-03-28T01:30 runs the whole session on that day and hour (Paris time), the clock
    ticking from there: `make test-dates` runs the date-sensitive tests over a week and both summer-time
    changes this way. Only this process travels (a Celery worker started as its own process does not)."""
    today = os.environ.get("ETAL_TODAY")
    if today:
        import time_machine

        moment = datetime.fromisoformat(today)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo("Europe/Paris"))
        config._etal_travel = time_machine.travel(moment, tick=True)
        config._etal_travel.start()


@dataclass(frozen=True)
class Cast:
    collective: Collective
    coordinator: User
    producer: User
    staff: User
    member: User

    @property
    def host(self) -> str:
        return f"{self.collective.slug}.{settings.BASE_DOMAIN}"


def _user(email: str, first_name: str, last_name: str) -> User:
    return User.objects.create_user(
        email=email, password=PASSWORD, first_name=first_name, last_name=last_name
    )


def _cast(slug: str, **collective_fields) -> dict:
    coordinator = _user(f"coord@{slug}.test", "Colette", f"Coord-{slug}")
    collective = services.collective_create(owner=coordinator, slug=slug, **collective_fields)
    people = {"collective": collective, "coordinator": coordinator}
    for key, role, first_name in [
        ("producer", Role.PRODUCER, "Pierre"),
        ("staff", Role.POINT_STAFF, "Sami"),
        ("member", Role.MEMBER, "Maud"),
    ]:
        person = _user(f"{key}@{slug}.test", first_name, f"{key.title()}-{slug}")
        Membership.objects.create(user=person, collective=collective, roles=[role])
        people[key] = person
    return people


def _world_ensure() -> None:
    """Create the test world unless it exists. After a transactional test the world's rows are put back
    (_world_restore); when that could not be done, the tenant schemas were dropped and the public tables
    flushed, and the world is built again here."""
    if (
        Collective.objects.filter(slug="beta").exists()
        and User.objects.filter(email="outsider@nowhere.test").exists()
    ):
        return
    _WORLD.clear()
    _drop_tenant_schemas()
    tenancy.public_tenant_ensure()
    _template_rebuild()
    tenancy.template_tenant_ensure()
    _template_remember()
    _cast(
        "alpha",
        name="Drive Alpha",
        kind=Collective.Kind.DRIVE,
        town="Agen",
        department="47",
        description="Un drive de test.",
        join_mode=Collective.JoinMode.OPEN,
    )
    _cast(
        "beta",
        name="Groupement Beta",
        kind=Collective.Kind.BUYING_GROUP,
        town="Lille",
        department="59",
        description="Un groupement d'achat de test.",
        join_mode=Collective.JoinMode.INVITATION,
        allow_cooptation=True,
    )
    _user("outsider@nowhere.test", "Octave", "Dehors")
    if not connection.in_atomic_block:  # built for good (not inside a test's transaction, rolled back)
        _world_snapshot()


# The world as built, committed: the rows of every table (as COPY text) but django_migrations, in public and
# in the tenant schemas (the template, alpha's, beta's), and the values of the tenant schemas' sequences.
_WORLD: dict = {}


def _tenant_schemas(cursor) -> list[str]:
    cursor.execute(
        "SELECT schema_name FROM information_schema.schemata"
        " WHERE schema_name LIKE %s OR schema_name = %s ORDER BY schema_name",
        [r"c\_%", settings.TENANT_BASE_SCHEMA],
    )
    return [schema for (schema,) in cursor.fetchall()]


def _world_tables(cursor, schemas: list[str]) -> list[str]:
    cursor.execute(
        "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind = 'r' AND n.nspname = ANY(%s) AND c.relname <> 'django_migrations' ORDER BY 1",
        [["public", *schemas]],
    )
    return [table for (table,) in cursor.fetchall()]


def _world_snapshot() -> None:
    with connection.cursor() as cursor:
        schemas = _tenant_schemas(cursor)
        tables = _world_tables(cursor, schemas)
        rows = {}
        for table in tables:
            with cursor.copy(f"COPY {table} TO STDOUT") as copy:
                rows[table] = b"".join(bytes(block) for block in copy)
        cursor.execute(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename),"
            " coalesce(last_value, start_value), last_value IS NOT NULL"
            " FROM pg_sequences WHERE schemaname = ANY(%s)",
            [schemas],
        )
        sequences = [list(column) for column in zip(*cursor.fetchall(), strict=True)] or [[], [], []]
    _WORLD.update(schemas=schemas, tables=tables, rows=rows, sequences=sequences)


def _world_restore() -> bool:
    """Put the world back as it was built, after a transactional test: the schemas the test made go, every
    table (but django_migrations) gets the world's rows again, the tenant schemas' sequences their values
    (the public ones go on, as after a flush). Milliseconds, where dropping the schemas, flushing and
    building the world again takes a second, several on a busy machine. False (nothing done) when the
    test changed the world's structure: then the slow way is taken."""
    if not _WORLD:
        return False
    with connection.cursor() as cursor:
        schemas = _tenant_schemas(cursor)
        if not set(_WORLD["schemas"]) <= set(schemas):
            return False
        for schema in sorted(set(schemas) - set(_WORLD["schemas"])):
            cursor.execute(f'DROP SCHEMA "{schema}" CASCADE')
        if _world_tables(cursor, _WORLD["schemas"]) != _WORLD["tables"]:
            return False
        # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: checked at the commit, once all is back.
        with transaction.atomic():
            cursor.execute(";\n".join(f"DELETE FROM {table}" for table in _WORLD["tables"]))
            for table, data in _WORLD["rows"].items():
                if data:
                    with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                        copy.write(data)
            cursor.execute(
                "SELECT count(setval(s.name::regclass, s.value, s.called))"
                " FROM unnest(%s::text[], %s::bigint[], %s::bool[]) AS s(name, value, called)",
                _WORLD["sequences"],
            )
    return True


_django_fixture_teardown = TransactionTestCase._fixture_teardown


def _fixture_teardown(self) -> None:
    """After a transactional test pytest-django flushes the database (Django's TransactionTestCase): the
    world's rows are put back instead. If they cannot be, the tenant schemas go (their tables point at the
    accounts: PostgreSQL refuses to TRUNCATE those while such references exist), the flush runs and the
    next test builds the world again."""
    connection.set_schema_to_public()
    if _world_restore():
        return
    _WORLD.clear()
    _drop_tenant_schemas()
    _django_fixture_teardown(self)


TransactionTestCase._fixture_teardown = _fixture_teardown


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from django.core.cache import cache

    cache.clear()
    with django_db_blocker.unblock():
        _world_ensure()


# The template schema's SQL: the template is rebuilt from it in milliseconds instead of migrated the slow
# way (about 11 s of CPU in each test process), when the world is built again and at the start of a session.
# It is kept between sessions in .local/test-cache/, in a file named after everything it derives from (see
# _template_cache_file): a new or edited migration, another Django or PostgreSQL, makes another file, and
# the first session after the change migrates the template once more. Every session still migrates a schema
# the slow way and compares it with the template (tests/marketplace/test_tenancy.py).
_TEMPLATE_SQL: list[str] = []
TEMPLATE_CACHE = Path(settings.BASE_DIR) / ".local" / "test-cache"


def _template_cache_file() -> Path:
    digest = hashlib.sha256()
    for app in sorted(apps.get_app_configs(), key=lambda app: app.name):
        for migration in sorted(Path(app.path, "migrations").glob("*.py")):
            digest.update(f"{app.name}/{migration.name}".encode() + migration.read_bytes())
    digest.update(Path(schemas.__file__).read_bytes())
    digest.update(f"{connection.pg_version} {settings.TENANT_BASE_SCHEMA}".encode())
    return TEMPLATE_CACHE / f"template-{digest.hexdigest()[:20]}.json"


def _template_rebuild() -> None:
    if not _TEMPLATE_SQL:
        cached = _template_cache_file()
        if cached.exists():
            _TEMPLATE_SQL[:] = json.loads(cached.read_text())
    if _TEMPLATE_SQL:
        with connection.cursor() as cursor:
            cursor.execute(";\n".join(_TEMPLATE_SQL))


def _template_remember() -> None:
    """Read the template's SQL (once per session) and keep it for the next sessions."""
    if _TEMPLATE_SQL:
        return
    _TEMPLATE_SQL[:] = schemas.schema_clone_statements(
        source=settings.TENANT_BASE_SCHEMA, target=settings.TENANT_BASE_SCHEMA
    )
    cached = _template_cache_file()
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_name(f"{cached.name}.{os.getpid()}")  # two test processes may write it at once
    partial.write_text(json.dumps(_TEMPLATE_SQL))
    partial.replace(cached)


def _drop_tenant_schemas() -> None:
    """Tenant tables point at the accounts (public schema): PostgreSQL refuses to TRUNCATE those while
    such references exist, so the schemas go before a flush and are rebuilt afterwards."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT schema_name FROM information_schema.schemata"
            " WHERE schema_name LIKE %s OR schema_name = %s",
            [r"c\_%", settings.TENANT_BASE_SCHEMA],
        )
        for (schema,) in cursor.fetchall():
            cursor.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(autouse=True)
def _world(request, django_db_blocker):
    """Make sure the world is there before each database test. pytest-django runs transactional tests
    after all the others; after each of them the world is put back (see _fixture_teardown)."""
    if request.node.get_closest_marker("django_db") is None and not {"db", "transactional_db"} & set(
        request.fixturenames
    ):
        yield
        return
    request.getfixturevalue("django_db_setup")
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        _world_ensure()
    yield


def _load_cast(slug: str) -> Cast:
    collective = Collective.objects.get(slug=slug)
    return Cast(
        collective=collective,
        **{key: User.objects.get(email=f"{key}@{slug}.test") for key in ["producer", "staff", "member"]},
        coordinator=User.objects.get(email=f"coord@{slug}.test"),
    )


@pytest.fixture
def alpha(db) -> Cast:
    return _load_cast("alpha")


@pytest.fixture
def beta(db) -> Cast:
    return _load_cast("beta")


@pytest.fixture
def outsider(db) -> User:
    return User.objects.get(email="outsider@nowhere.test")


@pytest.fixture
def real_worker(settings):
    """A real Celery worker in a thread, fed through the real Redis broker (tasks are no longer eager)."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, shutdown_timeout=10, queues=["celery", "sheets"]
        ):
            yield
    finally:
        app.conf.task_always_eager = True


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: the beat's per-minute tick keys and allauth's rate limits of
    one test never reach the next."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _public_schema_after_test():
    yield
    connection.set_schema_to_public()


class HostClient(Client):
    """A browser on one host (the public site or a collective's sub-domain)."""

    def __init__(self, host: str, user: User | None = None):
        super().__init__(HTTP_HOST=host)
        if user is not None:
            self.force_login(user)


@pytest.fixture
def browse(db):
    """browse(cast_or_host, user=None) → a client on that host, signed in as `user` if given."""

    def make(where: Cast | str, user: User | None = None) -> HostClient:
        host = where.host if isinstance(where, Cast) else where
        return HostClient(host, user)

    return make


@pytest.fixture
def public_host() -> str:
    return settings.BASE_DOMAIN


def text(response) -> str:
    """The page as a user reads it: HTML entities decoded."""
    import html

    return html.unescape(response.content.decode())


def words(response) -> str:
    """The page's visible text, tags dropped and spaces collapsed: what a person reads on the screen."""
    import re

    body = re.sub(r"<(script|style)\b.*?</\1>", " ", text(response), flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())
