"""Waiting lists on full slots (issue 18, item 5): a member joins the list of a full slot; a freed place is
held for the first in line (e-mail), then passed to the next when not taken in time; everything lapses at
closing; the other collective sees none of it. The race: test_waiting_list_race.py."""

from datetime import timedelta

import pytest
import time_machine

from marketplace.models import Membership, Role, User
from orders.checkout import services as checkout_services
from orders.closing import due, jobs
from orders.models import Order, PaymentMethod, SlotWait
from orders.waiting import services as waiting_services
from pickup_points import services as point_services
from pickup_points.models import PickupSlot, SlotBooking
from tests.conftest import PASSWORD, text, words


def _member(alpha, name: str) -> User:
    user = User.objects.create_user(
        email=f"{name.lower()}@attente.test", password=PASSWORD, first_name=name, last_name="Attente"
    )
    Membership.objects.create(user=user, collective=alpha.collective, roles=[Role.MEMBER])
    return user


def _order(market, user, slot) -> Order:
    return checkout_services.order_place(
        sale_id=market.sale.pk,
        user=user,
        quantities={market.cheese.pk: 1},
        slot_id=slot.pk,
        payment_method=PaymentMethod.CASH,
    )


@pytest.fixture
def full(market, alpha):
    """Slot 0 holds one household and is full (Anna's order); Bruno ordered in slot 1, Chloé has no order."""
    full_slot, other = market.slots[0], market.slots[1]
    point_services.slot_update(slot=full_slot, capacity=1)
    people = {name: _member(alpha, name) for name in ["Anna", "Bruno", "Chloe", "Denis"]}
    anna_order = _order(market, people["Anna"], full_slot)
    bruno_order = _order(market, people["Bruno"], other)
    return full_slot, other, people, anna_order, bruno_order


def _reserved(slot) -> int:
    return PickupSlot.objects.get(pk=slot.pk).reserved


def test_a_member_joins_a_full_slot_from_the_checkout_sees_their_place_and_leaves(
    browse, alpha, market, full
):
    full_slot, other, people, _anna, _bruno = full
    bruno = browse(alpha, people["Bruno"])
    checkout = bruno.get(f"/ventes/{market.sale.pk}/commander/")
    assert "M'inscrire sur la liste d'attente" in text(checkout)
    joined = bruno.post(f"/creneaux/{full_slot.pk}/liste-attente/", follow=True)
    page = text(joined)
    assert "Vous êtes sur la liste d'attente" in page and "Vous êtes le premier de la liste." in page
    assert "vous êtes sur la liste d'attente" in text(bruno.get(f"/ventes/{market.sale.pk}/commander/"))

    chloe = browse(alpha, people["Chloe"])
    page = text(chloe.post(f"/creneaux/{full_slot.pk}/liste-attente/", follow=True))
    assert "Vous êtes n° 2 : 1 personne avant vous." in page
    assert "Bruno" not in page  # never another member's name
    again = text(chloe.post(f"/creneaux/{full_slot.pk}/liste-attente/", follow=True))
    assert "Vous êtes déjà sur la liste d'attente de ce créneau." in again
    room = text(chloe.post(f"/creneaux/{other.pk}/liste-attente/", follow=True))
    assert "Ce créneau a encore de la place" in room

    wait = SlotWait.objects.get(user=people["Chloe"])
    left = text(chloe.post(f"/mes-listes-attente/{wait.pk}/quitter/", follow=True))
    assert "Vous avez quitté la liste d'attente." in left
    assert SlotWait.objects.filter(status=SlotWait.Status.WAITING).count() == 1


