"""The sale page's offer list is cached per version of the sale's offers (orders.checkout.offer_list): what
a member sees must still follow every change at once, be their own, in their language, and cost the same
number of queries whatever the size of the catalogue."""

from __future__ import annotations

import re
from decimal import Decimal

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from marketplace.models import Membership, Role, User
from orders.checkout import offer_list
from orders.checkout import services as checkout_services
from orders.models import PaymentMethod
from orders.sales import services as sale_services
from pickup_points import services as point_services
from producers import services as producer_services
from producers.models import Product, Unit
from tests.conftest import text
from tests.orders.conftest import make_sale
from tests.producers.factories import png


def _field_value(page: str, offer) -> str | None:
    """The value shown in the quantity field of `offer`, or None when it has no field."""
    field = re.search(rf'<input type="number" name="qty_{offer.pk}"[^>]*>', page)
    if field is None:
        return None
    value = re.search(r'value="([^"]*)"', field.group(0))
    return value.group(1) if value else ""


def _item(page: str, name: str) -> str:
    """The HTML of the product's item on the page (non-breaking spaces as spaces)."""
    page = page.replace("\xa0", " ")
    match = re.search(
        rf'<li class="shop-item[^"]*">(?:(?!</li>).)*<h3>{re.escape(name)}</h3>.*?</li>', page, re.S
    )
    assert match, f"{name} is not on the page"
    return match.group(0)


def _another_member(alpha) -> User:
    user = User.objects.create_user(email="voisine@alpha.test", password="x-mot-de-passe-solide")
    Membership.objects.create(user=user, collective=alpha.collective, roles=[Role.MEMBER])
    return user


def _row(offer, **changes) -> sale_services.OfferRow:
    fields = {
        "product_id": offer.product_id,
        "included": True,
        "quantity": offer.quantity,
        "price": offer.price,
    }
    return sale_services.OfferRow(**{**fields, **changes})


def test_a_new_price_shows_at_once(browse, alpha, market):
    coming = make_sale(market.point, [market.tomatoes.producer], opens_in_days=2, title="Vente à venir")
    tomatoes = coming.offers.get(name="Tomates")
    client = browse(alpha, alpha.member)
    assert "2,50 €" in _item(text(client.get(f"/ventes/{coming.pk}/")), "Tomates")

    sale_services.sale_offers_update(sale_id=coming.pk, rows=[_row(tomatoes, price=Decimal("2.80"))])
    item = _item(text(client.get(f"/ventes/{coming.pk}/")), "Tomates")
    assert "2,80 €" in item and "2,50 €" not in item


def test_a_new_offer_and_a_renamed_producer_show_at_once(browse, alpha, market):
    client = browse(alpha, alpha.member)
    path = f"/ventes/{market.sale.pk}/"
    assert "Miel de châtaignier" not in text(client.get(path))

    farm = market.tomatoes.producer
    honey = producer_services.product_create(
        producer=farm, name="Miel de châtaignier", price=Decimal("7.00"), unit=Unit.PIECE, stock=None
    )
    sale_services.sale_offers_update(
        sale_id=market.sale.pk,
        rows=[sale_services.OfferRow(product_id=honey.pk, included=True, quantity=None, price=honey.price)],
    )
    page = text(client.get(path))
    assert "7,00 €" in _item(page, "Miel de châtaignier")

    producer_services.producer_update(producer=farm, name="Ferme du Pech d'en haut")
    assert f'<h2 id="producer-{farm.pk}">Ferme du Pech d\'en haut</h2>' in text(client.get(path))


def test_stock_shows_as_it_goes_without_a_new_list(browse, alpha, market):
    """What is left is read on each request: an order, or a new quantity from the coordinator, shows at
    once, and the list itself stays cached (one list for the sale, whatever the orders)."""
    client = browse(alpha, alpha.member)
    path = f"/ventes/{market.sale.pk}/"
    assert "plus que 3" in _item(text(client.get(path)), "Vin de Buzet")

    neighbour = _another_member(alpha)
    checkout_services.order_place(
        sale_id=market.sale.pk,
        user=neighbour,
        quantities={market.wine.pk: 3},
        slot_id=market.slots[0].pk,
        payment_method=PaymentMethod.CASH,
    )
    wine = _item(text(client.get(path)), "Vin de Buzet")
    assert "is-sold-out" in wine and "Épuisé" in wine and _field_value(wine, market.wine) is None

    sale_services.sale_offers_update(sale_id=market.sale.pk, rows=[_row(market.wine, quantity=5)])
    wine = _item(text(client.get(path)), "Vin de Buzet")
    assert "plus que 2" in wine and "is-sold-out" not in wine
    assert 'max="2"' in wine  # the field's limit follows what is left

    tomatoes = _item(text(client.get(path)), "Tomates")
    assert "plus que" not in tomatoes and 'max="10"' in tomatoes
    keys = cache._cache.get_client().keys("*sale-offers*@*")  # the lists, not their pointer to the latest
    assert len(keys) == 1  # orders and quantities did not make a new version of the list


