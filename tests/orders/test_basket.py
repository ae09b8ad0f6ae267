"""Weighed products read the same everywhere (« 2 pièces ≈ 1 kg ≈ 24,00 € »), and the sale page keeps a
running basket total: server-side with « Mettre à jour le total », with htmx through a fragment."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.template.loader import render_to_string
from django.utils import translation
from pypdf import PdfReader

from orders.checkout import services as checkout_services
from orders.models import Order, PaymentMethod
from orders.payments import services as payment_services
from orders.sheets import services as sheet_services
from tests.conftest import text as page_text

# Rôti de bœuf in the `market` fixture: 24 €/kg, about 0.5 kg a piece.
ONE_ROAST = "1 pièce ≈ 500 g ≈ 12,00 €"
TWO_ROASTS = "2 pièces ≈ 1 kg ≈ 24,00 €"


def text(response) -> str:
    return page_text(response).replace("\xa0", " ")


def words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("\xa0", " ").split())


@pytest.fixture
def roast_order(market, alpha, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return checkout_services.order_place(
            sale_id=market.sale.pk,
            user=alpha.member,
            quantities={market.tomatoes.pk: 4, market.beef.pk: 2},
            slot_id=market.slots[0].pk,
            payment_method=PaymentMethod.CASH,
        )


# ------------------------------------------------------------------------------------ weighed lines


def test_the_sale_page_counts_pieces_of_a_weighed_product(browse, alpha, market):
    page = text(browse(alpha, alpha.member).get(f"/ventes/{market.sale.pk}/"))
    assert "24,00 €</strong> / kg" in page and ONE_ROAST in page
    field = re.search(rf'<label for="id_qty_{market.beef.pk}">([^<]*)<', page)
    assert field and field.group(1) == "Nombre de pièces"
    assert re.search(rf'<label for="id_qty_{market.tomatoes.pk}">Quantité<', page)


def test_checkout_shows_the_pieces_their_weight_and_price(browse, alpha, market):
    client = browse(alpha, alpha.member)
    client.post(f"/ventes/{market.sale.pk}/", {f"qty_{market.beef.pk}": 2})
    checkout = text(client.get(f"/ventes/{market.sale.pk}/commander/"))
    assert TWO_ROASTS in checkout
    assert "2 × ≈" not in checkout


def test_the_order_page_and_the_email_show_the_pieces_then_the_weighed_amount(
    browse, alpha, market, roast_order
):
    email = mail.outbox[-1].body.replace("\xa0", " ")
    assert f"Rôti de bœuf : {TWO_ROASTS}" in email
    client = browse(alpha, alpha.member)
    assert TWO_ROASTS in text(client.get(f"/commandes/{roast_order.pk}/"))

    line = roast_order.lines.get(offer=market.beef)
    payment_services.line_weigh(line_id=line.pk, weight_kg=Decimal("1.040"))
    page = text(client.get(f"/commandes/{roast_order.pk}/"))
    assert "2 pièces, 1,04 kg : 24,96 €" in page and TWO_ROASTS not in page


def test_the_coordinator_and_the_point_staff_see_the_same_words(browse, alpha, market, roast_order):
    coordinator = browse(alpha, alpha.coordinator)
    orders_page = text(coordinator.get(f"/ventes/{market.sale.pk}/commandes/"))
    assert TWO_ROASTS in orders_page
    order_page = text(coordinator.get(f"/ventes/{market.sale.pk}/commandes/{roast_order.pk}/"))
    assert TWO_ROASTS in order_page


def test_the_sheets_show_the_pieces_before_and_in_the_pdf(market, roast_order, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_ROOT = tmp_path / "private"
    specs = {spec.kind: spec for spec in sheet_services.sheet_specs(market.sale)}
    with translation.override("fr"):
        producer = words(render_to_string(specs["producer"].template, specs["producer"].context))
        point = words(render_to_string(specs["point"].template, specs["point"].context))
    assert TWO_ROASTS in producer and "4 × Tomates" not in producer
    assert f"Rôti de bœuf : {TWO_ROASTS}" in point and "4 × Tomates" in point

    # Made while English is active (a coordinator's page in English asked for them again): still French.
    with translation.override("en"):
        made = {sheet.kind: sheet for sheet in sheet_services.sheets_render(sale_id=market.sale.pk)}
    with made["producer"].file.open("rb") as handle:
        pdf = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(handle.read())).pages)
    assert TWO_ROASTS in " ".join(pdf.replace("\xa0", " ").split())
    assert "Bon de livraison : Ferme du Pech" in pdf and "distribution le " in pdf


def test_the_wording_is_translated(market):
    with translation.override("en"):
        assert market.beef.pieces_text(2) == "2 pieces ≈ 1\xa0kg ≈ 24.00\xa0€"
        assert market.beef.pieces_text(1) == "1 piece ≈ 500\xa0g ≈ 12.00\xa0€"


# ------------------------------------------------------------------------------------ running total


def test_the_sale_page_shows_the_total_and_a_jump_list(browse, alpha, market):
    page = text(browse(alpha, alpha.member).get(f"/ventes/{market.sale.pk}/"))
    assert "Total du panier : <strong>0,00 €</strong>" in page
    nav = re.search(r'<nav class="jump-list" aria-label="Producteurs">(.*?)</nav>', page, re.S)
    if nav:  # one link per producer, to its heading
        for href in re.findall(r'href="#([^"]+)"', nav.group(1)):
            assert f'id="{href}"' in page
    assert "Mettre à jour le total" in page  # inside <noscript>: shown without JavaScript


def test_update_total_keeps_the_quantities_and_orders_nothing(browse, alpha, market):
    client = browse(alpha, alpha.member)
    response = client.post(
        f"/ventes/{market.sale.pk}/",
        {f"qty_{market.tomatoes.pk}": 4, f"qty_{market.beef.pk}": 2, "update_total": ""},
    )
    assert response.status_code == 200
    page = text(response)
    assert "Total du panier : <strong>≈ 34,00 €</strong>" in page  # 4 × 2.50 + 2 × ≈ 12.00
    assert "estimé : produits au poids" in page
    assert f'name="qty_{market.tomatoes.pk}" id="id_qty_{market.tomatoes.pk}" value="4"' in page
    assert f'name="qty_{market.beef.pk}" id="id_qty_{market.beef.pk}" value="2"' in page
    assert not Order.objects.filter(user=alpha.member).exists()
    # Coming back later, the basket is still there, with its total.
    again = text(client.get(f"/ventes/{market.sale.pk}/"))
    assert 'value="4"' in again and "Total du panier : <strong>≈ 34,00 €</strong>" in again


@pytest.mark.parametrize(
    ("typed", "message"),
    [("-2", "La quantité ne peut pas être négative."), ("deux", "Indiquez un nombre entier.")],
)
def test_update_total_with_a_wrong_quantity_says_which(browse, alpha, market, typed, message):
    response = browse(alpha, alpha.member).post(
        f"/ventes/{market.sale.pk}/", {f"qty_{market.tomatoes.pk}": typed, "update_total": ""}
    )
    assert response.status_code == 400
    page = text(response)
    assert message in page and "Total non calculé : corrigez les quantités signalées." in page
    assert not Order.objects.filter(user=alpha.member).exists()


def test_the_htmx_fragment_gives_the_total(browse, alpha, market):
    client = browse(alpha, alpha.member)
    url = f"/ventes/{market.sale.pk}/total/"
    data = {f"qty_{market.tomatoes.pk}": 1, f"qty_{market.beef.pk}": 1}
    response = client.post(url, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    fragment = text(response)
    assert "Total du panier : <strong>≈ 14,50 €</strong>" in fragment and "<html" not in fragment
    assert "Total du panier : <strong>5,00 €</strong>" in text(
        client.post(url, {f"qty_{market.tomatoes.pk}": 2}, HTTP_HX_REQUEST="true")
    )
    assert "corrigez les quantités" in text(
        client.post(url, {f"qty_{market.tomatoes.pk}": "-1"}, HTTP_HX_REQUEST="true")
    )
    # Without htmx, back to the page; and the fragment writes nothing, not even the cart.
    assert client.post(url, data)["Location"] == f"/ventes/{market.sale.pk}/"
    assert client.get(url).status_code == 405
    assert not Order.objects.filter(user=alpha.member).exists()
    assert 'value="1"' not in text(client.get(f"/ventes/{market.sale.pk}/"))


def test_the_fragment_has_the_sale_pages_access(browse, alpha, beta, market):
    url = f"/ventes/{market.sale.pk}/total/"
    data = {f"qty_{market.tomatoes.pk}": 1}
    market.sale.is_published = False
    market.sale.save(update_fields=["is_published"])
    assert browse(alpha, alpha.member).post(url, data, HTTP_HX_REQUEST="true").status_code == 404
    assert browse(alpha, alpha.member).get(f"/ventes/{market.sale.pk}/").status_code == 404
    market.sale.is_published = True
    market.sale.save(update_fields=["is_published"])
    # Another collective has no such sale: nothing of alpha's shows there.
    other = browse(beta, beta.member).post(url, data, HTTP_HX_REQUEST="true")
    assert other.status_code == 404 and "Total" not in text(other)
