"""Placing, changing and cancelling orders: stock and slot places move together, or not at all."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders import events
from orders.checkout import selectors as checkout_selectors
from orders.checkout import services as checkout_services
from orders.checkout.services import OrderRefused
from orders.models import Offer, Order, OrderEvent, PaymentMethod, Sale
from pickup_points.models import PickupSlot, SlotBooking
from producers import services as producer_services


def _place(market, user, quantities, *, slot=None, payment=PaymentMethod.CASH):
    return checkout_services.order_place(
        sale_id=market.sale.pk,
        user=user,
        quantities=quantities,
        slot_id=(slot or market.slots[0]).pk,
        payment_method=payment,
    )


def _state(market):
    return (
        list(Offer.objects.filter(sale=market.sale).order_by("pk").values_list("sold", flat=True)),
        list(
            PickupSlot.objects.filter(distribution=market.sale.distribution)
            .order_by("pk")
            .values_list("reserved", flat=True)
        ),
        Order.objects.count(),
        SlotBooking.objects.count(),
    )


def test_placing_an_order_takes_stock_and_a_place_at_the_frozen_price(
    market, alpha, mailoutbox, django_capture_on_commit_callbacks
):
    producer_services.product_update(product=market.tomatoes.product, price=Decimal("3.10"))  # after the sale
    with django_capture_on_commit_callbacks(execute=True):
        order = _place(market, alpha.member, {market.tomatoes.pk: 4, market.beef.pk: 2, market.wine.pk: 1})

    market.tomatoes.refresh_from_db()
    assert market.tomatoes.sold == 4 and market.tomatoes.remaining == 6
    assert market.slots[0].reserved == 1
    lines = {line.name: line for line in order.lines.all()}
    assert lines["Tomates"].unit_price == Decimal("2.50") and lines["Tomates"].amount == Decimal("10.00")
    assert lines["Rôti de bœuf"].amount == Decimal("24.00")  # 2 × (24.00 €/kg × 0.5 kg), estimated
    assert lines["Rôti de bœuf"].is_variable_weight
    assert order.total == Decimal("43.90")
    assert order.basket_number == 1 and order.number == f"{market.sale.pk}-{order.pk:05d}"
    vat = {row.rate: row for row in checkout_selectors.vat_breakdown(order.lines.all())}
    assert vat[Decimal("5.5")].amount_incl_vat == Decimal("34.00") and vat[Decimal("5.5")].vat == Decimal(
        "1.77"
    )
    assert vat[Decimal("20.0")].vat == Decimal("1.65")

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [alpha.member.email]
    assert order.number in mail.subject and "Drive Alpha" in mail.subject
    assert "Tomates" in mail.body and "43,90" in mail.body and "Panier n° 1" in mail.body


@pytest.mark.parametrize(
    "tamper",
    [
        "other_sale_offer",
        "zero",
        "negative",
        "huge",
        "empty",
        "slot_of_other_sale",
        "payment_not_accepted",
        "card",
    ],
)
def test_tampered_orders_are_refused_and_change_nothing(market, alpha, tamper):
    from tests.orders.conftest import make_sale

    other = make_sale(market.point, [market.tomatoes.producer], title="Autre vente")
    other_offer = other.offers.first()
    quantities = {market.tomatoes.pk: 1}
    slot = market.slots[0]
    payment = PaymentMethod.CASH
    if tamper == "other_sale_offer":
        quantities = {other_offer.pk: 1}
    elif tamper == "zero":
        quantities = {market.tomatoes.pk: 0}
    elif tamper == "negative":
        quantities = {market.tomatoes.pk: -3}
    elif tamper == "huge":
        quantities = {market.cheese.pk: 100_000}
    elif tamper == "empty":
        quantities = {}
    elif tamper == "slot_of_other_sale":
        slot = PickupSlot.objects.filter(distribution=other.distribution).first()
    elif tamper == "payment_not_accepted":
        payment = PaymentMethod.CHEQUE
    elif tamper == "card":
        payment = PaymentMethod.CARD
    before = _state(market)
    with pytest.raises(OrderRefused):
        _place(market, alpha.member, quantities, slot=slot, payment=payment)
    assert _state(market) == before


def test_no_more_than_what_remains(market, alpha):
    with pytest.raises(OrderRefused, match="Il ne reste que 3 × « Vin de Buzet »"):
        _place(market, alpha.member, {market.wine.pk: 4, market.tomatoes.pk: 2})
    market.tomatoes.refresh_from_db()
    assert market.tomatoes.sold == 0  # the tomatoes taken before the wine failed were given back
    assert market.slots[0].reserved == 0

    _place(market, alpha.producer, {market.wine.pk: 3})
    with pytest.raises(OrderRefused, match="« Vin de Buzet » est épuisé"):
        _place(market, alpha.member, {market.wine.pk: 1})


def test_a_sale_not_open_refuses_orders(market, alpha):
    Sale.objects.filter(pk=market.sale.pk).update(
        opens_at=timezone.now() + timedelta(hours=1), closes_at=timezone.now() + timedelta(days=1)
    )
    with pytest.raises(OrderRefused, match="pas encore ouverte"):
        _place(market, alpha.member, {market.tomatoes.pk: 1})
    Sale.objects.filter(pk=market.sale.pk).update(
        opens_at=timezone.now() - timedelta(days=2), closes_at=timezone.now() - timedelta(minutes=1)
    )
    with pytest.raises(OrderRefused, match="Cette vente est close"):
        _place(market, alpha.member, {market.tomatoes.pk: 1})
    Sale.objects.filter(pk=market.sale.pk).update(
        is_published=False, closes_at=timezone.now() + timedelta(days=1)
    )
    with pytest.raises(OrderRefused, match="n'existe pas"):
        _place(market, alpha.member, {market.tomatoes.pk: 1})
    assert Order.objects.count() == 0


def test_one_order_per_member_and_sale(market, alpha):
    _place(market, alpha.member, {market.tomatoes.pk: 1})
    with pytest.raises(OrderRefused, match="déjà une commande"):
        _place(market, alpha.member, {market.cheese.pk: 1}, slot=market.slots[1])


def test_changing_an_order_moves_only_the_difference_and_the_slot(market, alpha):
    order = _place(market, alpha.member, {market.tomatoes.pk: 4, market.cheese.pk: 1})
    first, second = market.slots[0], market.slots[1]
    order = checkout_services.order_update(
        order_id=order.pk,
        user=alpha.member,
        quantities={market.tomatoes.pk: 6, market.wine.pk: 2},
        slot_id=second.pk,
        payment_method=PaymentMethod.FOOD_VOUCHER,
    )
    sold = dict(Offer.objects.filter(sale=market.sale).values_list("name", "sold"))
    assert sold == {"Tomates": 6, "Tomme": 0, "Rôti de bœuf": 0, "Vin de Buzet": 2}
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.reserved, second.reserved) == (0, 1)
    assert order.total == Decimal("34.80") and order.payment_method == PaymentMethod.FOOD_VOUCHER
    assert [event.kind for event in order.events.all()] == ["placed", "updated"]


def test_a_change_that_does_not_fit_changes_nothing(market, alpha):
    order = _place(market, alpha.member, {market.tomatoes.pk: 4})
    full_slot = market.slots[1]
    PickupSlot.objects.filter(pk=full_slot.pk).update(capacity=0)
    before = _state(market)
    with pytest.raises(OrderRefused, match="complet"):
        checkout_services.order_update(
            order_id=order.pk,
            user=alpha.member,
            quantities={market.tomatoes.pk: 5},
            slot_id=full_slot.pk,
            payment_method=PaymentMethod.CASH,
        )
    assert _state(market) == before
    assert Order.objects.get(pk=order.pk).lines.get().quantity == 4


def test_cancelling_releases_stock_and_place_at_once(
    market, alpha, mailoutbox, django_capture_on_commit_callbacks
):
    order = _place(market, alpha.member, {market.tomatoes.pk: 4, market.wine.pk: 3})
    with django_capture_on_commit_callbacks(execute=True):
        checkout_services.order_cancel(order_id=order.pk, user=alpha.member)
    assert list(Offer.objects.filter(sale=market.sale).values_list("sold", flat=True)) == [0, 0, 0, 0]
    assert market.slots[0].reserved == 0
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert "annulée" in mailoutbox[-1].subject
    # The wine is back on offer for someone else.
    _place(market, alpha.producer, {market.wine.pk: 3})


def test_someone_else_cannot_change_or_cancel_my_order(market, alpha):
    order = _place(market, alpha.member, {market.tomatoes.pk: 4})
    with pytest.raises(OrderRefused):
        checkout_services.order_cancel(order_id=order.pk, user=alpha.producer)
    with pytest.raises(OrderRefused):
        checkout_services.order_update(
            order_id=order.pk,
            user=alpha.producer,
            quantities={market.tomatoes.pk: 1},
            slot_id=market.slots[0].pk,
            payment_method=PaymentMethod.CASH,
        )
    assert Order.objects.get(pk=order.pk).is_placed


def test_after_closing_an_order_can_no_longer_change(market, alpha):
    order = _place(market, alpha.member, {market.tomatoes.pk: 4})
    Sale.objects.filter(pk=market.sale.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(OrderRefused, match="close"):
        checkout_services.order_cancel(order_id=order.pk, user=alpha.member)
    assert Order.objects.get(pk=order.pk).is_placed


def test_the_same_order_submitted_twice_is_one_order_and_one_email(
    market, alpha, browse, mailoutbox, django_capture_on_commit_callbacks
):
    """A double click on « Commander »: the second submission finds the order and changes nothing."""
    client = browse(alpha, alpha.member)
    form = {"slot": market.slots[0].pk, "payment_method": PaymentMethod.CASH}
    with django_capture_on_commit_callbacks(execute=True):
        for _click in range(2):
            client.post(f"/ventes/{market.sale.pk}/", {f"qty_{market.tomatoes.pk}": 2})
            assert client.post(f"/ventes/{market.sale.pk}/commander/", form).status_code == 302
    order = Order.objects.get(user=alpha.member)
    assert [event.kind for event in order.events.all()] == [OrderEvent.Kind.PLACED]
    assert [message.to for message in mailoutbox] == [[alpha.member.email]]
    assert order.number in mailoutbox[0].subject


def test_an_order_changes_status_only_by_an_allowed_move(market, alpha):
    order = _place(market, alpha.member, {market.tomatoes.pk: 1})
    with pytest.raises(ValueError):
        order.transition(to=Order.Status.CANCELLED, kind=OrderEvent.Kind.PLACED)
    with pytest.raises(ValueError):
        events.order_event(order=order, kind=OrderEvent.Kind.CANCELLED)  # a status change needs transition
    checkout_services.order_cancel(order_id=order.pk, user=alpha.member)
    order.refresh_from_db()
    assert [event.kind for event in order.events.all()] == [OrderEvent.Kind.PLACED, OrderEvent.Kind.CANCELLED]
    assert order.booking is None and order.basket_number is None
    with pytest.raises(ValueError):  # a cancelled order stays cancelled
        order.transition(to=Order.Status.CANCELLED, kind=OrderEvent.Kind.CANCELLED)
