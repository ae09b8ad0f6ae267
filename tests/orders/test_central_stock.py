"""One producer across two collectives: one catalogue, one central stock, never oversold (real threads)."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from marketplace.models import Collective, Membership, Role, SharedProduct, User
from orders.checkout import services as checkout_services
from orders.closing import jobs
from orders.models import Offer, Order, PaymentMethod
from producers import shared_catalogue
from producers.models import Product
from tests.conftest import words
from tests.orders.conftest import Side


def _member(collective: Collective, email: str) -> User:
    user = User.objects.create_user(email=email, password="x")
    Membership.objects.create(user=user, collective=collective, roles=[Role.MEMBER])
    return user


def _order(side: Side, user: User, quantity: int, slot) -> Order:
    with tenant_context(side.collective):
        return checkout_services.order_place(
            sale_id=side.sale.pk,
            user=user,
            quantities={side.offer.pk: quantity},
            slot_id=slot.pk,
            payment_method=PaymentMethod.CASH,
        )


def _shared(two_shops) -> SharedProduct:
    return SharedProduct.objects.get(pk=two_shops["shared"].pk)


@pytest.mark.django_db(transaction=True)
def test_two_collectives_racing_never_oversell_the_central_stock(two_shops):
    """Twenty members, ten in each collective, want 1 of the 10 crottins at the same moment."""
    sides = [two_shops["a"], two_shops["b"]]
    racers = [(sides[i % 2], _member(sides[i % 2].collective, f"racer{i}@race.test")) for i in range(20)]
    slots = {side.collective.pk: side.slots()[0] for side in sides}
    barrier = threading.Barrier(len(racers))
    outcomes, unexpected = [], []

    def order(side, user):
        try:
            barrier.wait()
            _order(side, user, 1, slots[side.collective.pk])
            outcomes.append(side.collective.slug)
        except checkout_services.OrderRefused as refusal:
            outcomes.append(str(refusal))
        except Exception as error:  # noqa: BLE001 - any other error fails the test
            unexpected.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=order, args=racer) for racer in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert unexpected == []
    placed = [outcome for outcome in outcomes if outcome in ("alpha", "beta")]
    assert len(placed) == 10
    assert set(outcomes) - {"alpha", "beta"} == {"« Crottin frais » est épuisé : retirez-le de votre panier."}
    shared = _shared(two_shops)
    assert (shared.stock, shared.reserved, shared.available) == (10, 10, 0)
    ordered = 0
    for side in sides:
        with tenant_context(side.collective):
            ordered += Order.objects.filter(status=Order.Status.PLACED).count()
            offer = Offer.objects.select_related("product__shared_product").get(pk=side.offer.pk)
            assert offer.remaining == 0  # the sale page of each collective says « Épuisé »
    assert ordered == 10


@pytest.mark.django_db(transaction=True)
def test_an_order_in_one_collective_lowers_what_the_other_may_sell(two_shops):
    a, b = two_shops["a"], two_shops["b"]
    _order(a, _member(a.collective, "m1@race.test"), 7, a.slots()[0])
    with pytest.raises(checkout_services.OrderRefused) as refusal:
        _order(b, _member(b.collective, "m2@race.test"), 4, b.slots()[0])
    assert str(refusal.value) == "Il ne reste que 3 × « Crottin frais » : modifiez la quantité."
    _order(b, User.objects.get(email="m2@race.test"), 3, b.slots()[0])
    assert _shared(two_shops).available == 0


def test_cancel_release_and_delivery_move_the_central_stock(two_shops):
    a, b = two_shops["a"], two_shops["b"]
    first = _order(a, _member(a.collective, "m1@x.test"), 4, a.slots()[0])
    second = _order(b, _member(b.collective, "m2@x.test"), 3, b.slots()[0])
    assert _shared(two_shops).reserved == 7
    with tenant_context(a.collective):
        checkout_services.order_cancel(order_id=first.pk, user=first.user)
    assert (_shared(two_shops).reserved, _shared(two_shops).available) == (3, 7)
    with tenant_context(b.collective):
        Order.objects.filter(pk=second.pk).update(payment_status="awaiting")
        assert checkout_services.order_release(order_id=second.pk)
    assert (_shared(two_shops).reserved, _shared(two_shops).available) == (0, 10)

    kept = _order(b, User.objects.get(email="m2@x.test"), 2, b.slots()[0])
    assert kept.is_placed and _shared(two_shops).available == 8
    with tenant_context(b.collective):
        after = b.sale.distribution_ends_at + timedelta(minutes=1)
        assert jobs.sale_close(sale_id=b.sale.pk, now=b.sale.closes_at + timedelta(minutes=1))
        assert jobs.sale_stock_deliver(sale_id=b.sale.pk, now=after)
        assert not jobs.sale_stock_deliver(sale_id=b.sale.pk, now=after)  # once
    shared = _shared(two_shops)
    assert (shared.stock, shared.reserved, shared.available) == (8, 0, 8)


def test_an_order_without_shared_products_takes_no_central_statement(two_shops):
    """perf-checkout's budget: the central stock costs statements only to orders holding shared products."""
    a = two_shops["a"]
    member = _member(a.collective, "plain@x.test")
    slot = a.slots()[0]
    with tenant_context(a.collective):
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as plain:
            checkout_services.order_place(
                sale_id=a.sale.pk,
                user=member,
                quantities={two_shops["yaourt"].pk: 1},
                slot_id=slot.pk,
                payment_method=PaymentMethod.CASH,
            )
        other = _member(a.collective, "shared@x.test")
        with CaptureQueriesContext(connection) as shared:
            checkout_services.order_place(
                sale_id=a.sale.pk,
                user=other,
                quantities={a.offer.pk: 1},
                slot_id=slot.pk,
                payment_method=PaymentMethod.CASH,
            )
    assert not any("marketplace_sharedproduct" in query["sql"] for query in plain.captured_queries)

    def statements(captured):
        return [query["sql"] for query in captured.captured_queries if not query["sql"].startswith("SET ")]

    central = [sql for sql in statements(shared) if "marketplace_sharedproduct" in sql]
    assert len(central) == 2 and "FOR UPDATE" in central[0] and central[1].startswith("UPDATE")
    assert len(statements(shared)) - len(statements(plain)) == 2


