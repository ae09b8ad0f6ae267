"""A member orders in the browser (no JavaScript): quantities, slot and payment, then changes or cancels."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from marketplace.models import Membership
from orders.models import Offer, Order, PaymentMethod, Sale
from pickup_points.models import PickupSlot, SlotBooking
from tests.conftest import text as page_text


def text(response) -> str:
    """The page as read, non-breaking spaces (in amounts: « 2,50 € ») as plain spaces."""
    return page_text(response).replace("\xa0", " ")


def _fill_cart(client, market, quantities):
    data = {f"qty_{offer.pk}": qty for offer, qty in quantities.items()}
    return client.post(f"/ventes/{market.sale.pk}/", data)


def test_the_home_page_shows_the_open_sale(browse, alpha, market):
    page = text(browse(alpha).get("/"))
    assert "Vente de la semaine" in page and "Commander" in page


def test_a_member_orders_and_gets_a_number_a_basket_and_an_email(
    browse, alpha, market, mailoutbox, django_capture_on_commit_callbacks
):
    client = browse(alpha, alpha.member)
    shop = text(client.get(f"/ventes/{market.sale.pk}/"))
    assert "Ferme du Pech" in shop and "Tomates" in shop and "2,50 €" in shop
    assert "1 pièce ≈ 500 g ≈ 12,00 €" in shop  # 24 €/kg × 0.5 kg
    assert "plus que 3" in shop  # the wine

    response = _fill_cart(client, market, {market.tomatoes: 4, market.beef: 1})
    assert response.status_code == 302 and response["Location"] == f"/ventes/{market.sale.pk}/commander/"
    checkout = text(client.get(response["Location"]))
    assert "22,00 €" in checkout  # 4 × 2.50 + ≈ 12.00
    assert "≈ 22,00 €" in checkout
    assert "3 places" in checkout and "Salle des fêtes" in checkout
    assert "Espèces, sur place" in checkout and "Chèques alimentaires" in checkout
    assert "Chèque, sur place" not in checkout  # not accepted by this collective

    slot = market.slots[1]
    with django_capture_on_commit_callbacks(execute=True):
        placed = client.post(
            f"/ventes/{market.sale.pk}/commander/",
            {"slot": slot.pk, "payment_method": PaymentMethod.FOOD_VOUCHER},
        )
    order = Order.objects.get(user=alpha.member)
    assert placed.status_code == 302 and placed["Location"] == f"/commandes/{order.pk}/"
    detail = text(client.get(placed["Location"]))
    assert f"Merci ! Votre commande {order.number} est enregistrée." in detail
    assert "Panier n°" in detail and "Chèques alimentaires" in detail and "Annuler ma commande" in detail
    assert order.total == Decimal("22.00")
    assert PickupSlot.objects.get(pk=slot.pk).reserved == 1
    assert len(mailoutbox) == 1 and order.number in mailoutbox[0].subject
    assert order.number in text(client.get("/commandes/"))


def test_a_full_slot_is_shown_full_and_cannot_be_chosen(browse, alpha, market):
    full = market.slots[0]
    PickupSlot.objects.filter(pk=full.pk).update(reserved=3)
    client = browse(alpha, alpha.member)
    _fill_cart(client, market, {market.cheese: 1})
    page = client.get(f"/ventes/{market.sale.pk}/commander/").content.decode()
    assert f'value="{full.pk}" disabled' in page and "Complet" in page
    refused = client.post(
        f"/ventes/{market.sale.pk}/commander/", {"slot": full.pk, "payment_method": PaymentMethod.CASH}
    )
    assert refused.status_code == 400
    assert "complet" in text(refused)
    assert not Order.objects.exists() and SlotBooking.objects.count() == 0
    assert Offer.objects.get(pk=market.cheese.pk).sold == 0


def test_changing_then_cancelling_an_order(browse, alpha, market):
    client = browse(alpha, alpha.member)
    _fill_cart(client, market, {market.tomatoes: 4})
    client.post(
        f"/ventes/{market.sale.pk}/commander/",
        {"slot": market.slots[0].pk, "payment_method": PaymentMethod.CASH},
    )
    order = Order.objects.get(user=alpha.member)

    shop = text(client.get(f"/ventes/{market.sale.pk}/"))
    assert f"Vous avez déjà la commande {order.number}" in shop
    _fill_cart(client, market, {market.tomatoes: 2, market.wine: 1})
    changed = client.post(
        f"/ventes/{market.sale.pk}/commander/",
        {"slot": market.slots[2].pk, "payment_method": PaymentMethod.CASH},
    )
    assert changed.status_code == 302
    assert "Commande modifiée." in text(client.get(changed["Location"]))
    order.refresh_from_db()
    assert order.total == Decimal("14.90")
    assert [s.reserved for s in market.slots] == [0, 0, 1, 0]

    cancelled = client.post(f"/commandes/{order.pk}/annuler/")
    assert "Commande annulée" in text(client.get(cancelled["Location"]))
    assert [s.reserved for s in market.slots] == [0, 0, 0, 0]
    assert sum(Offer.objects.filter(sale=market.sale).values_list("sold", flat=True)) == 0


def test_hand_made_posts_are_refused_with_a_message(browse, alpha, beta, market):
    client = browse(alpha, alpha.member)
    # More than is left, with a wrong quantity beside it: both said next to their products.
    too_many = _fill_cart(client, market, {market.wine: 4, market.tomatoes: -2})
    assert too_many.status_code == 400
    assert "Il n'en reste que 3." in text(too_many) and "ne peut pas être négative" in text(too_many)
    # Asking for the total only: said next to the product, nothing brought down.
    total = client.post(f"/ventes/{market.sale.pk}/", {f"qty_{market.wine.pk}": 4, "update_total": "1"})
    assert total.status_code == 400 and "Il n'en reste que 3." in text(total)
    # Only more than is left (it went since the page was drawn): the cart keeps what is left and says so.
    brought = _fill_cart(client, market, {market.wine: 4})
    assert brought.status_code == 302 and brought["Location"] == f"/ventes/{market.sale.pk}/commander/"
    checkout = text(client.get(brought["Location"]))
    assert "Il ne reste que 3 × « Vin de Buzet » pour vous : votre panier en compte maintenant 3." in checkout
    assert "29,70 €" in checkout  # 3 × 9.90
    _fill_cart(client, market, {market.tomatoes: 1})
    other_slot = client.post(
        f"/ventes/{market.sale.pk}/commander/", {"slot": 999999, "payment_method": "cash"}
    )
    assert other_slot.status_code == 400 and "Ce créneau ne fait pas partie de cette vente" in text(
        other_slot
    )
    cheque = client.post(
        f"/ventes/{market.sale.pk}/commander/", {"slot": market.slots[0].pk, "payment_method": "cheque"}
    )
    assert cheque.status_code == 400 and "pas accepté" in text(cheque)
    assert not Order.objects.exists()


def test_a_closed_or_coming_sale_cannot_be_ordered_even_by_hand(browse, alpha, market):
    client = browse(alpha, alpha.member)
    _fill_cart(client, market, {market.tomatoes: 1})
    Sale.objects.filter(pk=market.sale.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    page = text(client.get(f"/ventes/{market.sale.pk}/"))
    assert "Les commandes sont closes." in page and "Continuer" not in page
    posted = client.post(
        f"/ventes/{market.sale.pk}/commander/", {"slot": market.slots[0].pk, "payment_method": "cash"}
    )
    assert posted.status_code == 400 and "Cette vente est close" in text(posted)
    Sale.objects.filter(pk=market.sale.pk).update(
        opens_at=timezone.now() + timedelta(hours=2), closes_at=timezone.now() + timedelta(days=2)
    )
    assert "Les commandes ouvrent le" in text(client.get(f"/ventes/{market.sale.pk}/"))
    posted = client.post(
        f"/ventes/{market.sale.pk}/commander/", {"slot": market.slots[0].pk, "payment_method": "cash"}
    )
    assert "pas encore ouverte" in text(posted)
    assert not Order.objects.exists()


@pytest.mark.parametrize("who", ["anonymous", "outsider", "staff"])
def test_only_members_order(browse, alpha, outsider, market, who):
    user = {"anonymous": None, "outsider": outsider, "staff": alpha.staff}[who]
    client = browse(alpha, user)
    response = _fill_cart(client, market, {market.tomatoes: 1})
    if who == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    else:
        assert "Seuls les membres du collectif peuvent commander." in text(client.get(response["Location"]))
    checkout = client.get(f"/ventes/{market.sale.pk}/commander/")
    assert checkout.status_code in {302, 403}
    assert not Order.objects.exists()


def test_an_order_of_someone_else_is_not_found(browse, alpha, market):
    client = browse(alpha, alpha.member)
    _fill_cart(client, market, {market.tomatoes: 1})
    client.post(
        f"/ventes/{market.sale.pk}/commander/", {"slot": market.slots[0].pk, "payment_method": "cash"}
    )
    order = Order.objects.get()
    # Coordinators are members too, but an order page belongs to its member.
    other = browse(alpha, alpha.coordinator)
    assert other.get(f"/commandes/{order.pk}/").status_code == 404
    assert other.post(f"/commandes/{order.pk}/annuler/").status_code == 404
    assert Order.objects.get().is_placed


def test_the_sale_page_query_count_does_not_grow_with_products(
    browse, alpha, market, django_assert_max_num_queries
):
    from producers import services as producer_services

    client = browse(alpha, alpha.member)
    with django_assert_max_num_queries(30) as few:
        client.get(f"/ventes/{market.sale.pk}/")
    farm = market.tomatoes.producer
    for i in range(40):
        product = producer_services.product_create(
            producer=farm, name=f"Légume {i}", price=Decimal("1.00"), unit="piece"
        )
        Offer.objects.create(
            sale=market.sale,
            product=product,
            producer=farm,
            name=product.name,
            unit="piece",
            price=Decimal("1.00"),
            vat_rate=Decimal("5.5"),
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(f"/ventes/{market.sale.pk}/")
    assert "Légume 39" in text(page)


def test_the_slot_of_an_order_is_not_changed_behind_its_back(browse, alpha, market):
    client = browse(alpha, alpha.member)
    _fill_cart(client, market, {market.tomatoes: 1})
    client.post(
        f"/ventes/{market.sale.pk}/commander/", {"slot": market.slots[0].pk, "payment_method": "cash"}
    )
    distribution = market.sale.distribution
    for response in (
        client.post(f"/retrait/{distribution.pk}/annuler/"),
        client.post(f"/retrait/{distribution.pk}/", {"slot": market.slots[1].pk}),
        client.get(f"/retrait/{distribution.pk}/"),
    ):
        assert response.status_code == 302 and response["Location"] == f"/ventes/{market.sale.pk}/"
    assert "le créneau se choisit avec votre commande" in text(client.get(f"/ventes/{market.sale.pk}/"))
    order = Order.objects.get()
    assert order.booking.slot_id == market.slots[0].pk
    assert [s.reserved for s in market.slots] == [1, 0, 0, 0]


def test_the_checkout_is_refused_to_accounts_that_are_not_members_here(browse, alpha, beta, market):
    """The checkout reads the membership with the sale (one statement) and checks the role itself: a
    producer or point staff without the member role, a member of another collective, a member whose
    membership is pending again and a visitor are turned away, on the page and on its form, and nothing is
    ordered."""

    suspended = Membership.objects.get(user=alpha.member, collective=alpha.collective)
    form = {"slot": market.slots[0].pk, "payment_method": PaymentMethod.CASH}
    url = f"/ventes/{market.sale.pk}/commander/"
    for who in (alpha.producer, alpha.staff, beta.member):
        client = browse(alpha, who)
        assert client.get(url).status_code == 403, who
        assert client.post(url, form).status_code == 403, who
    member = browse(alpha, alpha.member)
    assert _fill_cart(member, market, {market.tomatoes: 1}).status_code == 302
    suspended.status = Membership.Status.PENDING
    suspended.save()
    assert member.post(url, form).status_code == 403
    assert browse(alpha).post(url, form)["Location"].startswith("/accounts/login/")
    assert not Order.objects.exists()
    # A sale that does not exist is not found, whoever asks.
    suspended.status = Membership.Status.ACTIVE
    suspended.save()
    assert member.get("/ventes/99999/commander/").status_code == 404
    assert browse(alpha, beta.member).get("/ventes/99999/commander/").status_code == 404
