"""Writes of the waiting lists on full slots (models.SlotWait).

A freed place (an order cancelled, moved or released, a capacity raised, a slot reopened: the signal
pickup_points.signals.slot_freed) is offered after that transaction commits (a follow-up: never lost), to the
first in line: the offer is a hold, counted in the slot's `reserved`, so nobody else can take the place,
until `offered_until` (the collective's wait_hold_minutes, never past the sale's closing). The clock expires
holds (their end lowers the collective's next visit) and offers the place to the next. Accepting a hold puts
the slot into the member's order in one step (orders.checkout.services._take_slot consumes it). At closing
every entry lapses and held places are given back.

Every move of an entry (but leaving while still waiting) happens with its slot's row locked, so offering is
one at a time per slot: when several places free up at once, each goes to a different member, in line order.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace import clock, followups
from marketplace.models import User
from orders.models import Sale, ShopSettings, SlotWait
from orders.waiting import common
from pickup_points import locks as point_locks
from pickup_points.models import PickupSlot, SlotBooking


class WaitRefused(Exception):
    """A member cannot join, leave or accept; the message says why."""


def _email(wait_id: int, kind: str) -> None:
    common.email_later(task="orders.tasks.slot_wait_email_send", name="slot-wait", wait_id=wait_id, kind=kind)


def offer_later(*, slot_id: int) -> None:
    """A place of the slot may be free: offer it to the slot's list once the caller's transaction commits."""
    followups.followup_add(
        "orders.tasks.slot_waits_offer",
        schema_name=connection.schema_name,  # type: ignore[attr-defined]
        slot_id=slot_id,
    )


def _sale_of_slot(slot: PickupSlot) -> Sale | None:
    return Sale.objects.filter(distribution_id=slot.distribution_id).first()


@transaction.atomic
def slot_wait_join(*, slot_id: int, user: User) -> SlotWait:
    """Put the member at the end of a full slot's waiting list (open sales only)."""
    slot = PickupSlot.objects.filter(pk=slot_id).first()
    sale = _sale_of_slot(slot) if slot is not None else None
    if slot is None or sale is None:
        raise WaitRefused(_("Ce créneau n'existe pas."))
    sale = common.open_sale_share(sale.pk)
    if sale is None:
        raise WaitRefused(_("Cette vente n'est pas ouverte : pas de liste d'attente."))
    if not slot.is_open:
        raise WaitRefused(_("Ce créneau est fermé : choisissez-en un autre."))
    if SlotBooking.objects.filter(slot_id=slot.pk, user=user).exists():
        raise WaitRefused(_("C'est déjà votre créneau."))
    if slot.is_bookable:
        raise WaitRefused(
            _("Ce créneau a encore de la place : choisissez-le directement dans votre commande.")
        )
    wait = SlotWait(sale=sale, slot=slot, user=user)
    wait.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            wait.save()
    except IntegrityError as error:
        raise WaitRefused(_("Vous êtes déjà sur la liste d'attente de ce créneau.")) from error
    offer_later(slot_id=slot.pk)  # a place freed while we read the slot is not left free with a list waiting
    return wait


@transaction.atomic
def point_wait_join(*, sale_id: int, point_id: int, user: User) -> list[SlotWait]:
    """Put the member on the waiting list of every slot of a full pickup point (open sales only): the first
    place freed in any of them is held for them; once they have one, their other entries there end."""
    sale = common.open_sale_share(sale_id)
    if sale is None:
        raise WaitRefused(_("Cette vente n'est pas ouverte : pas de liste d'attente."))
    slots = list(
        PickupSlot.objects.filter(
            distribution_id=sale.distribution_id, point_id=point_id, is_open=True
        ).order_by("starts_at", "pk")
    )
    if not slots:
        raise WaitRefused(_("Ce point de retrait n'a pas de créneau ouvert dans cette vente."))
    if any(slot.is_bookable for slot in slots):
        raise WaitRefused(
            _("Ce point a encore de la place : choisissez un créneau libre dans votre commande.")
        )
    if SlotBooking.objects.filter(slot__in=slots, user=user).exists():
        raise WaitRefused(_("Vous avez déjà un créneau à ce point de retrait."))
    waiting = set(
        SlotWait.objects.filter(slot__in=slots, user=user, status__in=SlotWait.OPEN).values_list(
            "slot_id", flat=True
        )
    )
    new = [
        SlotWait(sale=sale, slot=slot, user=user, point_wide=True) for slot in slots if slot.pk not in waiting
    ]
    if not new:
        raise WaitRefused(_("Vous êtes déjà sur la liste d'attente de chaque créneau de ce point."))
    with transaction.atomic():
        try:
            SlotWait.objects.bulk_create(new)
        except IntegrityError as error:  # a double click: the other request put them on the lists
            raise WaitRefused(_("Vous êtes déjà sur la liste d'attente de ce point.")) from error
    for wait in new:
        offer_later(slot_id=wait.slot_id)
    return new