def test_a_copy_follows_the_shared_product_but_keeps_its_price(two_shops):
    shared = two_shops["shared"]
    claire = shared.owner
    shared_catalogue.shared_product_update(
        shared=shared, user=claire, stock=12, name="Crottin frais au lait cru", price=Decimal("2.30")
    )
    names = {}
    for side in (two_shops["a"], two_shops["b"]):
        with tenant_context(side.collective):
            product = Product.objects.get(shared_product=shared)
            names[side.collective.slug] = (product.name, product.price)
    assert names == {
        "alpha": ("Crottin frais au lait cru", Decimal("2.20")),
        "beta": ("Crottin frais au lait cru", Decimal("2.40")),
    }
    assert _shared(two_shops).stock == 12


def test_the_stock_cannot_go_below_what_is_ordered(two_shops):
    a = two_shops["a"]
    _order(a, _member(a.collective, "m1@x.test"), 6, a.slots()[0])
    shared = two_shops["shared"]
    with pytest.raises(shared_catalogue.SharingRefused) as refusal:
        shared_catalogue.shared_product_update(shared=shared, user=shared.owner, stock=5)
    assert str(refusal.value) == (
        "6 sont déjà commandés et pas encore livrés : le stock ne peut pas descendre en dessous."
    )
    assert _shared(two_shops).stock == 10


def test_a_product_joining_the_shared_catalogue_brings_its_open_orders(alpha, two_shops):
    a = two_shops["a"]
    yaourt = two_shops["yaourt"]
    with tenant_context(a.collective):
        checkout_services.order_place(
            sale_id=a.sale.pk,
            user=_member(a.collective, "y@x.test"),
            quantities={yaourt.pk: 5},
            slot_id=a.slots()[0].pk,
            payment_method=PaymentMethod.CASH,
        )
    shared = shared_catalogue.shared_product_create_from(
        collective=alpha.collective, product_id=yaourt.product_id, user=alpha.producer
    )
    assert (shared.stock, shared.reserved) == (None, 5)
    with tenant_context(a.collective):
        order = Order.objects.get(user__email="y@x.test")
        checkout_services.order_cancel(order_id=order.pk, user=order.user)
    assert SharedProduct.objects.get(pk=shared.pk).reserved == 0


def test_the_other_collectives_sale_page_shows_what_the_central_stock_has_left(two_shops, browse):
    a, b = two_shops["a"], two_shops["b"]
    _order(a, _member(a.collective, "early@x.test"), 4, a.slots()[0])
    _order(a, _member(a.collective, "early2@x.test"), 3, a.slots()[1])
    member = _member(b.collective, "late@x.test")
    page = words(browse(b.collective.slug + ".localhost", member).get(f"/ventes/{b.sale.pk}/"))
    assert "plus que 3" in page  # 10 crottins in all, 7 ordered in the other collective
    client = browse(b.collective.slug + ".localhost", member)
    response = client.post(f"/ventes/{b.sale.pk}/", {f"qty_{b.offer.pk}": "4"})
    # The cart keeps no more than the central stock has left, and the checkout page says so.
    assert response.status_code == 302 and response["Location"] == f"/ventes/{b.sale.pk}/commander/"
    assert "Il ne reste que 3 × « Crottin frais » pour vous : votre panier en compte maintenant 3." in words(
        client.get(response["Location"])
    )
