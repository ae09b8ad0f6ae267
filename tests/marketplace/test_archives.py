"""One collective's data, out and back: export, drop, import (same or new sub-domain), the grace period."""

from __future__ import annotations

import io
import json
import tarfile
from datetime import datetime, time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from marketplace import archives, selectors, services
from marketplace.models import Collective, Domain, Membership, Role, User
from marketplace.storage import private_storage
from marketplace.tasks import collectives_purge
from orders.checkout import services as checkout_services
from orders.models import Order, Payment, PaymentMethod, Sheet
from orders.payments import services as payment_services
from orders.sheets import services as sheet_services
from pickup_points import services as point_services
from producers import services as producer_services
from producers.models import Product, Unit
from tests.conftest import PASSWORD, text
from tests.orders.conftest import make_sale

PHOTO = b"\xff\xd8\xff\xe0 une photo de tomates"


@pytest.fixture
def roots(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_ROOT = tmp_path / "private"
    return tmp_path


@pytest.fixture
def gamma(roots, alpha):
    """A small drive like the demo's: a coordinator of its own, alpha's member too, two orders, a payment,
    the sale's sheets, a product photo."""
    coordinator = User.objects.create_user(
        email="coord@gamma.test", password=PASSWORD, first_name="Gaëlle", last_name="Gamma"
    )
    collective = services.collective_create(
        owner=coordinator, slug="gamma", name="Drive Gamma", kind=Collective.Kind.DRIVE, town="Nérac"
    )
    Membership.objects.create(user=alpha.member, collective=collective, roles=[Role.MEMBER])
    connection.set_tenant(collective)
    payment_services.shop_settings_update(payment_methods=[PaymentMethod.CASH])
    farm = producer_services.producer_create(name="Ferme de Gamma", town="Nérac")
    tomatoes = producer_services.product_create(
        producer=farm, name="Tomates", price=Decimal("2.50"), unit=Unit.KG, stock=10
    )
    tomatoes.photo.save("tomates.jpg", ContentFile(PHOTO))
    point = point_services.point_create(
        name="Halle", address="1 place", town="Nérac", slot_minutes=30, slot_capacity=3
    )
    point_services.point_update(point=point, hours=[(day, time(17, 0), time(19, 0)) for day in range(7)])
    sale = make_sale(point, [farm])
    offer = sale.offers.get()
    slot = sale.distribution.slots.order_by("starts_at").first()
    orders = [
        checkout_services.order_place(
            sale_id=sale.pk,
            user=user,
            quantities={offer.pk: 2},
            slot_id=slot.pk,
            payment_method=PaymentMethod.CASH,
        )
        for user in [coordinator, alpha.member]
    ]
    payment_services.onsite_payment_record(
        order_id=orders[0].pk, method=PaymentMethod.CASH, amount=Decimal("5.00"), note="", by=coordinator
    )
    sheet_services.sheets_render(sale_id=sale.pk)
    connection.set_schema_to_public()
    return collective


def _contents(slug: str) -> dict:
    """What a member or coordinator would find again: orders, payments, sheets with their bytes, photos."""
    collective = Collective.objects.get(slug=slug)
    with schema_context(collective.schema_name):
        sheets = {}
        for sheet in Sheet.objects.order_by("kind", "pk"):
            with sheet.file.open("rb") as handle:
                sheets[(sheet.kind, sheet.file.name.split("/", 1)[1])] = handle.read()
        product = Product.objects.get(name="Tomates")
        with product.photo.open("rb") as handle:
            photo = handle.read()
        return {
            "orders": sorted(
                (order.pk, order.user.email, order.status, order.lines.count())
                for order in Order.objects.select_related("user")
            ),
            "payments": sorted((str(payment.amount), payment.method) for payment in Payment.objects.all()),
            "sheets": sheets,
            "photo": photo,
            "photo_name": product.photo.name.split("/", 1)[1],
            "members": sorted(
                (membership.user.email, tuple(membership.roles))
                for membership in Membership.objects.filter(collective=collective).select_related("user")
            ),
        }


def _alpha_state(alpha) -> tuple:
    with schema_context(alpha.collective.schema_name):
        return (
            Order.objects.count(),
            Payment.objects.count(),
            Membership.objects.filter(collective=alpha.collective).count(),
        )


def _drop(slug: str) -> None:
    collective = Collective.objects.get(slug=slug)
    schema = collective.schema_name
    with connection.cursor() as cursor:  # the test's own transaction holds deferred checks of its rows
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    collective.delete(force_drop=True)
    for storage in [storages["default"], private_storage()]:
        for name in archives._files_under(storage, schema):
            storage.delete(name)
    assert not schema_exists(schema)


def test_export_drop_and_restore_finds_everything_again(gamma, alpha, tmp_path, browse):
    before = _contents("gamma")
    assert len(before["orders"]) == 2 and before["payments"] == [("5.00", PaymentMethod.CASH)]
    assert before["sheets"] and before["photo"] == PHOTO
    alpha_before = _alpha_state(alpha)
    path = tmp_path / "gamma.tar.gz"
    out = io.StringIO()
    call_command("collective_export", "gamma", "--output", str(path), stdout=out)
    assert "Archive" in out.getvalue() and path.exists()
    with tarfile.open(path) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))
    assert manifest["slug"] == "gamma" and manifest["format_version"] == archives.FORMAT_VERSION
    assert "orders" in manifest["migrations"] and manifest["postgresql_version"]
    assert manifest["counts"]["files"] == len(before["sheets"]) + 1

    _drop("gamma")
    User.objects.filter(email="coord@gamma.test").delete()  # an account that existed only for gamma
    out = io.StringIO()
    call_command("collective_import", str(path), stdout=out)
    assert "restauré" in out.getvalue()
    # alpha's member already had an account here: it is kept, with its own password, and told so.
    assert alpha.member.email in out.getvalue() and "gardent leur mot de passe" in out.getvalue()
    assert _contents("gamma") == before
    recreated = User.objects.get(email="coord@gamma.test")
    assert recreated.check_password(PASSWORD) and not recreated.is_staff
    assert _alpha_state(alpha) == alpha_before

    # The restored site works: the coordinator signs in and sees the orders of the sale.
    client = browse("gamma.localhost", recreated)
    assert client.get("/").status_code == 200

    # Once more beside the original, under a new sub-domain: the same data, its own files.
    call_command("collective_import", str(path), "--slug", "gamma-bis", stdout=io.StringIO())
    copy = Collective.objects.get(slug="gamma-bis")
    assert (
        copy.schema_name == "c_gamma_bis" and Domain.objects.get(tenant=copy).domain == "gamma-bis.localhost"
    )
    assert _contents("gamma-bis") == before
    with schema_context(copy.schema_name):
        assert all(sheet.file.name.startswith("c_gamma_bis/") for sheet in Sheet.objects.all())
    assert _contents("gamma") == before
    assert _alpha_state(alpha) == alpha_before