def _point_waits_end_later(*, sale_id: int, slot_id: int, user: User) -> None:
    """The member has a place in this slot: their other entries for the same point (joined for the whole
    point) end once this transaction commits, each as if they left it (a place held there goes to the
    next)."""
    followups.followup_add(
        "orders.tasks.point_waits_end",
        schema_name=connection.schema_name,  # type: ignore[attr-defined]
        sale_id=sale_id,
        slot_id=slot_id,
        user_id=user.pk,
    )


def point_waits_end(*, sale_id: int, slot_id: int, user: User) -> int:
    """The follow-up of a place obtained in `slot_id`: the member's other open point-wide entries at that
    slot's point in the sale end (each its own transaction). Idempotent."""
    point_id = PickupSlot.objects.filter(pk=slot_id).values_list("point_id", flat=True).first()
    others = (
        SlotWait.objects.filter(
            sale_id=sale_id, user=user, point_wide=True, slot__point_id=point_id, status__in=SlotWait.OPEN
        )
        .exclude(slot_id=slot_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    ended = 0
    for wait_id in list(others):
        try:
            slot_wait_leave(wait_id=wait_id, user=user)
        except WaitRefused:
            continue  # ended meanwhile
        ended += 1
    return ended


def _offer_free_places(*, sale: Sale, slot_id: int, now: datetime) -> list[int]:
    """Offer the slot's free places to its first entries in line (the sale held FOR SHARE and open; the
    slot's row is locked here). Returns the entries offered."""
    slot = point_locks.slot_lock(slot_id)
    free = slot.capacity - slot.reserved if slot.is_open else 0
    if free <= 0:
        return []
    minutes = ShopSettings.current().wait_hold_minutes
    until = min(now + timedelta(minutes=minutes), sale.closes_at)
    if until <= now:
        return []
    offered: list[int] = []
    line = SlotWait.objects.filter(slot_id=slot_id, status=SlotWait.Status.WAITING).order_by(
        "joined_at", "pk"
    )
    while len(offered) < free:
        candidates = list(line.exclude(pk__in=offered).values_list("pk", flat=True)[: free - len(offered)])
        if not candidates:
            break
        for wait_id in candidates:
            # Conditional: a member who left meanwhile (leaving does not lock the slot) is passed over.
            if SlotWait.objects.filter(pk=wait_id, status=SlotWait.Status.WAITING).update(
                status=SlotWait.Status.OFFERED, offered_at=now, offered_until=until
            ):
                offered.append(wait_id)
            else:
                offered.append(-wait_id)  # seen, not offered: excluded from the next read
    offered = [wait_id for wait_id in offered if wait_id > 0]
    if offered:
        PickupSlot.objects.filter(pk=slot_id).update(reserved=F("reserved") + len(offered))
        for wait_id in offered:
            _email(wait_id, "offered")
        clock.due_lower(at=until)
    return offered


@transaction.atomic
def slot_waits_offer(*, slot_id: int, now: datetime | None = None) -> list[int]:
    """Offer what is free in the slot to its waiting list (the follow-up of a freed place; idempotent: a
    second run finds no free place or nobody waiting)."""
    now = now or timezone.now()
    sale_id = (
        SlotWait.objects.filter(slot_id=slot_id, status=SlotWait.Status.WAITING)
        .values_list("sale_id", flat=True)
        .first()
    )
    if sale_id is None:
        return []
    sale = common.open_sale_share(sale_id)
    if sale is None:
        return []
    return _offer_free_places(sale=sale, slot_id=slot_id, now=now)


def _end_offer(*, wait: SlotWait, status: str, now: datetime, expired_only: bool) -> bool:
    """End a held offer (the slot locked by the caller) and give its place back to the list."""
    ending = SlotWait.objects.filter(pk=wait.pk, status=SlotWait.Status.OFFERED)
    if expired_only:
        ending = ending.filter(offered_until__lte=now)
    if not ending.update(status=status, ended_at=now):
        return False
    given_back = PickupSlot.objects.filter(pk=wait.slot_id, reserved__gt=0).update(reserved=F("reserved") - 1)
    if given_back != 1:
        raise RuntimeError(f"slot {wait.slot_id}: held place out of step")
    return True


@transaction.atomic
def slot_wait_expire(*, wait_id: int, now: datetime | None = None) -> bool:
    """A hold whose time is up: the member is told, the place goes to the next in line."""
    now = now or timezone.now()
    wait = SlotWait.objects.filter(pk=wait_id, status=SlotWait.Status.OFFERED, offered_until__lte=now).first()
    if wait is None:
        return False
    sale = common.open_sale_share(wait.sale_id)
    if sale is None:
        return False  # closed: the closing lapses it
    point_locks.slot_lock(wait.slot_id)
    if not _end_offer(wait=wait, status=SlotWait.Status.EXPIRED, now=now, expired_only=True):
        return False
    _email(wait.pk, "expired")
    _offer_free_places(sale=sale, slot_id=wait.slot_id, now=now)
    return True


def offers_expire(*, now: datetime | None = None) -> int:
    """The clock's job: every hold whose time is up (each its own transaction)."""
    now = now or timezone.now()
    due = SlotWait.objects.filter(status=SlotWait.Status.OFFERED, offered_until__lte=now).order_by("pk")
    return sum(
        slot_wait_expire(wait_id=wait_id, now=now) for wait_id in list(due.values_list("pk", flat=True))
    )


def free_places_offer(*, now: datetime | None = None) -> int:
    """The clock's backstop: slots with a free place and somebody waiting (a follow-up lost in a crash is
    redone by the sweeper anyway; this also catches places freed by hand in the admin)."""
    now = now or timezone.now()
    slot_ids = (
        SlotWait.objects.filter(
            status=SlotWait.Status.WAITING, slot__is_open=True, slot__reserved__lt=F("slot__capacity")
        )
        .order_by("slot_id")
        .values_list("slot_id", flat=True)
        .distinct()
    )
    return sum(len(slot_waits_offer(slot_id=slot_id, now=now)) for slot_id in list(slot_ids))


@transaction.atomic
def slot_wait_leave(*, wait_id: int, user: User, now: datetime | None = None) -> SlotWait:
    """The member leaves a list; a place held for them goes to the next in line."""
    now = now or timezone.now()
    wait = SlotWait.objects.filter(pk=wait_id, user=user, status__in=SlotWait.OPEN).first()
    if wait is None:
        raise WaitRefused(_("Vous n'êtes plus sur cette liste d'attente."))
    if SlotWait.objects.filter(pk=wait.pk, status=SlotWait.Status.WAITING).update(
        status=SlotWait.Status.LEFT, ended_at=now
    ):
        return wait
    sale = common.open_sale_share(wait.sale_id)
    point_locks.slot_lock(wait.slot_id)
    if not _end_offer(wait=wait, status=SlotWait.Status.LEFT, now=now, expired_only=False):
        raise WaitRefused(_("Vous n'êtes plus sur cette liste d'attente."))
    if sale is not None:
        _offer_free_places(sale=sale, slot_id=wait.slot_id, now=now)
    return wait


def hold_take(*, slot_id: int, user: User, distribution_id: int) -> PickupSlot | None:
    """The place held for the member in this slot, taken for their order (in the order service's
    transaction, where a slot is taken): None when no place is held for them there."""
    wait = SlotWait.objects.filter(slot_id=slot_id, user=user, status=SlotWait.Status.OFFERED).first()
    if wait is None:
        return None
    slot = point_locks.slot_lock(slot_id)
    if slot.distribution_id != distribution_id:
        return None
    taken = SlotWait.objects.filter(pk=wait.pk, status=SlotWait.Status.OFFERED).update(
        status=SlotWait.Status.ACCEPTED, ended_at=timezone.now()
    )
    if taken and wait.point_wide:
        _point_waits_end_later(sale_id=wait.sale_id, slot_id=slot_id, user=user)
    return slot if taken else None


def waits_end_booked(*, slot_id: int, user: User) -> None:
    """The member got a place in the slot without waiting for it (one was free): they leave its list, and
    the point's other lists if they joined it for the whole point."""
    ended = SlotWait.objects.filter(slot_id=slot_id, user=user, status=SlotWait.Status.WAITING)
    point_wide = ended.filter(point_wide=True).values_list("sale_id", flat=True).first()
    ended.update(status=SlotWait.Status.ACCEPTED, ended_at=timezone.now())
    if point_wide is not None:
        _point_waits_end_later(sale_id=point_wide, slot_id=slot_id, user=user)


def sale_waits_lapse(*, sale: Sale, now: datetime) -> int:
    """At closing (the sale locked by the closing job): every entry lapses, held places go back, and the
    members are told. Slots are locked in ascending pk order. Returns how many entries lapsed."""
    open_waits = list(
        SlotWait.objects.filter(sale=sale, status__in=SlotWait.OPEN)
        .order_by("slot_id", "pk")
        .values("pk", "slot_id", "status")
    )
    held: dict[int, int] = {}
    for wait in open_waits:
        if wait["status"] == SlotWait.Status.OFFERED:
            held[wait["slot_id"]] = held.get(wait["slot_id"], 0) + 1
    for slot_id in sorted(held):
        point_locks.slot_lock(slot_id)
        PickupSlot.objects.filter(pk=slot_id, reserved__gte=held[slot_id]).update(
            reserved=F("reserved") - held[slot_id]
        )
    SlotWait.objects.filter(pk__in=[wait["pk"] for wait in open_waits]).update(
        status=SlotWait.Status.LAPSED, ended_at=now
    )
    for wait in open_waits:
        _email(wait["pk"], "lapsed")
    return len(open_waits)
