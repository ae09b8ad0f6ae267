"""The shop as a member sees it: grouped, filtered, priced, and as fast with 300 products as with 10."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from marketplace.money import money
from producers import services
from producers.models import Product, Unit, estimated_price
from tests.conftest import words
from tests.producers import factories
from tests.producers.conftest import back_to
from tests.producers.conftest import read as text


@pytest.fixture
def shelves(farm, neighbour, vegetables, dairy, tomatoes, cheese):
    factories.product(
        farm, "Radis roses", unit=Unit.BUNCH, price=Decimal("1.50"), category=vegetables, stock=3
    )
    factories.product(farm, "Fraises", unit=Unit.BOX, price=Decimal("4.50"), category=None, stock=0)
    factories.product(farm, "Courgettes", price=Decimal("2.80"), category=vegetables, stock=None)
    factories.product(farm, "Topinambours", price=Decimal("3.00"), category=vegetables, is_active=False)
    closed = factories.producer("Ferme fermée", is_active=False)
    factories.product(closed, "Pommes cachées", price=Decimal("2.00"))


def test_anyone_sees_the_shop_grouped_by_producer_and_category(browse, in_alpha, shelves):
    response = browse(in_alpha).get("/boutique/")
    assert response.status_code == 200
    page = words(response)
    # Producers in order, then their categories in order, then products by name.
    assert page.index("Chèvrerie du Pech") < page.index("Ferme des Coteaux")
    coteaux = page[page.index("Ferme des Coteaux") :]
    assert coteaux.index("Légumes") < coteaux.index("Courgettes") < coteaux.index("Radis roses")
    assert coteaux.index("Tomates anciennes") < coteaux.index("Autres produits") < coteaux.index("Fraises")
    assert "Nérac AB Nature & Progrès" in page
    assert "Tomates anciennes 4,50 € / kg" in page
    assert "Radis roses 1,50 € / botte plus que 3" in page
    assert "Fraises 4,50 € / barquette Épuisé" in page  # shown, not hidden
    assert "Courgettes 2,80 € / kg" in page and "Courgettes 2,80 € / kg plus que" not in page
    assert "Topinambours" not in page and "Pommes cachées" not in page and "Ferme fermée" not in page
    assert "5 produits" in page


def test_variable_weight_shows_an_estimated_price(browse, in_alpha, shelves):
    page = words(browse(in_alpha, in_alpha.member).get("/boutique/"))
    # 16,00 € / kg × 0,300 kg
    assert "Tomme de chèvre 16,00 € / kg 1 pièce ≈ 300 g ≈ 4,80 €" in page


@pytest.mark.parametrize(
    ("per_kg", "weight", "shown"),
    [
        ("16.00", "0.300", "4.80"),
        ("24.00", "0.333", "7.99"),
        ("12.25", "0.500", "6.13"),
        ("11.50", "1.800", "20.70"),
    ],
)
def test_the_estimated_price_is_rounded_once_to_the_cent(per_kg, weight, shown):
    assert estimated_price(price_per_kg=Decimal(per_kg), weight_kg=Decimal(weight)) == Decimal(shown)
    assert money(Decimal("6.125")) == Decimal("6.13")


def test_filters_by_category_producer_and_words(browse, in_alpha, shelves, vegetables, neighbour):
    client = browse(in_alpha)
    page = words(client.get("/boutique/", {"categorie": vegetables.pk}))
    assert "Tomates anciennes" in page and "Tomme de chèvre" not in page and "Fraises" not in page
    assert "Tout afficher" in page

    page = words(client.get("/boutique/", {"producteur": neighbour.pk}))
    assert "Tomme de chèvre" in page and "Tomates anciennes" not in page

    page = words(client.get("/boutique/", {"q": "TOMME chevre"}))
    assert "Tomme de chèvre" in page and "Tomates" not in page
    page = words(client.get("/boutique/", {"q": "coteaux"}))  # the producer's name
    assert "Tomates anciennes" in page and "Tomme" not in page

    page = words(client.get("/boutique/", {"q": "introuvable"}))
    assert "Aucun produit ne correspond à votre recherche." in page

    # A filter that makes no sense is ignored, not an error.
    assert client.get("/boutique/", {"categorie": "abc", "producteur": "999999"}).status_code == 200


def test_each_producer_has_a_page(browse, in_alpha, shelves, farm, neighbour):
    client = browse(in_alpha)
    page = words(client.get(f"/boutique/producteurs/{farm.pk}/"))
    assert "Ferme des Coteaux" in page and "Maraîchage." in page
    assert "Tomates anciennes" in page and "Tomme de chèvre" not in page
    assert "Fraises" in page and "Épuisé" in page

    back_to(in_alpha.collective)
    services.producer_update(producer=neighbour, is_active=False)
    assert client.get(f"/boutique/producteurs/{neighbour.pk}/").status_code == 404
    assert client.get("/boutique/producteurs/999999/").status_code == 404
    assert client.post(f"/boutique/producteurs/{farm.pk}/").status_code == 405


def test_another_collectives_producer_is_not_found(browse, in_alpha, beta, farm):
    assert browse(beta).get(f"/boutique/producteurs/{farm.pk}/").status_code == 404
    assert "Ferme des Coteaux" not in text(browse(beta).get("/boutique/"))


def test_the_shop_serves_thumbnails(browse, in_alpha, farm, media_root):
    item = factories.product(farm, "Miel", photo=factories.png(size=(2000, 1500)))
    page = text(browse(in_alpha).get("/boutique/"))
    assert f'src="/media/c_alpha/products/{item.thumbnail.name.rsplit("/", 1)[1]}"' in page
    assert item.thumbnail.name.endswith("-320.jpg")
    assert 'width="320" height="240" loading="lazy"' in page


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("who", ["visitor", "member", "producer"])
def test_query_count_does_not_grow_with_the_catalogue(
    browse, in_alpha, farm, neighbour, vegetables, django_assert_num_queries, who
):
    factories.products_bulk(farm, 5, category=vegetables)
    factories.products_bulk(neighbour, 5, start=5)
    client = browse(in_alpha, None if who == "visitor" else getattr(in_alpha, who))
    urls = ["/boutique/", f"/boutique/producteurs/{farm.pk}/", "/boutique/?q=produit"]
    if who == "producer":
        urls += [f"/producteurs/{farm.pk}/", f"/producteurs/{farm.pk}/prix-et-stocks/"]
    with_ten = {url: _queries(client, url) for url in urls}

    back_to(in_alpha.collective)
    factories.products_bulk(farm, 150, category=vegetables, start=10)
    factories.products_bulk(neighbour, 140, start=160)
    assert Product.objects.count() == 300
    for url in urls:
        with django_assert_num_queries(with_ten[url]):
            response = client.get(url)
        if url == "/boutique/":
            assert "300 produits" in words(response)