def test_a_freed_place_is_held_for_the_first_in_line_who_takes_it_in_one_click(
    browse, alpha, market, full, mailoutbox, django_capture_on_commit_callbacks
):
    full_slot, other, people, anna_order, bruno_order = full
    waiting_services.slot_wait_join(slot_id=full_slot.pk, user=people["Bruno"])
    waiting_services.slot_wait_join(slot_id=full_slot.pk, user=people["Chloe"])
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        checkout_services.order_cancel(order_id=anna_order.pk, user=people["Anna"])
    offers = [message for message in mailoutbox if "une place s'est libérée" in message.subject]
    assert [message.to for message in offers] == [[people["Bruno"].email]]
    assert "elle vous est réservée" in offers[0].body and "/mes-listes-attente/" in offers[0].body
    assert _reserved(full_slot) == 1  # held: nobody else can take it
    with pytest.raises(checkout_services.OrderRefused, match="complet"):
        _order(market, people["Denis"], full_slot)

    bruno = browse(alpha, people["Bruno"])
    page = text(bruno.get("/mes-listes-attente/"))
    assert "Une place s'est libérée : elle vous est réservée jusqu'au" in page
    wait = SlotWait.objects.get(user=people["Bruno"])
    moved = bruno.post(f"/mes-listes-attente/{wait.pk}/accepter/", follow=True)
    assert "votre commande passe sur ce créneau" in text(moved)
    bruno_order = Order.objects.select_related("booking").get(pk=bruno_order.pk)
    assert bruno_order.booking.slot_id == full_slot.pk and bruno_order.lines.count() == 1
    assert (_reserved(full_slot), _reserved(other)) == (1, 0)
    assert SlotBooking.objects.filter(slot=full_slot).count() == 1
    assert "Vous êtes le premier de la liste." in text(
        browse(alpha, people["Chloe"]).get("/mes-listes-attente/")
    )
    # Bruno's old place freed in slot 1: nobody waits there, nothing is offered.
    assert SlotWait.objects.filter(status=SlotWait.Status.OFFERED).count() == 0


def test_a_member_without_an_order_gets_the_held_slot_in_the_checkout(
    browse, alpha, market, full, django_capture_on_commit_callbacks
):
    full_slot, _other, people, anna_order, _bruno = full
    waiting_services.slot_wait_join(slot_id=full_slot.pk, user=people["Chloe"])
    with django_capture_on_commit_callbacks(execute=True):
        checkout_services.order_cancel(order_id=anna_order.pk, user=people["Anna"])
    chloe = browse(alpha, people["Chloe"])
    wait = SlotWait.objects.get(user=people["Chloe"])
    shop = chloe.post(f"/mes-listes-attente/{wait.pk}/accepter/")
    assert shop.status_code == 302 and shop["Location"] == f"/ventes/{market.sale.pk}/"
    chloe.post(f"/ventes/{market.sale.pk}/", {f"qty_{market.cheese.pk}": 2})
    page = chloe.get(f"/ventes/{market.sale.pk}/commander/")
    assert "place réservée pour vous" in text(page)
    placed = chloe.post(
        f"/ventes/{market.sale.pk}/commander/", {"slot": full_slot.pk, "payment_method": PaymentMethod.CASH}
    )
    assert placed.status_code == 302
    order = Order.objects.select_related("booking").get(user=people["Chloe"])
    assert order.booking.slot_id == full_slot.pk
    assert _reserved(full_slot) == 1 and SlotWait.objects.get(pk=wait.pk).status == SlotWait.Status.ACCEPTED


