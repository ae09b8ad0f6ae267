"""Several places of a full slot freed at the same moment, on the real PostgreSQL with real threads: each goes
to a different member of the waiting list, in line order, never beyond the slot's capacity."""

import threading

import pytest
from django.db import connection

from marketplace.models import Membership, Role, User
from orders.checkout import services as checkout_services
from orders.models import PaymentMethod, SlotWait
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


def test_three_places_freed_at_once_go_to_the_first_three_in_line(market, alpha):
    slot = market.slots[0]  # 3 places
    holders = _members(alpha, "holder", 3)
    orders = [
        checkout_services.order_place(
            sale_id=market.sale.pk,
            user=user,
            quantities={market.cheese.pk: 1},
            slot_id=slot.pk,
            payment_method=PaymentMethod.CASH,
        )
        for user in holders
    ]
    waiting = _members(alpha, "waiter", 5)
    for user in waiting:
        waiting_services.slot_wait_join(slot_id=slot.pk, user=user)
    barrier = threading.Barrier(len(orders))
    unexpected = []

    def cancel(order, user):
        connection.set_tenant(alpha.collective)
        try:
            barrier.wait()
            checkout_services.order_cancel(order_id=order.pk, user=user)  # its follow-up offers the place
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
    assert unexpected == []
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
        checkout_services.order_place(
            sale_id=market.sale.pk,
            user=holders[0],
            quantities={market.cheese.pk: 1},
            slot_id=slot.pk,
            payment_method=PaymentMethod.CASH,
        )
