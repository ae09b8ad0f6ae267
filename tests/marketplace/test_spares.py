"""A new collective takes a spare clone of the template (marketplace.spares), made ahead of time, instead of
cloning as it is created; a spare behind the template's migrations is never taken, and is replaced."""

import threading
from unittest import mock

import pytest
from django.db import connection
from django.test import Client, override_settings

from marketplace import schemas, services, spares
from marketplace.models import User
from tests.marketplace.test_tenancy import _describe


def _spares() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(r"SELECT nspname FROM pg_namespace WHERE nspname LIKE 'spare\_%' ORDER BY 1")
        return [name for (name,) in cursor.fetchall()]


def _create(slug: str, email: str):
    owner = User.objects.create_user(email=email, password="x")
    return services.collective_create(owner=owner, name=f"Collectif {slug}", slug=slug, kind="drive")


@override_settings(TENANT_SPARE_SCHEMAS=1)
def test_a_new_collective_takes_the_spare_and_is_live_at_once(
    db, settings, django_capture_on_commit_callbacks
):
    assert spares.spares_fill() == {"dropped": 0, "made": 1, "ready": 1}
    (spare,) = _spares()
    with (
        mock.patch.object(schemas, "schema_clone", wraps=schemas.schema_clone) as clone,
        django_capture_on_commit_callbacks(execute=True),
    ):
        collective = _create("pris-au-vol", "owner@spare.test")
        assert clone.call_count == 0  # the spare was renamed, nothing cloned while creating
    assert _describe(collective.schema_name) == _describe(settings.TENANT_BASE_SCHEMA)
    home = Client(HTTP_HOST=f"pris-au-vol.{settings.BASE_DOMAIN}").get("/")
    assert home.status_code == 200 and "Collectif pris-au-vol" in home.content.decode()
    # After the commit, the follow-up made a new spare in its place.
    assert spare not in _spares() and len(_spares()) == 1


@override_settings(TENANT_SPARE_SCHEMAS=1)
def test_a_spare_behind_the_templates_migrations_is_left_and_replaced(db, settings):
    spares.spares_fill()
    (stale,) = _spares()
    with connection.cursor() as cursor:  # as if the template was migrated after the spare was made
        cursor.execute(
            f'DELETE FROM "{stale}".django_migrations'
            f' WHERE id = (SELECT max(id) FROM "{stale}".django_migrations)'
        )
    with mock.patch.object(schemas, "schema_clone", wraps=schemas.schema_clone) as clone:
        collective = _create("pas-de-vieux", "owner@stale.test")
        assert clone.call_count == 1  # cloned from the template: the stale spare is not taken
    assert _describe(collective.schema_name) == _describe(settings.TENANT_BASE_SCHEMA)
    assert _spares() == [stale]
    assert spares.spares_fill() == {"dropped": 1, "made": 1, "ready": 1}
    assert stale not in _spares() and len(_spares()) == 1


@override_settings(TENANT_SPARE_SCHEMAS=1)
def test_a_spare_taken_since_the_list_was_read_is_passed_over(db, settings):
    """The list of spares is read before any is claimed: one renamed meanwhile by another creation is
    skipped (its tables are not read), and the template is cloned."""
    spares.spares_fill()
    (spare,) = _spares()
    _create("premier", "first@stale-list.test")  # takes it
    with mock.patch.object(spares, "_spare_names", return_value=[spare]):  # the list as read before
        second = _create("second", "second@stale-list.test")
    assert _describe(second.schema_name) == _describe(settings.TENANT_BASE_SCHEMA)


@pytest.mark.django_db(transaction=True)
def test_two_collectives_created_at_once_never_take_the_same_spare(settings):
    try:
        spares.spares_fill(wanted=1)
        owners = [User.objects.create_user(email=f"owner{i}@race.test", password="x") for i in range(2)]
        start = threading.Barrier(2)
        made, failed = [], []

        def create(i):
            try:
                start.wait()
                made.append(
                    services.collective_create(
                        owner=owners[i], name=f"Course {i}", slug=f"course-{i}", kind="drive"
                    )
                )
            except Exception as error:  # noqa: BLE001 - reported below
                failed.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=create, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failed == [] and len(made) == 2
        assert _spares() == []  # one of them took it, the other cloned
        template = _describe(settings.TENANT_BASE_SCHEMA)
        assert all(_describe(collective.schema_name) == template for collective in made)
    finally:
        with connection.cursor() as cursor:
            for name in _spares():
                cursor.execute(f'DROP SCHEMA "{name}" CASCADE')
