"""Waiting lists on sold-out products (issue 18, item 5): a member joins the list of a sold-out product from
the sale page (no JavaScript needed), for a number of units; units freed are held for the first in line
(e-mail), added to their order in one click (or to their cart), passed to the next when not taken in time,
given back at closing; the other collective sees none of it. The race: test_waiting_list_race.py."""

from datetime import timedelta

import pytest
import time_machine

from marketplace.models import Membership, Role, User
from orders.checkout import services as checkout_services
from orders.closing import due, jobs
from orders.models import Offer, OfferWait, Order, PaymentMethod
from orders.sales import services as sale_services
from orders.waiting import offers as offer_waits
from tests.conftest import PASSWORD, text, words


def _member(alpha, name: str) -> User:
    user = User.objects.create_user(
        email=f"{name.lower()}@epuise.test", password=PASSWORD, first_name=name, last_name="Epuise"
    )
    Membership.objects.create(user=user, collective=alpha.collective, roles=[Role.MEMBER])
    return user


def _order(market, user, quantities, slot=None) -> Order:
    return checkout_services.order_place(
        sale_id=market.sale.pk,
        user=user,
        quantities=quantities,
        slot_id=(slot or market.slots[1]).pk,
        payment_method=PaymentMethod.CASH,
    )


def _sold(offer) -> int:
    return Offer.objects.get(pk=offer.pk).sold


@pytest.fixture
def sold_out(market, alpha):
    """The 3 bottles of wine are all Anna's; Bruno has an order (a cheese), Chloé and Denis none."""
    people = {name: _member(alpha, name) for name in ["Anna", "Bruno", "Chloe", "Denis"]}
    anna = _order(market, people["Anna"], {market.wine.pk: 3})
    bruno = _order(market, people["Bruno"], {market.cheese.pk: 1})
    return people, anna, bruno


def _lower(market, order, user, quantities, capture):
    with capture(execute=True):  # the follow-up offering the freed units runs after the commit
        return checkout_services.order_update(
            order_id=order.pk,
            user=user,
            quantities=quantities,
            slot_id=order.booking.slot_id,
            payment_method=order.payment_method,
        )


def test_a_member_joins_a_sold_out_products_list_from_the_sale_page_and_sees_their_place(
    browse, alpha, market, sold_out
):
    people, _anna, _bruno = sold_out
    bruno = browse(alpha, people["Bruno"])
    shop = words(bruno.get(f"/ventes/{market.sale.pk}/"))
    assert "Épuisé" in shop and "M'inscrire sur la liste d'attente" in shop and "Quantité souhaitée" in shop
    url = f"/ventes/{market.sale.pk}/produits/{market.wine.pk}/liste-attente/"
    # The button is part of the cart's form: what was typed meanwhile stays in the cart.
    joined = bruno.post(url, {f"wait_{market.wine.pk}": "2", f"qty_{market.tomatoes.pk}": "4"}, follow=True)
    page = words(joined)
    assert "Vous êtes sur la liste d'attente : si ce produit se libère, il vous est réservé" in page
    assert "Vous êtes sur la liste d'attente : vous recevrez un e-mail s'il se libère." in page
    assert f'name="qty_{market.tomatoes.pk}" id="id_qty_{market.tomatoes.pk}" value="4"' in text(joined)
    mine = words(bruno.get("/mes-listes-attente/"))
    assert "Vin de Buzet" in mine and "2 souhaités" in mine and "Vous êtes le premier de la liste." in mine

    chloe = browse(alpha, people["Chloe"])
    page = words(chloe.post(url, {f"wait_{market.wine.pk}": ""}, follow=True))  # empty: one
    assert "Vous êtes sur la liste d'attente" in page
    mine = words(chloe.get("/mes-listes-attente/"))
    assert "1 souhaité" in mine and "Vous êtes n° 2 : 1 personne avant vous." in mine
    assert "Bruno" not in mine  # never another member's name
    again = words(chloe.post(url, {f"wait_{market.wine.pk}": "1"}, follow=True))
    assert "Vous êtes déjà sur la liste d'attente de « Vin de Buzet »." in again

    denis = browse(alpha, people["Denis"])
    for typed in ["douze", "0", "-1", "100000", "1,5"]:
        refused = words(denis.post(url, {f"wait_{market.wine.pk}": typed}, follow=True))
        assert "Indiquez une quantité de 1 à 99 pour la liste d'attente." in refused, typed
    cheese = f"/ventes/{market.sale.pk}/produits/{market.cheese.pk}/liste-attente/"
    refused = words(denis.post(cheese, follow=True))
    assert "« Tomme » n'est pas épuisé : ajoutez-le directement à votre panier." in refused
    assert OfferWait.objects.filter(user=people["Denis"]).count() == 0

    wait = OfferWait.objects.get(user=people["Chloe"])
    left = words(chloe.post(f"/mes-listes-attente/produits/{wait.pk}/quitter/", follow=True))
    assert "Vous avez quitté la liste d'attente." in left
    assert list(OfferWait.objects.filter(status=OfferWait.Status.WAITING).values_list("user", flat=True)) == [
        people["Bruno"].pk
    ]


