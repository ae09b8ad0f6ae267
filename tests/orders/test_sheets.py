"""The PDF sheets of a sale, read back as text: names, quantities, totals, pages."""

import io

import pytest
from pypdf import PdfReader

from marketplace.models import Membership, Role, User
from orders import services, sheets
from orders.models import PaymentMethod, Sheet


def _text(sheet: Sheet) -> str:
    with sheet.file.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    assert len(reader.pages) == sheet.pages
    # Table cells wrap: compare words, whatever the line breaks.
    return " ".join("\n".join(page.extract_text() for page in reader.pages).replace("\xa0", " ").split())


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def two_orders(market, alpha):
    alpha.member.phone = "06 11 22 33 44"
    alpha.member.save()
    services.order_place(
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
    services.order_place(
        sale_id=market.sale.pk,
        user=other,
        quantities={market.tomatoes.pk: 1, market.wine.pk: 2},
        slot_id=market.slots[1].pk,
        payment_method=PaymentMethod.FOOD_VOUCHER,
    )
    return market


def test_every_sheet_of_a_drive_sale(two_orders, media_root):
    made = sheets.sheets_render(sale_id=two_orders.sale.pk)
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
    first = {sheet.kind: sheet.file.name for sheet in sheets.sheets_render(sale_id=two_orders.sale.pk)}
    again = sheets.sheets_render(sale_id=two_orders.sale.pk)
    assert Sheet.objects.count() == 3
    assert {sheet.kind: sheet.file.name for sheet in again} != first


def test_a_buying_group_gets_a_purchase_order_per_supplier(two_orders, media_root, alpha):
    alpha.collective.kind = "buying_group"
    alpha.collective.save()
    made = sheets.sheets_render(sale_id=two_orders.sale.pk)
    purchase = next(sheet for sheet in made if sheet.kind == Sheet.Kind.PURCHASE_ORDER)
    text = _text(purchase)
    assert "Bon de commande fournisseur : Ferme du Pech" in text
    assert "Drive Alpha" in text and "Tomates" in text and "56,30 €" in text


def test_sheets_reach_only_whom_they_concern(two_orders, media_root, alpha, beta, browse):
    from pickup_points import services as point_services
    from producers import services as producer_services

    made = {sheet.kind: sheet for sheet in sheets.sheets_render(sale_id=two_orders.sale.pk)}
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

    from orders import jobs
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

    made = {sheet.kind: sheet for sheet in sheets.sheets_render(sale_id=two_orders.sale.pk)}
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