def test_each_member_sees_their_own_quantities(browse, alpha, market):
    path = f"/ventes/{market.sale.pk}/"
    mine = browse(alpha, alpha.member)
    mine.post(path, {f"qty_{market.tomatoes.pk}": "4", "update_total": ""})
    theirs = browse(alpha, _another_member(alpha))

    their_page = text(theirs.get(path))
    assert _field_value(their_page, market.tomatoes) == ""
    assert "Total du panier : <strong>0,00 €</strong>" in their_page.replace("\xa0", " ")

    my_page = text(mine.get(path))
    assert _field_value(my_page, market.tomatoes) == "4"
    assert "Total du panier : <strong>10,00 €</strong>" in my_page.replace("\xa0", " ")
    assert _field_value(text(theirs.get(path)), market.tomatoes) == ""


def test_a_member_with_an_order_sees_its_quantities(browse, alpha, market):
    checkout_services.order_place(
        sale_id=market.sale.pk,
        user=alpha.member,
        quantities={market.wine.pk: 3, market.cheese.pk: 2},
        slot_id=market.slots[0].pk,
        payment_method=PaymentMethod.CASH,
    )
    page = text(browse(alpha, alpha.member).get(f"/ventes/{market.sale.pk}/"))
    # Sold out for the others, but the member's own 3 bottles stay theirs to change.
    wine = _item(page, "Vin de Buzet")
    assert "Épuisé" in wine and _field_value(wine, market.wine) == "3" and 'max="3"' in wine
    assert _field_value(page, market.cheese) == "2"
    other = text(browse(alpha, _another_member(alpha)).get(f"/ventes/{market.sale.pk}/"))
    assert _field_value(other, market.wine) is None and _field_value(other, market.cheese) == ""


def test_an_english_member_gets_the_list_in_english(browse, alpha, market):
    path = f"/ventes/{market.sale.pk}/"
    french = text(browse(alpha, alpha.member).get(path))
    assert ">Quantité<" in french and "plus que 3" in french

    english = browse(alpha, _another_member(alpha))
    english.post("/i18n/setlang/", {"language": "en", "next": path})
    page = text(english.get(path))
    assert ">Quantity<" in page and "Number of pieces" in page and "only 3 left" in page
    assert "Quantité" not in page and "plus que" not in page
    assert ">Quantité<" in text(browse(alpha, alpha.member).get(path))  # and French stays French


def test_another_collective_never_gets_this_ones_list(browse, alpha, beta, market):
    """The cache's key function puts the schema first, and the other collective's sale, even with the same
    number, shows its own products."""
    assert "Tomates" in text(browse(alpha, alpha.member).get(f"/ventes/{market.sale.pk}/"))
    connection.set_tenant(beta.collective)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('orders_sale', 'id'), %s, false)", [market.sale.pk]
        )
    point = point_services.point_create(name="Centre social", address="2 rue", town="Lille")
    farm = producer_services.producer_create(name="Maraîcher du Nord", town="Lille")
    producer_services.product_create(producer=farm, name="Endives", price=Decimal("3.10"), unit=Unit.KG)
    sale = make_sale(point, [farm])
    assert sale.pk == market.sale.pk
    page = text(browse(beta, beta.member).get(f"/ventes/{sale.pk}/"))
    assert "Endives" in page and "Tomates" not in page
    keys = sorted(key.decode() for key in cache._cache.get_client().keys("*sale-offers*@*"))
    assert [key.split(":", 1)[0] for key in keys] == ["c_alpha", "c_beta"]


PAGE_STATEMENTS = 7


def _queries_of_the_page(client, sale) -> tuple[int, int]:
    """The queries of the page with the offer list to render (cold), then cached (warm)."""
    path = f"/ventes/{sale.pk}/"
    with translation.override("fr"):
        offer_list.offer_list_forget(sale=sale)
    with CaptureQueriesContext(connection) as cold:
        assert client.get(path).status_code == 200
    with CaptureQueriesContext(connection) as warm:
        assert client.get(path).status_code == 200
    return len(cold), len(warm)


