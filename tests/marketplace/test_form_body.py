"""Form POSTs are read in one pass by marketplace.middleware.FormBodyMiddleware (the sale page's cart posts
one field per product): what views see must be what Django's own reading gives, and bad bodies are refused
as Django refuses them (a 400 page, never a 500)."""

from urllib.parse import quote, urlencode

import pytest
from django.http import QueryDict
from django.test import override_settings

from marketplace.middleware import form_data
from marketplace.money import euros
from tests.conftest import text

BODIES = [
    b"",
    b"a=1",
    b"a=1&a=2&b=&c",  # a repeated name, a blank value, a name without "="
    b"qty_1=&qty_2=3&qty_1=4",  # the last value of a name posted twice counts
    urlencode({"note": "Pêches & crème + 2 € ; 50 %", "émoji": "🍅"}).encode(),
    b"name=caf%C3%A9+au+lait&x=%ZZ&y=a%2Bb&&z==",  # '+', a bad escape, an empty pair, '=' in a value
    "prénom=Zoé".encode("iso-8859-1"),  # not UTF-8: read as Latin-1, as Django does
    quote("clé", safe="").encode() + b"=" + quote("\u00e9t\u00e9", safe="").encode(),
]


@pytest.mark.parametrize("body", BODIES)
def test_a_posted_form_reads_as_django_reads_it(body):
    ours, django = form_data(body), QueryDict(body, encoding="utf-8")
    assert ours == django
    assert list(ours.lists()) == list(django.lists())  # same names, same order, every value
    assert ours.encoding == django.encoding == "utf-8"
    with pytest.raises(AttributeError):  # immutable, as request.POST is
        ours["a"] = "changed"


def test_a_cart_with_a_field_per_product_is_read_whole(browse, alpha, market):
    """As a browser posts the sale page: every product's field, empty but for two, in any order."""
    client = browse(alpha, alpha.member)
    offers = list(market.sale.offers.order_by("-pk"))
    fields = {f"qty_{offer.pk}": "" for offer in offers}
    fields[f"qty_{market.tomatoes.pk}"] = "3"
    fields[f"qty_{market.cheese.pk}"] = " 1 "
    answer = client.post(
        f"/ventes/{market.sale.pk}/", urlencode(fields), content_type="application/x-www-form-urlencoded"
    )
    assert answer.status_code == 302 and answer["Location"] == f"/ventes/{market.sale.pk}/commander/"
    checkout = text(client.get(answer["Location"])).replace("\xa0", " ")
    assert "Tomates" in checkout and "3 × 2,50 €" in checkout and "7,50 €" in checkout
    assert (
        market.cheese.name in checkout
        and f"1 × {euros(market.cheese.unit_amount)}".replace("\xa0", " ") in checkout
    )
    assert market.beef.name not in checkout and market.wine.name not in checkout


@override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=50)
def test_too_many_fields_get_a_clear_refusal_and_change_nothing(browse, alpha, market):
    client = browse(alpha, alpha.member)
    client.get(f"/ventes/{market.sale.pk}/")
    body = urlencode({f"qty_{number}": "" for number in range(60)})
    answer = client.post(f"/ventes/{market.sale.pk}/", body, content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 400 and "<html" in answer.content.decode().lower()
    assert client.get(f"/ventes/{market.sale.pk}/commander/")["Location"] == f"/ventes/{market.sale.pk}/"
