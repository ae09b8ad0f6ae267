"""The PDF sheets of a sale, read back as text: names, quantities, totals, pages."""

import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from pypdf import PdfReader

from marketplace.models import Membership, Role, User
from orders.checkout import services as checkout_services
from orders.closing import jobs
from orders.models import PaymentMethod, Sheet, SheetBuild, SheetPart
from orders.sales import services as sale_services
from orders.sheets import services as sheet_services
from pickup_points.models import PickupSlot


def _text(sheet: Sheet) -> str:
    with sheet.file.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    assert len(reader.pages) == sheet.pages
    # Table cells wrap: compare words, whatever the line breaks.
    return " ".join("\n".join(page.extract_text() for page in reader.pages).replace("\xa0", " ").split())


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_ROOT = tmp_path / "private"
    return tmp_path / "media"


@pytest.fixture
def private_root(settings, media_root):
    return settings.PRIVATE_ROOT


@pytest.fixture
def two_orders(market, alpha):
    alpha.member.phone = "06 11 22 33 44"
    alpha.member.save()
    checkout_services.order_place(
        sale_id=market.sale.pk,
        user=alpha.member,
        quantities={market.tomatoes.pk: 4, market.beef.pk: 2},
        slot_id=market.slots[0].pk,
        payment_method=PaymentMethod.CASH,
    )
    other = User.objects.create_user(
        email="bernard@alpha.test", password="x", first_name="Bernard", last_name="Lafon"
    )
    Membership.objects.create(user=other, collective=alpha.collective, roles=[Role.MEMBER])
    checkout_services.order_place(
        sale_id=market.sale.pk,
        user=other,
        quantities={market.tomatoes.pk: 1, market.wine.pk: 2},
        slot_id=market.slots[1].pk,
        payment_method=PaymentMethod.FOOD_VOUCHER,
    )
    return market


def test_every_sheet_of_a_drive_sale(two_orders, media_root):
    made = sheet_services.sheets_render(sale_id=two_orders.sale.pk)
    kinds = sorted(sheet.kind for sheet in made)
    assert kinds == ["point", "producer", "summary"]  # a drive: no supplier purchase order
    by_kind = {sheet.kind: sheet for sheet in made}

    producer = _text(by_kind["producer"])
    assert "Bon de livraison : Ferme du Pech" in producer
    assert "Tomates" in producer and "5" in producer  # 4 + 1
    assert "Rôti de bœuf" in producer and "kg" in producer
    assert "Maud" in producer and "Bernard Lafon" in producer
    assert "Total TTC" in producer and "56,30 €" in producer  # 12.50 + 24.00 + 19.80

    point = _text(by_kind["point"])
    assert "Feuille d'émargement : Salle des fêtes" in point
    assert "06 11 22 33 44" in point and "Signature" in point
    assert "4 × Tomates" in point and "2 × Vin de Buzet" in point
    assert point.index("Maud") < point.index("Bernard Lafon")  # slot order

    summary = _text(by_kind["summary"])
    assert "2 commandes, 56,30 € TTC." in summary
    assert (
        "Ferme du Pech" in summary and "Espèces, sur place" in summary and "Chèques alimentaires" in summary
    )
    assert "20,0 % : 3,30 €" in summary  # the wine's VAT


def test_making_the_sheets_again_replaces_them(two_orders, media_root):
    first = {
        sheet.kind: sheet.file.name for sheet in sheet_services.sheets_render(sale_id=two_orders.sale.pk)
    }
    again = sheet_services.sheets_render(sale_id=two_orders.sale.pk)
    assert Sheet.objects.count() == 3
    assert {sheet.kind: sheet.file.name for sheet in again} != first


def test_a_buying_group_gets_a_purchase_order_per_supplier(two_orders, media_root, alpha):
    alpha.collective.kind = "buying_group"
    alpha.collective.save()
    made = sheet_services.sheets_render(sale_id=two_orders.sale.pk)
    purchase = next(sheet for sheet in made if sheet.kind == Sheet.Kind.PURCHASE_ORDER)
    text = _text(purchase)
    assert "Bon de commande fournisseur : Ferme du Pech" in text
    assert "Drive Alpha" in text and "Tomates" in text and "56,30 €" in text