def test_freed_units_are_held_for_the_first_in_line_who_adds_them_to_their_order_in_one_click(
    browse, alpha, market, sold_out, mailoutbox, django_capture_on_commit_callbacks
):
    people, anna, bruno_order = sold_out
    offer_waits.offer_wait_join(offer_id=market.wine.pk, user=people["Bruno"], wanted=2)
    offer_waits.offer_wait_join(offer_id=market.wine.pk, user=people["Chloe"], wanted=2)
    mailoutbox.clear()
    _lower(market, anna, people["Anna"], {market.wine.pk: 1}, django_capture_on_commit_callbacks)
    offered = [message for message in mailoutbox if "s'est libéré pour vous" in message.subject]
    assert [message.to for message in offered] == [[people["Bruno"].email]]
    assert "2 vous sont réservés" in offered[0].body and "/mes-listes-attente/" in offered[0].body
    assert _sold(market.wine) == 3  # held: nobody else can take them
    with pytest.raises(checkout_services.OrderRefused, match="épuisé"):
        _order(market, people["Denis"], {market.wine.pk: 1})
    denis_shop = words(browse(alpha, people["Denis"]).get(f"/ventes/{market.sale.pk}/"))
    assert "Épuisé" in denis_shop

    bruno = browse(alpha, people["Bruno"])
    assert "2 réservés pour vous jusqu'au" in words(bruno.get(f"/ventes/{market.sale.pk}/"))
    page = words(bruno.get("/mes-listes-attente/"))
    assert "Il s'est libéré : 2 vous sont réservés jusqu'au" in page
    wait = OfferWait.objects.get(user=people["Bruno"])
    added = bruno.post(f"/mes-listes-attente/produits/{wait.pk}/accepter/", follow=True)
    assert "C'est fait : ils sont ajoutés à votre commande." in words(added)
    lines = dict(Order.objects.get(pk=bruno_order.pk).lines.values_list("offer_id", "quantity"))
    assert lines == {market.cheese.pk: 1, market.wine.pk: 2}
    assert _sold(market.wine) == 3  # Anna 1 + Bruno 2: the held units were not counted twice
    assert OfferWait.objects.get(pk=wait.pk).status == OfferWait.Status.ACCEPTED
    again = words(bruno.post(f"/mes-listes-attente/produits/{wait.pk}/accepter/", follow=True))
    assert "Ces produits ne vous sont plus réservés." in again
    assert "Vous êtes le premier de la liste." in words(
        browse(alpha, people["Chloe"]).get("/mes-listes-attente/")
    )

    # Anna cancels her last bottle: it is held for Chloé (one of the two she asked for).
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        checkout_services.order_cancel(order_id=anna.pk, user=people["Anna"])
    chloe_wait = OfferWait.objects.get(user=people["Chloe"])
    assert (chloe_wait.status, chloe_wait.held) == (OfferWait.Status.OFFERED, 1)
    assert "1 vous est réservé" in mailoutbox[-1].body and _sold(market.wine) == 3