def test_an_archive_is_refused_when_the_address_is_taken_newer_or_corrupt(gamma, tmp_path):
    path = tmp_path / "gamma.tar.gz"
    call_command("collective_export", "gamma", "--output", str(path), stdout=io.StringIO())
    collectives, users = Collective.objects.count(), User.objects.count()
    with pytest.raises(CommandError, match="déjà pris"):
        call_command("collective_import", str(path))
    for slug in ("www", "Mon Collectif"):  # reserved, or not a sub-domain: refused as creation refuses them
        with pytest.raises(CommandError, match="ne peut pas être un sous-domaine"):
            call_command("collective_import", str(path), "--slug", slug)

    def rewritten(name: str, change) -> Path:
        with tarfile.open(path) as archive:
            members = {member.name: archive.extractfile(member).read() for member in archive}
        change(members)
        target = tmp_path / name
        with tarfile.open(target, "w:gz") as archive:
            for member_name, data in members.items():
                info = tarfile.TarInfo(member_name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
        return target

    def newer(members):
        manifest = json.loads(members["manifest.json"])
        manifest["migrations"]["orders"].append("9999_from_the_future")
        members["manifest.json"] = json.dumps(manifest).encode()

    def tampered(members):
        name = next(name for name in members if name.startswith("tables/orders_order"))
        members[name] = members[name].replace(b"placed", b"cancelled")

    with pytest.raises(CommandError, match="plus récente"):
        call_command("collective_import", str(rewritten("newer.tar.gz", newer)), "--slug", "gamma-new")
    with pytest.raises(CommandError, match="altérée"):
        call_command("collective_import", str(rewritten("bad.tar.gz", tampered)), "--slug", "gamma-bad")
    (tmp_path / "cut.tar.gz").write_bytes(path.read_bytes()[:2000])
    with pytest.raises(CommandError, match="altérée"):
        call_command("collective_import", str(tmp_path / "cut.tar.gz"), "--slug", "gamma-cut")
    assert (Collective.objects.count(), User.objects.count()) == (collectives, users)
    assert not any(schema_exists(name) for name in ["c_gamma_new", "c_gamma_bad", "c_gamma_cut"])


def test_a_failed_import_leaves_nothing_behind(gamma, tmp_path, monkeypatch):
    path = tmp_path / "gamma.tar.gz"
    call_command("collective_export", "gamma", "--output", str(path), stdout=io.StringIO())
    collectives, users = Collective.objects.count(), User.objects.count()

    def broken(*args, **kwargs):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(archives, "_users_restore", broken)
    with pytest.raises(RuntimeError):
        call_command("collective_import", str(path), "--slug", "gamma-ter")
    connection.set_schema_to_public()
    assert (Collective.objects.count(), User.objects.count()) == (collectives, users)
    assert not schema_exists("c_gamma_ter")
    assert archives._files_under(storages["default"], "c_gamma_ter") == []
    assert archives._files_under(private_storage(), "c_gamma_ter") == []


PARIS = ZoneInfo("Europe/Paris")


def test_a_deleted_collective_waits_30_days_then_is_archived_and_dropped(gamma, alpha, browse, roots):
    with time_machine.travel(datetime(2027, 5, 3, 10, 0, tzinfo=PARIS), tick=False):
        call_command("collective_delete", "gamma", stdout=io.StringIO())
    page = browse("gamma.localhost", None).get("/")
    assert page.status_code == 503 and "a fermé son site" in text(page)
    assert "gamma" not in [c.slug for c in Collective.objects.active_tenants()]
    assert "gamma" not in [c.slug for c in selectors.collectives_listed()]

    with time_machine.travel(datetime(2027, 6, 1, 4, 0, tzinfo=PARIS), tick=False):  # day 29: kept
        assert archives_purged() == []
    # Restored by the operator during the grace, deleted again the same day.
    call_command("collective_delete", "gamma", "--cancel", stdout=io.StringIO())
    assert browse("gamma.localhost", None).get("/").status_code == 200
    with time_machine.travel(datetime(2027, 5, 3, 10, 0, tzinfo=PARIS), tick=False):
        archives.collective_delete(collective_id=Collective.objects.get(slug="gamma").pk)

    with time_machine.travel(datetime(2027, 6, 3, 4, 0, tzinfo=PARIS), tick=False):  # day 31: purged
        names = archives_purged()
    assert len(names) == 1 and names[0].startswith("archives/gamma-20270603")
    assert not Collective.objects.filter(slug="gamma").exists() and not schema_exists("c_gamma")
    assert archives._files_under(storages["default"], "c_gamma") == []
    assert alpha.member.memberships.filter(collective=alpha.collective).exists()
    # The last archive restores it.
    local = roots / "last.tar.gz"
    with private_storage().open(names[0], "rb") as handle:
        local.write_bytes(handle.read())
    call_command("collective_import", str(local), stdout=io.StringIO())
    assert Collective.objects.get(slug="gamma").deleted_at is None
    assert len(_contents("gamma")["orders"]) == 2


def archives_purged() -> list[str]:
    return collectives_purge()


def test_an_archive_of_an_older_version_is_rebuilt_then_migrated(gamma, tmp_path):
    """An archive made before the instance's last migration of an app: the schema is built at the archive's
    migrations, its rows go in, then the instance's later migrations run."""
    path = tmp_path / "gamma.tar.gz"
    call_command("collective_export", "gamma", "--output", str(path), stdout=io.StringIO())
    before = _contents("gamma")
    with tarfile.open(path) as archive:
        members = {member.name: archive.extractfile(member).read() for member in archive}
    manifest = json.loads(members["manifest.json"])
    latest = manifest["migrations"]["marketplace"].pop()
    members["manifest.json"] = json.dumps(manifest).encode()
    older = tmp_path / "older.tar.gz"
    with tarfile.open(older, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    call_command("collective_import", str(older), "--slug", "gamma-old", stdout=io.StringIO())
    assert _contents("gamma-old") == before
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM c_gamma_old.django_migrations WHERE app = 'marketplace'")
        assert latest in {row[0] for row in cursor.fetchall()}