def test_sheets_reach_only_whom_they_concern(two_orders, media_root, alpha, beta, browse):
    from pickup_points import services as point_services
    from producers import services as producer_services

    made = {sheet.kind: sheet for sheet in sheet_services.sheets_render(sale_id=two_orders.sale.pk)}
    farm = two_orders.tomatoes.producer
    producer_services.producer_account_link(producer=farm, user=alpha.producer)
    point_services.point_staff_add(collective=alpha.collective, point=two_orders.point, user=alpha.staff)
    url = {kind: f"/feuilles/{sheet.pk}/" for kind, sheet in made.items()}

    coordinator = browse(alpha, alpha.coordinator)
    listing = coordinator.get(f"/ventes/{two_orders.sale.pk}/feuilles/").content.decode()
    assert all(link in listing for link in url.values())
    response = coordinator.get(url["summary"])
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")

    producer = browse(alpha, alpha.producer)
    assert producer.get(url["producer"]).status_code == 200
    assert producer.get(url["point"]).status_code == 404 and producer.get(url["summary"]).status_code == 404
    staff = browse(alpha, alpha.staff)
    assert staff.get(url["point"]).status_code == 200
    assert staff.get(url["producer"]).status_code == 404
    assert browse(alpha, alpha.member).get(url["summary"]).status_code == 403
    assert browse(alpha, alpha.member).get(f"/ventes/{two_orders.sale.pk}/feuilles/").status_code == 403
    assert browse(beta, beta.coordinator).get(url["summary"]).status_code == 404
    # Never through the public media URL, even on its own collective's host.
    assert coordinator.get("/media/" + made["point"].file.name).status_code == 404
    # Only a coordinator makes them again.
    assert producer.post(f"/ventes/{two_orders.sale.pk}/feuilles/refaire/").status_code == 403
    assert coordinator.post(f"/ventes/{two_orders.sale.pk}/feuilles/refaire/").status_code == 302


