"""Many members racing for the last units and the last places, on the real PostgreSQL, with real threads."""

import threading

import pytest
from django.db import connection
from django.db.models import Sum

from marketplace.models import Membership, Role, User
from orders.checkout import services as checkout_services
from orders.models import Offer, Order, OrderLine, PaymentMethod
from pickup_points.models import PickupSlot, SlotBooking

pytestmark = pytest.mark.django_db(transaction=True)


def _race(market, alpha, wanted, slot_for, people=30):
    members = []
    for i in range(people):
        user = User.objects.create_user(email=f"racer{i}@race.test", password="x")
        Membership.objects.create(user=user, collective=alpha.collective, roles=[Role.MEMBER])
        members.append(user)
    barrier = threading.Barrier(people)
    outcomes, unexpected = [], []

    def order(index, user):
        connection.set_tenant(alpha.collective)
        try:
            barrier.wait()
            checkout_services.order_place(
                sale_id=market.sale.pk,
                user=user,
                quantities=wanted,
                slot_id=slot_for(index).pk,
                payment_method=PaymentMethod.CASH,
            )
            outcomes.append("placed")
        except checkout_services.OrderRefused:
            outcomes.append("refused")
        except Exception as error:  # noqa: BLE001 - any other error is a failure of the test
            unexpected.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=order, args=(i, user)) for i, user in enumerate(members)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    connection.set_tenant(alpha.collective)
    assert unexpected == []
    return outcomes


def _assert_invariants(market):
    for offer in Offer.objects.filter(sale=market.sale):
        ordered = (
            OrderLine.objects.filter(offer=offer, order__status=Order.Status.PLACED).aggregate(
                total=Sum("quantity")
            )["total"]
            or 0
        )
        assert offer.sold == ordered
        assert offer.quantity is None or offer.sold <= offer.quantity
    for slot in PickupSlot.objects.filter(distribution=market.sale.distribution):
        assert slot.reserved == SlotBooking.objects.filter(slot=slot).count() <= slot.capacity
    assert Order.objects.filter(status=Order.Status.PLACED).count() == SlotBooking.objects.count()
    # Every basket numbered once, from 1 up, and the order shows its booking's number.
    numbers = sorted(SlotBooking.objects.values_list("basket_number", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))
    for order in Order.objects.filter(status=Order.Status.PLACED).select_related("booking"):
        assert order.booking is not None and order.basket_number == order.booking.basket_number


def test_thirty_members_race_for_ten_units(market, alpha):
    slots = market.slots  # 4 slots × 3 places: enough room, the stock is the limit
    outcomes = _race(
        market, alpha, {market.tomatoes.pk: 1, market.cheese.pk: 2}, lambda i: slots[i % len(slots)]
    )
    assert outcomes.count("placed") == 10
    assert outcomes.count("refused") == 20
    market.tomatoes.refresh_from_db()
    assert market.tomatoes.sold == 10 and market.tomatoes.remaining == 0
    _assert_invariants(market)


def test_thirty_members_race_for_the_three_places_of_one_slot(market, alpha):
    slot = market.slots[0]
    outcomes = _race(market, alpha, {market.cheese.pk: 1}, lambda i: slot)
    assert outcomes.count("placed") == 3
    slot.refresh_from_db()
    assert slot.reserved == 3
    market.cheese.refresh_from_db()
    assert market.cheese.sold == 3  # the stock of the 27 refused orders was given back
    _assert_invariants(market)
