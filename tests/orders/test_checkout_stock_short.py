"""A product sells out while the member orders: between the sale page and « Continuer », the cart keeps what
is left and the checkout page says so; between the cart and the checkout, the checkout page brings the cart
down to what is left, says so, orders nothing, and one more click orders the rest (no going back to the
sale)."""

from decimal import Decimal

from orders.checkout import services as checkout_services
from orders.models import Offer, Order, PaymentMethod
from pickup_points.models import PickupSlot
from tests.conftest import text as page_text


def text(response) -> str:
    return page_text(response).replace("\xa0", " ")


def _cart(client, market, quantities):
    response = client.post(
        f"/ventes/{market.sale.pk}/", {f"qty_{offer.pk}": qty for offer, qty in quantities.items()}
    )
    assert response.status_code == 302


def _checkout(client, market, slot):
    return client.post(
        f"/ventes/{market.sale.pk}/commander/", {"slot": slot.pk, "payment_method": PaymentMethod.CASH}
    )


def _someone_else_buys(market, user, quantities):
    checkout_services.order_place(
        sale_id=market.sale.pk,
        user=user,
        quantities={offer.pk: qty for offer, qty in quantities.items()},
        slot_id=market.slots[3].pk,
        payment_method=PaymentMethod.CASH,
    )


def test_bottles_taken_since_the_sale_page_was_drawn_are_brought_down_in_the_cart(browse, alpha, market):
    client = browse(alpha, alpha.member)
    assert "plus que 3" in text(client.get(f"/ventes/{market.sale.pk}/"))
    _someone_else_buys(market, alpha.producer, {market.wine: 3})
    response = client.post(
        f"/ventes/{market.sale.pk}/", {f"qty_{market.wine.pk}": 2, f"qty_{market.tomatoes.pk}": 1}
    )
    assert response.status_code == 302 and response["Location"] == f"/ventes/{market.sale.pk}/commander/"
    checkout = text(client.get(response["Location"]))
    assert "« Vin de Buzet » est épuisé : il est retiré de votre panier." in checkout
    assert "Vin de Buzet" not in checkout.split("est retiré de votre panier.", 1)[1]  # not in the summary
    assert "2,50 €" in checkout
    assert not Order.objects.filter(user=alpha.member).exists()


def test_a_cart_of_only_what_went_meanwhile_stays_on_the_sale_page_with_the_reason(browse, alpha, market):
    client = browse(alpha, alpha.member)
    _someone_else_buys(market, alpha.producer, {market.wine: 3})
    response = client.post(f"/ventes/{market.sale.pk}/", {f"qty_{market.wine.pk}": 2})
    assert response.status_code == 400 and "Épuisé : il n'en reste plus." in text(response)
    assert client.get(f"/ventes/{market.sale.pk}/commander/").status_code == 302  # the cart is empty


def test_the_last_bottles_taken_meanwhile_bring_the_cart_down_and_a_second_click_orders(
    browse, alpha, market
):
    client = browse(alpha, alpha.member)
    _cart(client, market, {market.wine: 3, market.tomatoes: 2})
    _someone_else_buys(market, alpha.producer, {market.wine: 2})

    refused = _checkout(client, market, market.slots[1])
    page = text(refused)
    assert refused.status_code == 400
    assert "Il ne reste que 1 × « Vin de Buzet » pour vous : votre panier en compte maintenant 1." in page
    assert "Rien n'est encore commandé : vérifiez votre panier ci-dessous, puis validez à nouveau." in page
    assert not Order.objects.filter(user=alpha.member).exists()
    assert PickupSlot.objects.get(pk=market.slots[1].pk).reserved == 0
    assert Offer.objects.get(pk=market.wine.pk).sold == 2
    assert f'value="{market.slots[1].pk}" checked' in refused.content.decode()  # their slot kept

    placed = _checkout(client, market, market.slots[1])
    assert placed.status_code == 302
    order = Order.objects.get(user=alpha.member)
    assert {line.name: line.quantity for line in order.lines.all()} == {"Vin de Buzet": 1, "Tomates": 2}
    assert Offer.objects.get(pk=market.wine.pk).sold == 3


def test_a_product_sold_out_meanwhile_leaves_the_cart_and_the_rest_is_ordered(browse, alpha, market):
    client = browse(alpha, alpha.member)
    _cart(client, market, {market.wine: 1, market.tomatoes: 2})
    _someone_else_buys(market, alpha.producer, {market.wine: 3})

    refused = _checkout(client, market, market.slots[0])
    page = text(refused)
    assert refused.status_code == 400
    assert "« Vin de Buzet » est épuisé : il est retiré de votre panier." in page
    assert "5,00 €" in page  # the summary: the tomatoes alone (2 × 2.50)
    assert not Order.objects.filter(user=alpha.member).exists()

    assert _checkout(client, market, market.slots[0]).status_code == 302
    order = Order.objects.get(user=alpha.member)
    assert [line.name for line in order.lines.all()] == ["Tomates"] and order.total == Decimal("5.00")


def test_a_cart_emptied_by_it_goes_back_to_the_sale_page_and_says_why(browse, alpha, market):
    client = browse(alpha, alpha.member)
    _cart(client, market, {market.wine: 2})
    _someone_else_buys(market, alpha.producer, {market.wine: 3})

    refused = _checkout(client, market, market.slots[0])
    assert refused.status_code == 302 and refused["Location"] == f"/ventes/{market.sale.pk}/"
    page = text(client.get(refused["Location"]))
    assert "« Vin de Buzet » est épuisé : il est retiré de votre panier." in page
    assert "Votre panier est vide : choisissez vos produits." in page
    assert not Order.objects.filter(user=alpha.member).exists()
    again = client.get(f"/ventes/{market.sale.pk}/commander/")  # nothing left in the cart
    assert again.status_code == 302


def test_an_order_being_changed_keeps_what_it_holds_and_gets_what_is_left(browse, alpha, market):
    client = browse(alpha, alpha.member)
    _cart(client, market, {market.wine: 1})
    assert _checkout(client, market, market.slots[0]).status_code == 302
    order = Order.objects.get(user=alpha.member)
    _cart(client, market, {market.wine: 3})  # theirs and the two left
    _someone_else_buys(market, alpha.producer, {market.wine: 1})  # one bottle left
    refused = _checkout(client, market, market.slots[0])
    page = text(refused)
    assert refused.status_code == 400
    assert "Il ne reste que 2 × « Vin de Buzet » pour vous : votre panier en compte maintenant 2." in page
    assert "Votre commande n'est pas encore modifiée" in page
    assert order.lines.get().quantity == 1  # unchanged until they confirm

    assert _checkout(client, market, market.slots[0]).status_code == 302
    assert order.lines.get().quantity == 2
    assert Offer.objects.get(pk=market.wine.pk).sold == 3


def test_another_collectives_member_cannot_reach_the_checkout(browse, alpha, beta, market):
    client = browse(alpha, beta.member)
    response = _checkout(client, market, market.slots[0])
    assert response.status_code == 403
    assert not Order.objects.exists() and Offer.objects.get(pk=market.wine.pk).sold == 0