def test_closing_a_sale_makes_its_sheets(two_orders, media_root, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from orders.models import Sale

    Sale.objects.filter(pk=two_orders.sale.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.sale_close(sale_id=two_orders.sale.pk)
    made = {sheet.kind: sheet for sheet in Sheet.objects.filter(sale=two_orders.sale)}
    assert set(made) == {"producer", "point", "summary"}
    assert "2 commandes, 56,30 € TTC." in _text(made["summary"])


def test_each_sheet_is_e_mailed_once_to_whom_it_concerns(
    two_orders, media_root, alpha, mailoutbox, django_capture_on_commit_callbacks
):
    from orders import tasks
    from pickup_points import services as point_services
    from producers import services as producer_services

    producer_services.producer_account_link(producer=two_orders.tomatoes.producer, user=alpha.producer)
    point_services.point_staff_add(collective=alpha.collective, point=two_orders.point, user=alpha.staff)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.sheets_make(schema_name=alpha.collective.schema_name, sale_id=two_orders.sale.pk)
    sent = {message.to[0]: message for message in mailoutbox}
    assert set(sent) == {alpha.producer.email, alpha.staff.email, alpha.coordinator.email}
    producer_mail = sent[alpha.producer.email]
    assert "Bon de livraison producteur" in producer_mail.subject and "Ferme du Pech" in producer_mail.subject
    ((name, content, mimetype),) = producer_mail.attachments
    assert mimetype == "application/pdf" and content.startswith(b"%PDF") and name == "ferme-du-pech.pdf"
    assert "http://alpha.localhost/feuilles/" in producer_mail.body
    assert producer_mail.alternatives[0][1] == "text/html"
    assert "Feuille d'émargement" in sent[alpha.staff.email].subject
    assert "Récapitulatif de la vente" in sent[alpha.coordinator.email].subject
    assert Sheet.objects.filter(emailed_at__isnull=True).count() == 0

    # A redelivered task (or a second worker) sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        for sheet in Sheet.objects.all():
            tasks.sheet_email_send(schema_name=alpha.collective.schema_name, sheet_id=sheet.pk)
    assert len(mailoutbox) == 3


def test_producers_and_staff_find_their_sheets_in_one_place(two_orders, media_root, alpha, browse):
    from pickup_points import services as point_services
    from producers import services as producer_services

    made = {sheet.kind: sheet for sheet in sheet_services.sheets_render(sale_id=two_orders.sale.pk)}
    producer_services.producer_account_link(producer=two_orders.tomatoes.producer, user=alpha.producer)
    point_services.point_staff_add(collective=alpha.collective, point=two_orders.point, user=alpha.staff)
    producer_page = browse(alpha, alpha.producer).get("/feuilles/").content.decode()
    assert "Mes feuilles" in producer_page and f"/feuilles/{made['producer'].pk}/" in producer_page
    assert (
        f"/feuilles/{made['point'].pk}/" not in producer_page
        and f"/feuilles/{made['summary'].pk}/" not in producer_page
    )
    # Producers also find the day page of each point of the distribution, to enter weights.
    day_page = f"/points/{two_orders.point.pk}/distributions/{two_orders.sale.distribution_id}/"
    assert "pesez vos produits au poids" in producer_page and day_page in producer_page
    staff_page = browse(alpha, alpha.staff).get("/feuilles/").content.decode()
    assert "pesez vos produits au poids" not in staff_page
    assert (
        f"/feuilles/{made['point'].pk}/" in staff_page
        and f"/feuilles/{made['producer'].pk}/" not in staff_page
    )
    assert browse(alpha, alpha.member).get("/feuilles/").status_code == 403


def _files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def test_sheets_are_private_files_outside_media_root(
    two_orders, media_root, private_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        made = sheet_services.sheets_render(sale_id=two_orders.sale.pk)
    with django_capture_on_commit_callbacks(execute=True):
        again = sheet_services.sheets_render(sale_id=two_orders.sale.pk)  # the same second: still other names
    assert _files(media_root) == []
    stored = _files(private_root)
    # The replaced files are gone.
    assert {path.relative_to(private_root).as_posix() for path in stored} == {s.file.name for s in again}
    assert not Path(private_root).resolve().is_relative_to(Path(media_root).resolve())
    for sheet in again:
        # <kind>-<22 random characters>-<title>-<time>.pdf: the title and the time alone find nothing.
        assert re.fullmatch(
            r"c_alpha/sheets/sale-\d+/[a-z_]+-[A-Za-z0-9_-]{22}-[a-z0-9-]+-\d{14}\.pdf", sheet.file.name
        )
    assert {s.file.name for s in made}.isdisjoint({s.file.name for s in again})
    assert b"06 11 22 33 44" not in b"".join(path.read_bytes() for path in _files(media_root))
    with pytest.raises(ValueError):
        again[0].file.url  # noqa: B018  (a private file has no public address)


def test_a_sheet_is_downloaded_only_by_whom_it_concerns(
    two_orders, media_root, alpha, beta, browse, outsider
):
    from pickup_points import services as point_services
    from producers import services as producer_services

    made = {sheet.kind: sheet for sheet in sheet_services.sheets_render(sale_id=two_orders.sale.pk)}
    producer_services.producer_account_link(producer=two_orders.tomatoes.producer, user=alpha.producer)
    point_services.point_staff_add(collective=alpha.collective, point=two_orders.point, user=alpha.staff)
    point = f"/feuilles/{made['point'].pk}/"
    with made["point"].file.open("rb") as handle:
        content = handle.read()
    for who in [alpha.coordinator, alpha.staff]:
        response = browse(alpha, who).get(point)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content) == content
    producer = browse(alpha, alpha.producer).get(f"/feuilles/{made['producer'].pk}/")
    assert producer.status_code == 200
    assert browse(alpha, alpha.producer).get(point).status_code == 404
    assert browse(alpha, alpha.member).get(point).status_code == 403
    assert browse(alpha, outsider).get(point).status_code == 403
    anonymous = browse(alpha).get(point)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert browse(beta, beta.coordinator).get(point).status_code == 404
    assert browse("localhost", alpha.coordinator).get(point).status_code == 404
    # Nor through /media/, by its name, on any host.
    for host in [alpha, beta, "localhost"]:
        assert browse(host, alpha.coordinator).get("/media/" + made["point"].file.name).status_code == 404


def test_private_files_move_takes_old_sheets_out_of_media(
    two_orders, media_root, private_root, alpha, browse
):
    """Sheets that an older version stored under MEDIA_ROOT, with guessable names, move to the private
    storage under new names; the download keeps working; a second run moves nothing."""
    made = {sheet.kind: sheet for sheet in sheet_services.sheets_render(sale_id=two_orders.sale.pk)}
    old_name = f"c_alpha/sheets/sale-{two_orders.sale.pk}/point-salle-des-fetes-20250101120000.pdf"
    content = (private_root / made["point"].file.name).read_bytes()
    (media_root / old_name).parent.mkdir(parents=True)
    (media_root / old_name).write_bytes(content)
    (private_root / made["point"].file.name).unlink()
    Sheet.objects.filter(pk=made["point"].pk).update(file=old_name)
    replaced = media_root / f"c_alpha/sheets/sale-{two_orders.sale.pk}/summary-vente-20241201120000.pdf"
    replaced.write_bytes(b"%PDF-1.4 an older summary")
    assert browse(alpha).get("/media/" + old_name).status_code == 404

    out = io.StringIO()
    call_command("private_files_move", stdout=out)
    assert "c_alpha: 2 file(s) moved" in out.getvalue()
    assert _files(media_root) == []
    moved = Sheet.objects.get(pk=made["point"].pk)
    assert moved.file.name != old_name and moved.file.name.endswith(
        "-point-salle-des-fetes-20250101120000.pdf"
    )
    assert (private_root / moved.file.name).read_bytes() == content
    assert any(path.read_bytes() == b"%PDF-1.4 an older summary" for path in _files(private_root))
    response = browse(alpha, alpha.coordinator).get(f"/feuilles/{moved.pk}/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == content

    again = io.StringIO()
    call_command("private_files_move", stdout=again)
    assert "Private files: 0 moved." in again.getvalue()
    assert Sheet.objects.get(pk=moved.pk).file.name == moved.file.name


def test_the_retention_job_deletes_sheet_files_that_no_sheet_points_to(two_orders, private_root, alpha):
    """A render killed between writing its file and swapping it in leaves a file behind: the nightly
    retention job deletes it once it is an hour old, and never a sheet's own file or a younger one."""
    import os
    import time

    from marketplace.storage import private_storage
    from marketplace.tasks import data_retention_tenant

    made = sheet_services.sheets_render(sale_id=two_orders.sale.pk)
    storage = private_storage()
    folder = f"{alpha.collective.schema_name}/sheets/sale-{two_orders.sale.pk}"
    old = storage.save(f"{folder}/point-killed-mid-way.pdf", io.BytesIO(b"%PDF-1.7 half"))
    young = storage.save(f"{folder}/summary-being-swapped.pdf", io.BytesIO(b"%PDF-1.7 whole"))
    two_hours_ago = time.time() - 7200
    os.utime(storage.path(old), (two_hours_ago, two_hours_ago))
    for sheet in made:
        os.utime(storage.path(sheet.file.name), (two_hours_ago, two_hours_ago))
    done = data_retention_tenant(schema_name=alpha.collective.schema_name)
    assert done["orphan_sheet_files"] == 1
    assert not storage.exists(old) and storage.exists(young)
    assert all(storage.exists(sheet.file.name) for sheet in made)


# Big sheets, made in parts ---------------------------------------------------------------------------------


@pytest.fixture
def two_points(market, alpha):
    """A sale at two pickup points with four slots each and two producers; one order in each slot (8), so
    that with one line per part every slot is a part of its point's sign-in sheet and the farm's delivery
    sheet has a part per point."""
    from datetime import time, timedelta

    from pickup_points import services as point_services
    from producers import services as producer_services
    from tests.orders.conftest import local_at

    bees = producer_services.producer_create(name="Les Ruchers", town="Nérac")
    producer_services.product_create(producer=bees, name="Miel", price=Decimal("8.00"), unit="piece")
    mairie = point_services.point_create(
        name="Mairie", address="2 rue Neuve", town="Agen", slot_minutes=30, slot_capacity=3
    )
    point_services.point_update(point=mairie, hours=[(day, time(17, 0), time(19, 0)) for day in range(7)])
    sale = sale_services.sale_create(
        title="Grande vente",
        opens_at=timezone.now() - timedelta(days=1),
        closes_at=timezone.now() + timedelta(days=2),
        distribution_starts_at=local_at(4, time(17, 0)),
        distribution_ends_at=local_at(4, time(19, 0)),
        points=[market.point, mairie],
        producers=[market.tomatoes.producer, bees],
        publish=True,
    )
    offers = {offer.product.name: offer for offer in sale.offers.select_related("product")}
    slots = list(
        PickupSlot.objects.filter(distribution=sale.distribution).order_by("point__name", "starts_at")
    )
    assert len(slots) == 8
    for index, slot in enumerate(slots):
        user = User.objects.create_user(
            email=f"membre{index}@alpha.test", password="x", first_name="Membre", last_name=f"N{index}"
        )
        Membership.objects.create(user=user, collective=alpha.collective, roles=[Role.MEMBER])
        quantities = {offers["Tomme"].pk: 1 + index % 2, offers["Miel"].pk: 1}
        if index % 3 == 0:
            quantities[offers["Rôti de bœuf"].pk] = 1
        checkout_services.order_place(
            sale_id=sale.pk,
            user=user,
            quantities=quantities,
            slot_id=slot.pk,
            payment_method=PaymentMethod.CASH,
        )
    return sale, slots


def _words(sheet: Sheet) -> str:
    """The sheet's text without its page numbers and the minute it was made (they differ by nature)."""
    return re.sub(r"page \d+ / \d+|Édité le [^·]*? à \d\d:\d\d", "", _text(sheet)).split()


def test_a_big_sale_made_in_parts_gives_the_same_files_as_made_whole(
    two_points, media_root, private_root, alpha, settings, mailoutbox, django_capture_on_commit_callbacks
):
    from orders import tasks
    from pickup_points import services as point_services

    sale, slots = two_points
    mairie = slots[0].point
    point_services.point_staff_add(collective=alpha.collective, point=mairie, user=alpha.staff)
    whole = {(s.kind, s.title): _words(s) for s in sheet_services.sheets_render(sale_id=sale.pk)}
    assert len(whole) == 5  # two producers, two points, the summary

    settings.SHEET_PART_LINES = 1  # every slot a part of its sign-in sheet, every point of the farm's sheet
    with django_capture_on_commit_callbacks(execute=True):
        tasks.sheets_make(schema_name=alpha.collective.schema_name, sale_id=sale.pk)
    made = {(s.kind, s.title): s for s in Sheet.objects.filter(sale=sale)}
    assert set(made) == set(whole)
    for subject, sheet in made.items():
        assert _words(sheet) == whole[subject], subject
    assert SheetBuild.objects.count() == 0 and SheetPart.objects.count() == 0
    assert not [path for path in _files(private_root) if "/parts/" in path.as_posix()]  # parts deleted

    # The merged sign-in sheet: every basket of every slot, in slot order, its pages numbered across parts.
    sheet = made[(Sheet.Kind.POINT, "Mairie")]
    with sheet.file.open("rb") as handle:
        pages = [page.extract_text() for page in PdfReader(io.BytesIO(handle.read())).pages]
    assert len(pages) == sheet.pages == 4  # one part per slot, one page each
    assert [page.split("\n")[-1].strip() for page in pages] == [f"page {n} / 4" for n in range(1, 5)]
    text = " ".join(" ".join(pages).split())
    assert text.count("Feuille d'émargement : Mairie") == 1
    positions = []
    for slot in slots[:4]:
        booking = slot.bookings.get()
        positions += [
            text.index(f"Créneau {timezone.localtime(slot.starts_at):%H:%M}"),
            text.index(booking.user.display_name),
        ]
    assert positions == sorted(positions)
    # Its staff get it once, the merged file attached.
    (message,) = [m for m in mailoutbox if alpha.staff.email in m.to]
    with sheet.file.open("rb") as handle:
        assert message.attachments[0][1] == handle.read()


def test_a_sheet_is_merged_once(
    two_points, media_root, alpha, settings, mailoutbox, django_capture_on_commit_callbacks
):
    """A merge or a part delivered again (a worker died after doing it, before recording it) does nothing."""
    from marketplace.models import FollowUp
    from orders import tasks

    sale, _slots = two_points
    settings.SHEET_PART_LINES = 1
    schema = alpha.collective.schema_name
    with django_capture_on_commit_callbacks(execute=True):
        tasks.sheets_make(schema_name=schema, sale_id=sale.pk)
    sent = len(mailoutbox)
    merges = FollowUp.objects.filter(task="orders.tasks.sheet_merge")
    parts = FollowUp.objects.filter(task="orders.tasks.sheet_part_make")
    assert merges.count() == 4 and parts.count() == 4 + 4 + 2 + 2  # 2 sign-in sheets, 2 delivery sheets
    files = {sheet.pk: sheet.file.name for sheet in Sheet.objects.all()}
    with django_capture_on_commit_callbacks(execute=True):
        for followup in [*merges, *parts]:
            assert getattr(tasks, followup.task.rsplit(".", 1)[1])(**followup.kwargs) is False
    assert {sheet.pk: sheet.file.name for sheet in Sheet.objects.all()} == files
    assert len(mailoutbox) == sent
    assert FollowUp.objects.filter(task="orders.tasks.sheet_merge").count() == 4
