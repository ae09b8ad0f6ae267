"""Several places of a full slot (or units of a sold-out product) freed at the same moment, on the real
PostgreSQL with real threads: each goes to a different member of the waiting list, in line order, never
beyond the slot's capacity (or the product's quantity)."""

import threading

import pytest
from django.db import connection

from marketplace.models import Membership, Role, User
from orders.checkout import services as checkout_services
from orders.models import Offer, OfferWait, PaymentMethod, SlotWait
from orders.waiting import offers as offer_waits
from orders.waiting import selectors as waiting_selectors
from orders.waiting import services as waiting_services
from pickup_points.models import PickupSlot, SlotBooking

pytestmark = pytest.mark.django_db(transaction=True)


def _members(alpha, prefix: str, count: int) -> list[User]:
    people = []
    for index in range(count):
        user = User.objects.create_user(email=f"{prefix}{index}@race.test", password="x")
        Membership.objects.create(user=user, collective=alpha.collective, roles=[Role.MEMBER])
        people.append(user)
    return people


def _place(market, user, offer, slot, quantity: int = 1):
    return checkout_services.order_place(
        sale_id=market.sale.pk,
        user=user,
        quantities={offer.pk: quantity},
        slot_id=slot.pk,
        payment_method=PaymentMethod.CASH,
    )


def _cancel_at_once(alpha, orders, holders) -> list[str]:
    """Each order cancelled by its member in a thread of its own, all released at the same moment (their
    follow-ups then offer what they freed); the errors met, none expected."""
    barrier = threading.Barrier(len(orders))
    unexpected: list[str] = []

    def cancel(order, user):
        connection.set_tenant(alpha.collective)
        try:
            barrier.wait()
            checkout_services.order_cancel(order_id=order.pk, user=user)
        except Exception as error:  # noqa: BLE001 - any error fails the test
            unexpected.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=cancel, args=pair) for pair in zip(orders, holders, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    connection.set_tenant(alpha.collective)
    return unexpected


def test_three_places_freed_at_once_go_to_the_first_three_in_line(market, alpha):
    slot = market.slots[0]  # 3 places
    holders = _members(alpha, "holder", 3)
    orders = [_place(market, user, market.cheese, slot) for user in holders]
    waiting = _members(alpha, "waiter", 5)
    for user in waiting:
        waiting_services.slot_wait_join(slot_id=slot.pk, user=user)
    assert _cancel_at_once(alpha, orders, holders) == []
    offered = list(SlotWait.objects.filter(status=SlotWait.Status.OFFERED).values_list("user_id", flat=True))
    assert sorted(offered) == sorted(
        user.pk for user in waiting[:3]
    )  # three different members, first in line
    assert list(
        SlotWait.objects.filter(status=SlotWait.Status.WAITING)
        .order_by("joined_at")
        .values_list("user_id", flat=True)
    ) == [user.pk for user in waiting[3:]]
    slot = PickupSlot.objects.get(pk=slot.pk)
    assert slot.reserved == 3 == slot.capacity and SlotBooking.objects.filter(slot=slot).count() == 0
    assert waiting_services.free_places_offer() == 0  # nothing left over to give twice
    # Nobody else gets in while the places are held.
    with pytest.raises(checkout_services.OrderRefused, match="complet"):
        _place(market, holders[0], market.cheese, slot)


def test_three_bottles_freed_at_once_go_to_the_first_in_line_once_each(market, alpha):
    """The 3 bottles of wine held by three members who cancel at the same moment: the first in line asked
    for 2 and gets 2, the next 1; the others still wait; nothing is offered twice, nothing oversold."""
    holders = _members(alpha, "bottle", 3)
    orders = [_place(market, user, market.wine, market.slots[index]) for index, user in enumerate(holders)]
    waiting = _members(alpha, "thirsty", 4)
    for user, wanted in zip(waiting, [2, 1, 1, 1], strict=True):
        offer_waits.offer_wait_join(offer_id=market.wine.pk, user=user, wanted=wanted)
    assert _cancel_at_once(alpha, orders, holders) == []
    held = dict(OfferWait.objects.filter(status=OfferWait.Status.OFFERED).values_list("user_id", "held"))
    assert held == {waiting[0].pk: 2, waiting[1].pk: 1}
    assert list(
        OfferWait.objects.filter(status=OfferWait.Status.WAITING)
        .order_by("joined_at")
        .values_list("user_id", flat=True)
    ) == [user.pk for user in waiting[2:]]
    assert Offer.objects.get(pk=market.wine.pk).sold == 3  # all held, none sold twice
    assert offer_waits.free_units_offer() == 0  # nothing left over to give twice
    with pytest.raises(checkout_services.OrderRefused, match="épuisé"):
        _place(market, holders[0], market.wine, market.slots[0])


def test_a_hold_topped_up_while_its_member_checks_out_gives_the_extra_unit_to_the_next_in_line(
    market, alpha, monkeypatch
):
    """Bruno holds 1 of the 2 bottles he asked for and orders that one; while his checkout runs (his hold
    read, the offers not yet locked), Anna gives back another bottle, which tops his hold up to 2. His
    order takes the one he ordered, the other goes on to Chloé: nothing counted twice, nothing lost."""
    anna, bruno, chloe = _members(alpha, "topped", 3)
    anna_order = _place(market, anna, market.wine, market.slots[0], quantity=3)
    offer_waits.offer_wait_join(offer_id=market.wine.pk, user=bruno, wanted=2)
    offer_waits.offer_wait_join(offer_id=market.wine.pk, user=chloe, wanted=1)

    def anna_lowers(to: int) -> None:
        checkout_services.order_update(
            order_id=anna_order.pk,
            user=anna,
            quantities={market.wine.pk: to},
            slot_id=market.slots[0].pk,
            payment_method=PaymentMethod.CASH,
        )

    anna_lowers(2)
    assert OfferWait.objects.get(user=bruno).held == 1
    read_holds = waiting_selectors.member_offer_waits
    errors: list[str] = []

    def read_then_anna_lowers(**kwargs):
        holds = read_holds(**kwargs)
        if kwargs["user"] != bruno:
            return holds
        # Bruno's checkout has read his hold of 1: Anna's change runs and commits now.

        def lower():
            connection.set_tenant(alpha.collective)
            try:
                anna_lowers(1)
            except Exception as error:  # noqa: BLE001 - any error fails the test
                errors.append(repr(error))
            finally:
                connection.close()

        thread = threading.Thread(target=lower)
        thread.start()
        thread.join()
        return holds

    monkeypatch.setattr(waiting_selectors, "member_offer_waits", read_then_anna_lowers)
    order = _place(market, bruno, market.wine, market.slots[1])
    assert errors == []
    assert dict(order.lines.values_list("offer_id", "quantity")) == {market.wine.pk: 1}
    assert OfferWait.objects.get(user=bruno).status == OfferWait.Status.ACCEPTED
    chloe_wait = OfferWait.objects.get(user=chloe)
    assert (chloe_wait.status, chloe_wait.held) == (OfferWait.Status.OFFERED, 1)
    assert Offer.objects.get(pk=market.wine.pk).sold == 3  # Anna 1, Bruno 1, held for Chloé 1
    assert offer_waits.free_units_offer() == 0