def test_a_member_without_an_order_gets_the_held_units_in_the_cart_and_the_checkout_takes_them(
    browse, alpha, market, sold_out, django_capture_on_commit_callbacks
):
    people, anna, _bruno = sold_out
    offer_waits.offer_wait_join(offer_id=market.wine.pk, user=people["Chloe"], wanted=1)
    _lower(market, anna, people["Anna"], {market.wine.pk: 2}, django_capture_on_commit_callbacks)
    wait = OfferWait.objects.get(user=people["Chloe"])
    chloe = browse(alpha, people["Chloe"])
    shop = chloe.post(f"/mes-listes-attente/produits/{wait.pk}/accepter/")
    assert shop.status_code == 302 and shop["Location"] == f"/ventes/{market.sale.pk}/"
    chloe.post(f"/mes-listes-attente/produits/{wait.pk}/accepter/")  # a second click adds nothing
    page = chloe.get(f"/ventes/{market.sale.pk}/")
    assert f'name="qty_{market.wine.pk}" id="id_qty_{market.wine.pk}" value="1" min="0" max="1"' in text(page)
    # Two would be more than is held for her and more than is left for anyone: her cart keeps one.
    too_many = chloe.post(f"/ventes/{market.sale.pk}/", {f"qty_{market.wine.pk}": "2"})
    assert too_many.status_code == 302
    said = words(chloe.get(too_many["Location"]))
    assert "Il ne reste que 1 × « Vin de Buzet » pour vous : votre panier en compte maintenant 1." in said
    chloe.post(f"/ventes/{market.sale.pk}/", {f"qty_{market.wine.pk}": "1", f"qty_{market.cheese.pk}": "1"})
    placed = chloe.post(
        f"/ventes/{market.sale.pk}/commander/",
        {"slot": market.slots[2].pk, "payment_method": PaymentMethod.CASH},
    )
    assert placed.status_code == 302
    order = Order.objects.get(user=people["Chloe"])
    assert dict(order.lines.values_list("offer_id", "quantity")) == {market.wine.pk: 1, market.cheese.pk: 1}
    assert _sold(market.wine) == 3
    assert OfferWait.objects.get(pk=wait.pk).status == OfferWait.Status.ACCEPTED


