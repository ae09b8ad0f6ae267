"""Prices and stock of a whole catalogue on one screen: all rows saved, or none."""

from decimal import Decimal

import pytest

from producers.models import Product
from tests.producers import factories
from tests.producers.conftest import back_to
from tests.producers.conftest import read as text


@pytest.fixture
def three(farm):
    return [
        factories.product(farm, "Carottes", price=Decimal("2.20"), unit="bunch", stock=25),
        factories.product(farm, "Courgettes", price=Decimal("2.80"), stock=None),
        factories.product(farm, "Radis", price=Decimal("1.50"), unit="bunch", stock=3),
    ]


def _form(rows: list[dict]) -> dict:
    data = {"form-TOTAL_FORMS": str(len(rows)), "form-INITIAL_FORMS": str(len(rows))}
    for index, row in enumerate(rows):
        for key, value in row.items():
            if value is not None:
                data[f"form-{index}-{key}"] = value
    return data


def _state(products) -> list[tuple]:
    return [
        (p.name, p.price, p.stock)
        for p in Product.objects.filter(pk__in=[p.pk for p in products]).order_by("name")
    ]


def test_the_screen_lists_every_product_with_its_price_and_stock(browse, in_alpha, farm, three):
    page = text(browse(in_alpha, in_alpha.producer).get(f"/producteurs/{farm.pk}/prix-et-stocks/"))
    for name in ("Carottes", "Courgettes", "Radis"):
        assert name in page
    assert 'value="2,20"' in page and 'value="25"' in page
    # Unlimited stock: the box is ticked and the number empty.
    assert page.count('type="checkbox" name="form-') == 3
    assert page.count("checked") == 1
    assert "Enregistrer tout" in page


def test_prices_and_stocks_are_saved_together(browse, in_alpha, farm, three):
    carrots, courgettes, radishes = three
    client = browse(in_alpha, in_alpha.producer)
    response = client.post(
        f"/producteurs/{farm.pk}/prix-et-stocks/",
        _form(
            [
                {"product": carrots.pk, "price": "2,40", "stock": "", "unlimited": "on"},  # ticked now
                {"product": courgettes.pk, "price": "2.80", "stock": "15"},  # typed, unticked
                {"product": radishes.pk, "price": "1,50", "stock": ""},  # emptied: unlimited
            ]
        ),
    )
    # The screen stays on itself, with what was saved and a message saying so.
    assert response.status_code == 302
    assert response["Location"] == f"/producteurs/{farm.pk}/prix-et-stocks/"
    back_to(in_alpha.collective)
    assert _state(three) == [
        ("Carottes", Decimal("2.40"), None),
        ("Courgettes", Decimal("2.80"), 15),
        ("Radis", Decimal("1.50"), None),
    ]
    page = text(client.get(response["Location"]))
    assert "3 produits mis à jour." in page
    assert 'value="15"' in page and "Prix et stocks" in page


def test_a_negative_stock_saves_nothing(browse, in_alpha, farm, three):
    carrots, courgettes, radishes = three
    before = _state(three)
    response = browse(in_alpha, in_alpha.producer).post(
        f"/producteurs/{farm.pk}/prix-et-stocks/",
        _form(
            [
                {"product": carrots.pk, "price": "9,99", "stock": "5"},
                {"product": courgettes.pk, "price": "2,80", "stock": "-3"},
                {"product": radishes.pk, "price": "0", "stock": "1"},
            ]
        ),
    )
    assert response.status_code == 400
    page = text(response)
    assert "Le stock ne peut pas être négatif." in page
    assert "Le prix doit être supérieur à 0 €." in page
    assert "Certaines lignes sont à corriger : rien n'a été enregistré." in page
    assert 'value="9,99"' in page  # what was typed is kept for correction
    back_to(in_alpha.collective)
    assert _state(three) == before


@pytest.mark.parametrize(
    "row",
    [
        {"stock": "8", "unlimited": "on"},  # a number typed while « illimité » stays ticked
        {"stock": "25", "unlimited": "on"},  # « illimité » ticked while the number stays
    ],
)
def test_a_number_and_unlimited_together_are_refused(browse, in_alpha, farm, three, row):
    carrots, courgettes, radishes = three
    before = _state(three)
    response = browse(in_alpha, in_alpha.producer).post(
        f"/producteurs/{farm.pk}/prix-et-stocks/",
        _form(
            [
                {"product": carrots.pk, "price": "2,20", **row},
                {"product": courgettes.pk, "price": "3,00", "stock": "", "unlimited": "on"},
                {"product": radishes.pk, "price": "1,50", "stock": "3"},
            ]
        ),
    )
    assert response.status_code == 400
    page = text(response)
    assert "Un stock chiffré ou « illimité », pas les deux : videz le stock ou décochez « illimité »." in page
    assert page.count("pas les deux") == 1  # only the carrots' row
    back_to(in_alpha.collective)
    assert _state(three) == before  # nothing saved, not even the courgettes' new price


def test_the_rule_is_shown_before_saving(browse, in_alpha, farm, three):
    page = text(browse(in_alpha, in_alpha.producer).get(f"/producteurs/{farm.pk}/prix-et-stocks/"))
    assert "Les deux à la fois sont refusés." in page


def test_another_producers_product_in_the_post_is_not_found(browse, in_alpha, farm, three, cheese):
    before = _state([*three, cheese])
    response = browse(in_alpha, in_alpha.producer).post(
        f"/producteurs/{farm.pk}/prix-et-stocks/",
        _form(
            [
                {"product": three[0].pk, "price": "3,00", "stock": "1"},
                {"product": cheese.pk, "price": "0,01", "stock": "0"},
            ]
        ),
    )
    assert response.status_code == 404
    back_to(in_alpha.collective)
    assert _state([*three, cheese]) == before


def test_even_a_coordinator_edits_one_producer_at_a_time(browse, in_alpha, farm, three, cheese):
    """The neighbour's product through the farm's screen: not found, even for someone who may edit both."""
    response = browse(in_alpha, in_alpha.coordinator).post(
        f"/producteurs/{farm.pk}/prix-et-stocks/",
        _form([{"product": cheese.pk, "price": "0,01", "stock": "0"}]),
    )
    assert response.status_code == 404
    back_to(in_alpha.collective)
    cheese.refresh_from_db()
    assert cheese.price == Decimal("16.00")


@pytest.mark.parametrize("bad_id", ["", "abc", "-1", "999999"])
def test_a_made_up_product_id_is_not_found(browse, in_alpha, farm, three, bad_id):
    response = browse(in_alpha, in_alpha.producer).post(
        f"/producteurs/{farm.pk}/prix-et-stocks/", _form([{"product": bad_id, "price": "1", "stock": "1"}])
    )
    assert response.status_code == 404


def test_stock_never_goes_negative_in_the_database(in_alpha, farm, three):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=three[0].pk).update(stock=-1)
