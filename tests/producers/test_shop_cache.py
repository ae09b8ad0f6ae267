"""The shop's catalogue is cached per version of what it shows (producers.shop_list): rendered once for
every visitor, yet each change of a product, a producer or a shelf shows on the next request, and another
collective never gets this one's shop."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection

from producers import services, shop_list
from tests.conftest import words
from tests.producers import factories


@pytest.fixture
def renders(monkeypatch):
    """How many times the shop's sections were rendered."""
    counted = []
    render = shop_list._render

    def counting(**kwargs):
        counted.append(kwargs)
        return render(**kwargs)

    monkeypatch.setattr(shop_list, "_render", counting)
    return counted


def test_the_shop_is_rendered_once_for_every_visitor(browse, in_alpha, tomatoes, cheese, renders):
    assert "Tomates anciennes 4,50 € / kg" in words(browse(in_alpha).get("/boutique/"))
    assert "Tomates anciennes 4,50 € / kg" in words(browse(in_alpha, in_alpha.member).get("/boutique/"))
    assert "Tomates anciennes" in words(browse(in_alpha, in_alpha.producer).get("/boutique/"))
    assert len(renders) == 1


def test_a_changed_product_shows_at_once(browse, in_alpha, farm, tomatoes, cheese, renders):
    client = browse(in_alpha)
    assert "Tomates anciennes 4,50 € / kg" in words(client.get("/boutique/"))

    services.product_update(product=tomatoes, price=Decimal("4.90"))
    page = words(client.get("/boutique/"))
    assert "Tomates anciennes 4,90 € / kg" in page and "4,50 €" not in page

    change = services.StockPriceChange(product_id=tomatoes.pk, price=Decimal("4.90"), stock=2)
    services.products_bulk_update(producer=farm, changes=[change])
    assert "Tomates anciennes 4,90 € / kg plus que 2" in words(client.get("/boutique/"))

    services.product_update(product=tomatoes, is_active=False)
    page = words(client.get("/boutique/"))
    assert "Tomates anciennes" not in page and "Tomme de chèvre" in page and "1 produit" in page


def test_a_hidden_producer_or_a_renamed_shelf_shows_at_once(
    browse, in_alpha, farm, neighbour, vegetables, tomatoes, cheese
):
    client = browse(in_alpha)
    assert "Légumes Tomates anciennes" in words(client.get("/boutique/"))

    services.category_update(category=vegetables, name="Légumes de saison", position=1)
    assert "Légumes de saison Tomates anciennes" in words(client.get("/boutique/"))

    services.producer_update(producer=neighbour, is_active=False)
    page = words(client.get("/boutique/"))
    assert "Chèvrerie du Pech" not in page and "Tomme de chèvre" not in page
    assert "Ferme des Coteaux" in page


def test_filters_get_their_own_list_and_a_search_is_always_fresh(
    browse, in_alpha, farm, neighbour, vegetables, tomatoes, cheese, renders
):
    client = browse(in_alpha)
    everything = words(client.get("/boutique/"))
    by_shelf = words(client.get("/boutique/", {"categorie": vegetables.pk}))
    assert "Tomme de chèvre" in everything and "Tomme de chèvre" not in by_shelf
    assert "Tomates anciennes" in by_shelf and "1 produit" in by_shelf
    client.get("/boutique/", {"categorie": vegetables.pk})
    assert len(renders) == 2  # one list per filter, each rendered once
    assert "Tomme de chèvre" in words(client.get("/boutique/", {"q": "tomme"}))
    assert "Tomme de chèvre" in words(client.get("/boutique/", {"q": "tomme"}))
    assert len(renders) == 4  # a search is rendered each time


def test_another_collective_never_gets_this_ones_shop(browse, alpha, beta, in_alpha, tomatoes):
    assert "Tomates anciennes" in words(browse(alpha).get("/boutique/"))
    connection.set_tenant(beta.collective)
    farm = factories.producer("Maraîcher du Nord", town="Lille")
    factories.product(farm, "Endives", price=Decimal("3.10"))
    page = words(browse(beta).get("/boutique/"))
    assert "Endives" in page and "Tomates anciennes" not in page
    keys = sorted(key.decode() for key in cache._cache.get_client().keys("*:shop:*@*"))
    assert {key.split(":", 1)[0] for key in keys} == {"c_alpha", "c_beta"}