def test_an_offer_not_taken_in_time_goes_to_the_next_in_line(
    market, full, mailoutbox, django_capture_on_commit_callbacks
):
    full_slot, _other, people, anna_order, _bruno = full
    for name in ["Bruno", "Chloe"]:
        waiting_services.slot_wait_join(slot_id=full_slot.pk, user=people[name])
    with django_capture_on_commit_callbacks(execute=True):
        checkout_services.order_cancel(order_id=anna_order.pk, user=people["Anna"])
    offered = SlotWait.objects.get(user=people["Bruno"])
    assert offered.offered_until == offered.offered_at + timedelta(minutes=120)
    # The clock visits the collective when the hold ends, not an hour later.
    assert due.collective_next_due() <= offered.offered_until
    mailoutbox.clear()
    with time_machine.travel(offered.offered_until - timedelta(minutes=1), tick=False):
        assert jobs.clock_run()["waits_expired"] == 0
    with (
        time_machine.travel(offered.offered_until + timedelta(seconds=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert jobs.clock_run()["waits_expired"] == 1
    assert SlotWait.objects.get(pk=offered.pk).status == SlotWait.Status.EXPIRED
    assert SlotWait.objects.get(user=people["Chloe"]).status == SlotWait.Status.OFFERED
    assert _reserved(full_slot) == 1  # still held, now for Chloé
    subjects = {message.to[0]: message.subject for message in mailoutbox}
    assert "passée au suivant" in subjects[people["Bruno"].email]
    assert "une place s'est libérée" in subjects[people["Chloe"].email]
    with pytest.raises(checkout_services.OrderRefused, match="ne vous est plus réservée"):
        checkout_services.slot_wait_accept(wait_id=offered.pk, user=people["Bruno"])


def test_a_hold_never_outlives_the_closing_and_everything_lapses_at_close(
    market, full, mailoutbox, django_capture_on_commit_callbacks
):
    full_slot, _other, people, anna_order, _bruno = full
    for name in ["Bruno", "Chloe"]:
        waiting_services.slot_wait_join(slot_id=full_slot.pk, user=people[name])
    with (
        time_machine.travel(market.sale.closes_at - timedelta(minutes=30), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        checkout_services.order_cancel(order_id=anna_order.pk, user=people["Anna"])
    assert SlotWait.objects.get(user=people["Bruno"]).offered_until == market.sale.closes_at
    mailoutbox.clear()
    with (
        time_machine.travel(market.sale.closes_at + timedelta(seconds=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert jobs.sale_close(sale_id=market.sale.pk)
    assert set(SlotWait.objects.values_list("status", flat=True)) == {SlotWait.Status.LAPSED}
    assert _reserved(full_slot) == SlotBooking.objects.filter(slot=full_slot).count() == 0
    lapsed = sorted(message.to[0] for message in mailoutbox if "fin de la liste d'attente" in message.subject)
    assert lapsed == sorted([people["Bruno"].email, people["Chloe"].email])


def test_a_capacity_raised_by_the_staff_goes_to_the_list(market, full, django_capture_on_commit_callbacks):
    full_slot, _other, people, _anna, _bruno = full
    waiting_services.slot_wait_join(slot_id=full_slot.pk, user=people["Chloe"])
    with django_capture_on_commit_callbacks(execute=True):
        point_services.slot_update(slot=PickupSlot.objects.get(pk=full_slot.pk), capacity=2)
    assert SlotWait.objects.get(user=people["Chloe"]).status == SlotWait.Status.OFFERED
    assert _reserved(full_slot) == 2


def test_other_roles_and_the_other_collective_see_none_of_it(browse, alpha, beta, market, full):
    full_slot, _other, people, _anna, _bruno = full
    wait = waiting_services.slot_wait_join(slot_id=full_slot.pk, user=people["Bruno"])
    assert browse(alpha, alpha.producer).get("/mes-listes-attente/").status_code == 403
    assert browse(alpha, alpha.producer).post(f"/creneaux/{full_slot.pk}/liste-attente/").status_code == 403
    assert browse(alpha, people["Chloe"]).post(f"/mes-listes-attente/{wait.pk}/quitter/").status_code == 404
    outsider = browse(beta, beta.member)
    assert outsider.post(f"/creneaux/{full_slot.pk}/liste-attente/").status_code == 404
    assert outsider.post(f"/mes-listes-attente/{wait.pk}/accepter/").status_code == 404
    assert "Bruno" not in text(outsider.get("/mes-listes-attente/"))
    coordinator = text(browse(alpha, alpha.coordinator).get(f"/ventes/{market.sale.pk}/commandes/"))
    assert (
        "Listes d'attente : 1 en attente, 0 place(s) réservée(s) en cours d'offre, sur 1 créneau complet."
        in (coordinator)
    )
    assert browse(beta, beta.coordinator).get(f"/ventes/{market.sale.pk}/commandes/").status_code == 404


@pytest.fixture
def point_full(market, alpha):
    """Every slot of the point holds one household, and each is taken."""
    slots = market.slots
    holders = [_member(alpha, f"Holder{index}") for index in range(len(slots))]
    for slot in slots:
        point_services.slot_update(slot=slot, capacity=1)
    orders = [_order(market, holder, slot) for holder, slot in zip(holders, slots, strict=True)]
    return slots, holders, orders


def test_a_member_waits_for_the_first_place_freed_anywhere_at_a_full_point(
    browse, alpha, market, point_full, django_capture_on_commit_callbacks
):
    slots, holders, orders = point_full
    eve, frank = _member(alpha, "Eve"), _member(alpha, "Frank")
    client = browse(alpha, eve)
    client.post(f"/ventes/{market.sale.pk}/", {f"qty_{market.cheese.pk}": "1"})
    checkout = words(client.get(f"/ventes/{market.sale.pk}/commander/"))
    assert "Tous les créneaux de ce point sont complets." in checkout
    assert "M'inscrire pour le premier créneau libéré à ce point" in checkout
    url = f"/ventes/{market.sale.pk}/points/{market.point.pk}/liste-attente/"
    joined = words(client.post(url, follow=True))
    assert "Vous êtes sur la liste d'attente de chaque créneau de ce point" in joined
    assert joined.count("liste du point : le premier créneau libéré") == len(slots)
    again = words(client.post(url, follow=True))
    assert "Vous êtes déjà sur la liste d'attente de chaque créneau de ce point." in again
    assert "M'inscrire pour le premier créneau libéré" not in words(
        client.get(f"/ventes/{market.sale.pk}/commander/")
    )
    waiting_services.slot_wait_join(slot_id=slots[2].pk, user=frank)  # Frank waits for the third slot only

    # Two places freed at once: both are held for Eve, first in both lines.
    with django_capture_on_commit_callbacks(execute=True):
        checkout_services.order_cancel(order_id=orders[1].pk, user=holders[1])
        checkout_services.order_cancel(order_id=orders[2].pk, user=holders[2])
    held = SlotWait.objects.filter(user=eve, status=SlotWait.Status.OFFERED)
    assert sorted(held.values_list("slot_id", flat=True)) == [slots[1].pk, slots[2].pk]
    # She takes the third slot's place in her checkout: her other entries end, the second slot's is free.
    with django_capture_on_commit_callbacks(execute=True):
        placed = client.post(
            f"/ventes/{market.sale.pk}/commander/",
            {"slot": slots[2].pk, "payment_method": PaymentMethod.CASH},
        )
    assert placed.status_code == 302
    assert Order.objects.select_related("booking").get(user=eve).booking.slot_id == slots[2].pk
    assert not SlotWait.objects.filter(user=eve, status__in=SlotWait.OPEN).exists()
    assert (_reserved(slots[1]), _reserved(slots[2])) == (0, 1)
    assert SlotWait.objects.get(user=frank).status == SlotWait.Status.WAITING  # still behind, for his slot
    # Now the point has room: its list is refused, a slot is chosen directly.
    refused = words(browse(alpha, frank).post(url, follow=True))
    assert "Ce point a encore de la place : choisissez un créneau libre dans votre commande." in refused


def test_a_member_with_a_slot_at_the_point_is_not_offered_the_points_list(browse, alpha, market, point_full):
    slots, holders, _orders = point_full
    checkout = words(browse(alpha, holders[0]).get(f"/ventes/{market.sale.pk}/commander/"))
    assert "Tous les créneaux de ce point sont complets." not in checkout
    with pytest.raises(waiting_services.WaitRefused, match="déjà un créneau à ce point"):
        waiting_services.point_wait_join(sale_id=market.sale.pk, point_id=market.point.pk, user=holders[0])