def test_units_not_taken_in_time_go_to_the_next_in_line(
    market, sold_out, mailoutbox, django_capture_on_commit_callbacks
):
    people, anna, _bruno = sold_out
    for name in ["Bruno", "Chloe"]:
        offer_waits.offer_wait_join(offer_id=market.wine.pk, user=people[name])
    _lower(market, anna, people["Anna"], {market.wine.pk: 2}, django_capture_on_commit_callbacks)
    offered = OfferWait.objects.get(user=people["Bruno"])
    assert offered.offered_until == offered.offered_at + timedelta(minutes=120)
    assert due.collective_next_due() <= offered.offered_until  # the clock comes when the hold ends
    mailoutbox.clear()
    with time_machine.travel(offered.offered_until - timedelta(minutes=1), tick=False):
        assert jobs.clock_run()["product_waits_expired"] == 0
    with (
        time_machine.travel(offered.offered_until + timedelta(seconds=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert jobs.clock_run()["product_waits_expired"] == 1
    assert OfferWait.objects.get(pk=offered.pk).status == OfferWait.Status.EXPIRED
    assert OfferWait.objects.get(user=people["Chloe"]).status == OfferWait.Status.OFFERED
    assert _sold(market.wine) == 3  # still held, now for Chloé
    subjects = {message.to[0]: message.subject for message in mailoutbox}
    assert "est passé au suivant" in subjects[people["Bruno"].email]
    assert "s'est libéré pour vous" in subjects[people["Chloe"].email]
    with pytest.raises(checkout_services.OrderRefused, match="ne vous sont plus réservés"):
        checkout_services.offer_wait_accept(wait_id=offered.pk, user=people["Bruno"])


def test_held_units_go_back_at_closing_and_every_entry_lapses(
    market, sold_out, mailoutbox, django_capture_on_commit_callbacks
):
    people, anna, _bruno = sold_out
    for name in ["Bruno", "Chloe"]:
        offer_waits.offer_wait_join(offer_id=market.wine.pk, user=people[name])
    with time_machine.travel(market.sale.closes_at - timedelta(minutes=30), tick=False):
        _lower(market, anna, people["Anna"], {market.wine.pk: 2}, django_capture_on_commit_callbacks)
    assert OfferWait.objects.get(user=people["Bruno"]).offered_until == market.sale.closes_at
    mailoutbox.clear()
    with (
        time_machine.travel(market.sale.closes_at + timedelta(seconds=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert jobs.sale_close(sale_id=market.sale.pk)
    assert set(OfferWait.objects.values_list("status", flat=True)) == {OfferWait.Status.LAPSED}
    assert _sold(market.wine) == 2  # what Anna ordered, the held bottle given back
    lapsed = sorted(message.to[0] for message in mailoutbox if "fin de la liste d'attente" in message.subject)
    assert lapsed == sorted([people["Bruno"].email, people["Chloe"].email])


def test_a_quantity_raised_by_the_coordinator_and_a_hold_declined_go_to_the_list(
    browse, alpha, market, sold_out, django_capture_on_commit_callbacks
):
    people, _anna, _bruno = sold_out
    for name in ["Bruno", "Chloe"]:
        offer_waits.offer_wait_join(offer_id=market.wine.pk, user=people[name])
    row = sale_services.OfferRow(
        product_id=market.wine.product_id, included=True, quantity=4, price=market.wine.price
    )
    with django_capture_on_commit_callbacks(execute=True):
        sale_services.sale_offers_update(sale_id=market.sale.pk, rows=[row])
    bruno_wait = OfferWait.objects.get(user=people["Bruno"])
    assert bruno_wait.status == OfferWait.Status.OFFERED and _sold(market.wine) == 4
    # Bruno lets it go: the bottle is held for Chloé at once.
    bruno = browse(alpha, people["Bruno"])
    bruno.post(f"/mes-listes-attente/produits/{bruno_wait.pk}/quitter/")
    assert OfferWait.objects.get(pk=bruno_wait.pk).status == OfferWait.Status.LEFT
    assert OfferWait.objects.get(user=people["Chloe"]).status == OfferWait.Status.OFFERED
    assert _sold(market.wine) == 4


def test_other_roles_and_the_other_collective_see_none_of_it(browse, alpha, beta, market, sold_out):
    people, _anna, _bruno = sold_out
    wait = offer_waits.offer_wait_join(offer_id=market.wine.pk, user=people["Bruno"])
    url = f"/ventes/{market.sale.pk}/produits/{market.wine.pk}/liste-attente/"
    producer = browse(alpha, alpha.producer)
    assert producer.post(url).status_code == 403
    assert "M'inscrire sur la liste d'attente" not in words(producer.get(f"/ventes/{market.sale.pk}/"))
    assert "M'inscrire sur la liste d'attente" not in words(browse(alpha).get(f"/ventes/{market.sale.pk}/"))
    chloe = browse(alpha, people["Chloe"])
    assert chloe.post(f"/mes-listes-attente/produits/{wait.pk}/quitter/").status_code == 404
    assert chloe.post(f"/mes-listes-attente/produits/{wait.pk}/accepter/").status_code == 404
    # An offer of this sale under another sale's address is not found.
    assert (
        chloe.post(f"/ventes/{market.sale.pk + 1000}/produits/{market.wine.pk}/liste-attente/").status_code
        == 404
    )
    outsider = browse(beta, beta.member)
    assert outsider.post(url).status_code == 404
    assert outsider.post(f"/mes-listes-attente/produits/{wait.pk}/accepter/").status_code == 404
    assert "Vin de Buzet" not in words(outsider.get("/mes-listes-attente/"))
    coordinator = words(browse(alpha, alpha.coordinator).get(f"/ventes/{market.sale.pk}/commandes/"))
    assert (
        "Listes d'attente des produits épuisés : 1 en attente, 0 réservation(s) en cours d'offre, "
        "sur 1 produit." in coordinator
    )
    assert OfferWait.objects.count() == 1


def test_units_freed_one_after_the_other_fill_the_first_in_lines_request_before_the_next_gets_any(
    market, sold_out, mailoutbox, django_capture_on_commit_callbacks
):
    people, anna, _bruno = sold_out
    offer_waits.offer_wait_join(offer_id=market.wine.pk, user=people["Bruno"], wanted=2)
    offer_waits.offer_wait_join(offer_id=market.wine.pk, user=people["Chloe"], wanted=1)
    mailoutbox.clear()
    anna = _lower(market, anna, people["Anna"], {market.wine.pk: 2}, django_capture_on_commit_callbacks)
    first = OfferWait.objects.get(user=people["Bruno"])
    assert (first.status, first.held) == (OfferWait.Status.OFFERED, 1)
    assert "1 vous est réservé" in mailoutbox[-1].body
    mailoutbox.clear()
    _lower(market, anna, people["Anna"], {market.wine.pk: 1}, django_capture_on_commit_callbacks)
    topped = OfferWait.objects.get(user=people["Bruno"])
    assert (topped.status, topped.held) == (OfferWait.Status.OFFERED, 2)
    assert topped.offered_until == first.offered_until  # the deadline he was given stays
    offered = [message for message in mailoutbox if "s'est libéré pour vous" in message.subject]
    assert [message.to for message in offered] == [[people["Bruno"].email]]
    assert "2 vous sont réservés" in offered[0].body
    assert OfferWait.objects.get(user=people["Chloe"]).status == OfferWait.Status.WAITING
    assert _sold(market.wine) == 3 and offer_waits.free_units_offer() == 0


def test_a_member_whose_order_holds_the_last_units_can_wait_for_more(
    browse, alpha, market, sold_out, django_capture_on_commit_callbacks
):
    """Anna's order holds the 3 bottles: she sees her quantity and can still join the list for 2 more;
    when Bruno's freed bottle is held for her, one click adds it to her order (4 bottles)."""
    people, anna_order, _bruno = sold_out
    anna = browse(alpha, people["Anna"])
    page = anna.get(f"/ventes/{market.sale.pk}/")
    shown = text(page)
    assert f'name="qty_{market.wine.pk}" id="id_qty_{market.wine.pk}" value="3"' in shown
    assert "M'inscrire sur la liste d'attente" in words(page)
    url = f"/ventes/{market.sale.pk}/produits/{market.wine.pk}/liste-attente/"
    joined = anna.post(url, {f"wait_{market.wine.pk}": "2", f"qty_{market.wine.pk}": "3"}, follow=True)
    assert "Vous êtes sur la liste d'attente : vous recevrez un e-mail s'il se libère." in words(joined)
    assert OfferWait.objects.get(user=people["Anna"]).wanted == 2
    # A coordinator adds a bottle to the sale: it is held for Anna.
    row = sale_services.OfferRow(
        product_id=market.wine.product_id, included=True, quantity=4, price=market.wine.price
    )
    with django_capture_on_commit_callbacks(execute=True):
        sale_services.sale_offers_update(sale_id=market.sale.pk, rows=[row])
    wait = OfferWait.objects.get(user=people["Anna"])
    assert (wait.status, wait.held) == (OfferWait.Status.OFFERED, 1)
    anna.post(f"/mes-listes-attente/produits/{wait.pk}/accepter/")
    assert dict(Order.objects.get(pk=anna_order.pk).lines.values_list("offer_id", "quantity")) == {
        market.wine.pk: 4
    }
    assert _sold(market.wine) == 4