def test_the_page_reads_as_much_with_3_or_30_products(browse, alpha, market):
    client = browse(alpha, alpha.member)
    small_path = f"/ventes/{market.sale.pk}/"
    client.post(
        small_path, {f"qty_{market.tomatoes.pk}": "1", f"qty_{market.wine.pk}": "1", "update_total": ""}
    )
    small = _queries_of_the_page(client, market.sale)

    farms = [producer_services.producer_create(name=f"Ferme {i}", town="Agen") for i in range(3)]
    for i in range(30):
        producer_services.product_create(
            producer=farms[i % 3], name=f"Produit {i}", price=Decimal("2.00"), unit=Unit.PIECE, stock=i % 4
        )
    big_sale = make_sale(market.point, farms, title="Grande vente")
    assert big_sale.offers.count() == 30
    offers = list(big_sale.offers.order_by("pk"))
    big_path = f"/ventes/{big_sale.pk}/"
    client.post(big_path, {f"qty_{offers[1].pk}": "1", f"qty_{offers[2].pk}": "1", "update_total": ""})
    big = _queries_of_the_page(client, big_sale)
    raw = client.get(big_path).content.decode()  # not unescaped: the jump list must be markup
    jump_list = re.search(r'<nav class="jump-list" aria-label="Producteurs">(.*?)</nav>', raw)
    assert jump_list and all(f">{farm.name}</a>" in jump_list.group(1) for farm in farms)
    assert big == small, f"queries with 3 products (cold, warm): {small}, with 30: {big}"
    # Tenant, session, account; the sale with the membership, the catalogue's stamp, the slots' hours and
    # the member's tier; what is left of the offers, with the cart's offers themselves (issue 21).
    assert big[1] <= PAGE_STATEMENTS, f"{big[1]} statements for the warm page"


def test_a_wrong_quantity_is_said_next_to_its_product_and_nothing_typed_is_lost(browse, alpha, market):
    client = browse(alpha, alpha.member)
    path = f"/ventes/{market.sale.pk}/"
    answer = client.post(
        path,
        {
            f"qty_{market.tomatoes.pk}": "4",
            f"qty_{market.wine.pk}": "5",
            f"qty_{market.cheese.pk}": "deux",
            f"qty_{market.beef.pk}": "",
        },
    )
    assert answer.status_code == 400
    page = text(answer)
    wine, cheese = _item(page, "Vin de Buzet"), _item(page, "Tomme")
    assert (
        "Il n'en reste que 3." in wine
        and 'aria-invalid="true"' in wine
        and _field_value(wine, market.wine) == "5"
    )
    assert "Indiquez un nombre entier." in cheese and _field_value(cheese, market.cheese) == "deux"
    tomatoes = _item(page, "Tomates")
    assert _field_value(tomatoes, market.tomatoes) == "4" and "aria-invalid" not in tomatoes
    assert "Total non calculé" in page

    too_many = client.post(path, {f"qty_{market.cheese.pk}": "100"})
    assert too_many.status_code == 400 and "99 au plus par produit." in text(too_many)
    negative = client.post(path, {f"qty_{market.tomatoes.pk}": "-1"})
    assert negative.status_code == 400 and "La quantité ne peut pas être négative." in text(negative)


def test_quantities_of_products_not_in_the_sale_are_left_out(browse, alpha, market):
    """A hand-made post naming another sale's offer, or no offer at all, orders none of them."""
    client = browse(alpha, alpha.member)
    path = f"/ventes/{market.sale.pk}/"
    other = make_sale(market.point, [market.tomatoes.producer], title="Autre vente").offers.first()
    answer = client.post(
        path,
        {
            f"qty_{market.cheese.pk}": "2",
            f"qty_{other.pk}": "3",
            "qty_abc": "1",
            "qty_99999999999999999999999": "1",
            "qty_²": "1",
        },
    )
    assert answer.status_code == 302 and answer["Location"] == f"/ventes/{market.sale.pk}/commander/"
    session = client.session[f"cart:c_alpha:{market.sale.pk}"]
    assert session == {str(market.cheese.pk): 2}


def test_a_visitor_sees_what_is_left_but_no_field(browse, alpha, market):
    member_page = text(browse(alpha, alpha.member).get(f"/ventes/{market.sale.pk}/"))  # cached for members
    assert _field_value(member_page, market.cheese) == ""
    page = text(browse(alpha).get(f"/ventes/{market.sale.pk}/"))
    assert "Se connecter pour commander" in page
    assert 'type="number"' not in page and "Quantité" not in page
    assert "plus que 3" in _item(page, "Vin de Buzet") and "4,20 €" in _item(page, "Tomme")


def test_a_new_photo_shows_at_once(browse, alpha, market, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = browse(alpha, alpha.member)
    path = f"/ventes/{market.sale.pk}/"
    assert '<span class="noimg"' in _item(text(client.get(path)), "Tomme")

    cheese = Product.objects.get(pk=market.cheese.product_id)
    cheese = producer_services.product_update(product=cheese, photo=png())
    item = _item(text(client.get(path)), "Tomme")
    assert f'<img src="{cheese.thumbnail.url}"' in item and "noimg" not in item
