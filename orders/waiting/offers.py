"""Writes of the waiting lists on sold-out products (models.OfferWait).

A member asks for a number of units of a product sold out in an open sale. Units freed (an order cancelled,
lowered or released, a quantity raised by the coordinator) are offered after that transaction commits (a
follow-up: never lost) to the first in line, as many as they asked for and as are free, then to the next
(one who holds fewer than they asked for is topped up before the next gets any, their deadline unchanged):
the offer is a hold, counted in the offer's `sold` (and in a shared product's central stock), so nobody else
can take those units, until `offered_until` (the collective's wait_hold_minutes, never past the sale's
closing). The clock expires holds and offers the units to the next. Taking a hold puts the units into the
member's order: the checkout consumes it (`holds_applied`, then `holds_consume`), the stock already
counted. At closing every entry lapses and held units are given back.

Every move of an entry (but leaving while still waiting) happens with its offer's row locked (orders.locks:
offer → central stock → entries), so offering is one at a time per product: when several units free up at
once, they go to the members in line order, each unit to one member.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace import central_stock, clock, followups
from marketplace import locks as marketplace_locks
from marketplace.models import User
from orders import locks
from orders.models import MAX_LINE_QUANTITY, Offer, OfferWait, Sale, ShopSettings
from orders.waiting import common

UNLIMITED = MAX_LINE_QUANTITY * 1000  # what an offer without a limit has free: everybody in line is served


class OfferWaitRefused(Exception):
    """A member cannot join, leave or take a hold; the message says why."""


def _email(wait_id: int, kind: str, *, version: int | None = None) -> None:
    common.email_later(
        task="orders.tasks.offer_wait_email_send",
        name="offer-wait",
        wait_id=wait_id,
        kind=kind,
        version=version,
    )


# Entries that want units: those waiting, and those holding fewer units than they asked for (topped up first).
WANTS_MORE = Q(status=OfferWait.Status.WAITING) | Q(status=OfferWait.Status.OFFERED, held__lt=F("wanted"))


def offer_later(*, offer_id: int) -> None:
    """Units of the offer may be free: offer them to its list once the caller's transaction commits."""
    followups.followup_add(
        "orders.tasks.offer_waits_offer",
        schema_name=connection.schema_name,  # type: ignore[attr-defined]
        offer_id=offer_id,
    )


def offers_freed(*, offer_ids: Iterable[int]) -> None:
    """Units of these offers were given back (in the caller's transaction): those with somebody waiting are
    offered to their lists after the commit. One query, only when something was given back."""
    offer_ids = sorted(set(offer_ids))
    if not offer_ids:
        return
    waited = (
        OfferWait.objects.filter(WANTS_MORE, offer_id__in=offer_ids)
        .order_by("offer_id")
        .values_list("offer_id", flat=True)
        .distinct()
    )
    for offer_id in waited:
        offer_later(offer_id=offer_id)


def _free_units(offer: Offer) -> int:
    """What is free of the offer (locked by the caller) as Offer.remaining says it, within the central stock
    of a shared product, locked here too."""
    shared_id = offer.product.shared_product_id
    if shared_id is not None:
        offer.product.shared_product = marketplace_locks.shared_products_lock([shared_id])[shared_id]
    left = offer.remaining
    return UNLIMITED if left is None else left


def _units_move(offer: Offer, delta: int) -> None:
    """Take (hold) or give back units of the offer (locked: always possible) and of its central stock."""
    if not delta:
        return
    if locks.offers_move({offer.pk: delta}) != {offer.pk}:
        raise RuntimeError(f"offer {offer.pk}: sold counter out of step")
    if offer.product.shared_product_id is not None:
        central_stock.central_stock_move(deltas={offer.product.shared_product_id: delta})


@transaction.atomic
def offer_wait_join(*, offer_id: int, user: User, wanted: int = 1) -> OfferWait:
    """Put the member at the end of a sold-out product's waiting list (open sales only)."""
    offer = Offer.objects.select_related("product__shared_product").filter(pk=offer_id).first()
    if offer is None:
        raise OfferWaitRefused(_("Ce produit n'est pas proposé dans cette vente."))
    if not isinstance(wanted, int) or not 1 <= wanted <= MAX_LINE_QUANTITY:
        raise OfferWaitRefused(
            _("Indiquez une quantité de 1 à %(max)s pour la liste d'attente.") % {"max": MAX_LINE_QUANTITY}
        )
    sale = common.open_sale_share(offer.sale_id)
    if sale is None:
        raise OfferWaitRefused(_("Cette vente n'est pas ouverte : pas de liste d'attente."))
    if offer.remaining != 0:
        raise OfferWaitRefused(
            _("« %(name)s » n'est pas épuisé : ajoutez-le directement à votre panier.") % {"name": offer.name}
        )
    wait = OfferWait(sale=sale, offer=offer, user=user, wanted=wanted)
    wait.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            wait.save()
    except IntegrityError as error:
        raise OfferWaitRefused(
            _("Vous êtes déjà sur la liste d'attente de « %(name)s ».") % {"name": offer.name}
        ) from error
    # A unit freed while we read the offer is not left free with a list waiting.
    offer_later(offer_id=offer.pk)
    return wait


def _offer_free_units(*, sale: Sale, offer_id: int, now: datetime) -> list[int]:
    """Offer the free units of the offer to its first entries in line (the sale held FOR SHARE and open;
    the offer's row is locked here). Returns the entries offered."""
    offer = locks.offer_lock(offer_id)
    if offer is None:
        return []
    free = _free_units(offer)
    if free <= 0:
        return []
    until = min(now + timedelta(minutes=ShopSettings.current().wait_hold_minutes), sale.closes_at)
    if until <= now:
        return []
    offered: list[int] = []
    taken = 0
    # In line order: an entry already holding fewer units than it asked for is topped up before the next
    # entry gets any (units freed one after the other, or several at once after a partial offer).
    line = OfferWait.objects.filter(WANTS_MORE, offer_id=offer_id).order_by("joined_at", "pk")
    # Entries move only under the offer's lock, but leaving while waiting does not take it: each update is
    # conditional, and one who left is passed over.
    for wait_id, status, wanted, held in line.values_list("pk", "status", "wanted", "held"):
        if taken >= free:
            break
        if status == OfferWait.Status.OFFERED:
            more = min(wanted - held, free - taken)
            if OfferWait.objects.filter(pk=wait_id, status=status, held=held).update(held=held + more):
                offered.append(wait_id)
                taken += more
                _email(wait_id, "offered", version=held + more)  # the deadline they were given stays
            continue
        more = min(wanted, free - taken)
        if OfferWait.objects.filter(pk=wait_id, status=status).update(
            status=OfferWait.Status.OFFERED, held=more, offered_at=now, offered_until=until
        ):
            offered.append(wait_id)
            taken += more
            _email(wait_id, "offered")
    if offered:
        _units_move(offer, taken)
        clock.due_lower(at=until)
    return offered


@transaction.atomic
def offer_waits_offer(*, offer_id: int, now: datetime | None = None) -> list[int]:
    """Offer what is free of the offer to its waiting list (the follow-up of freed units; idempotent: a
    second run finds nothing free or nobody waiting)."""
    now = now or timezone.now()
    sale_id = (
        OfferWait.objects.filter(WANTS_MORE, offer_id=offer_id).values_list("sale_id", flat=True).first()
    )
    if sale_id is None:
        return []
    sale = common.open_sale_share(sale_id)
    if sale is None:
        return []
    return _offer_free_units(sale=sale, offer_id=offer_id, now=now)


def _end_hold(*, wait: OfferWait, offer: Offer, status: str, now: datetime, expired_only: bool) -> bool:
    """End a hold (the offer locked by the caller) and give its units back."""
    ending = OfferWait.objects.filter(pk=wait.pk, status=OfferWait.Status.OFFERED)
    if expired_only:
        ending = ending.filter(offered_until__lte=now)
    held = ending.values_list("held", flat=True).first()
    if held is None or not ending.update(status=status, ended_at=now):
        return False
    _units_move(offer, -held)
    return True


@transaction.atomic
def offer_wait_expire(*, wait_id: int, now: datetime | None = None) -> bool:
    """A hold whose time is up: the member is told, the units go to the next in line."""
    now = now or timezone.now()
    wait = OfferWait.objects.filter(
        pk=wait_id, status=OfferWait.Status.OFFERED, offered_until__lte=now
    ).first()
    if wait is None:
        return False
    sale = common.open_sale_share(wait.sale_id)
    if sale is None:
        return False  # closed: the closing lapses it
    offer = locks.offer_lock(wait.offer_id)
    if offer is None or not _end_hold(
        wait=wait, offer=offer, status=OfferWait.Status.EXPIRED, now=now, expired_only=True
    ):
        return False
    _email(wait.pk, "expired")
    _offer_free_units(sale=sale, offer_id=wait.offer_id, now=now)
    return True


def holds_expire(*, now: datetime | None = None) -> int:
    """The clock's job: every hold whose time is up (each its own transaction)."""
    now = now or timezone.now()
    due = OfferWait.objects.filter(status=OfferWait.Status.OFFERED, offered_until__lte=now).order_by("pk")
    return sum(
        offer_wait_expire(wait_id=wait_id, now=now) for wait_id in list(due.values_list("pk", flat=True))
    )


def free_units_offer(*, now: datetime | None = None) -> int:
    """The clock's backstop: offers with units free and somebody waiting (a follow-up lost in a crash is
    redone by the sweeper anyway; this also catches quantities raised by hand in the admin)."""
    now = now or timezone.now()
    offer_ids = (
        OfferWait.objects.filter(WANTS_MORE)
        .filter(Q(offer__quantity__isnull=True) | Q(offer__sold__lt=F("offer__quantity")))
        .order_by("offer_id")
        .values_list("offer_id", flat=True)
        .distinct()
    )
    return sum(len(offer_waits_offer(offer_id=offer_id, now=now)) for offer_id in list(offer_ids))


@transaction.atomic
def offer_wait_leave(*, wait_id: int, user: User, now: datetime | None = None) -> OfferWait:
    """The member leaves a list; units held for them go to the next in line."""
    now = now or timezone.now()
    wait = OfferWait.objects.filter(pk=wait_id, user=user, status__in=OfferWait.OPEN).first()
    if wait is None:
        raise OfferWaitRefused(_("Vous n'êtes plus sur cette liste d'attente."))
    if OfferWait.objects.filter(pk=wait.pk, status=OfferWait.Status.WAITING).update(
        status=OfferWait.Status.LEFT, ended_at=now
    ):
        return wait
    sale = common.open_sale_share(wait.sale_id)
    offer = locks.offer_lock(wait.offer_id)
    if offer is None or not _end_hold(
        wait=wait, offer=offer, status=OfferWait.Status.LEFT, now=now, expired_only=False
    ):
        raise OfferWaitRefused(_("Vous n'êtes plus sur cette liste d'attente."))
    if sale is not None:
        _offer_free_units(sale=sale, offer_id=wait.offer_id, now=now)
    return wait


def holds_applied(holds: Mapping[int, OfferWait], deltas: Mapping[int, int]) -> dict[int, int]:
    """The stock moves of a checkout once the member's holds are used: a held unit is already counted, so
    an offer the member takes more of moves by what they take beyond the hold (fewer than held: the rest is
    given back). Offers not taken more of keep their hold."""
    return {
        offer_id: delta - holds[offer_id].held if offer_id in holds and delta > 0 else delta
        for offer_id, delta in deltas.items()
    }


def holds_consume(*, holds: Mapping[int, OfferWait], deltas: Mapping[int, int]) -> dict[int, int]:
    """Mark taken the holds a checkout used (`holds_applied`), the checkout having moved (and so locked)
    their offers. The holds were read before that (waiting.selectors.member_offer_waits); read again here,
    under the offers' locks, they may have changed: the stock moves that set it right are returned, by
    offer: what a hold ended since (expired, left) held, to be taken from the stock as usual; minus what a
    hold topped up since (units freed meanwhile) gained, to be given back. Two statements."""
    used = {wait.pk: wait for offer_id, wait in holds.items() if deltas.get(offer_id, 0) > 0}
    if not used:
        return {}
    held_now = dict(
        OfferWait.objects.filter(pk__in=list(used), status=OfferWait.Status.OFFERED).values_list("pk", "held")
    )
    if held_now:
        OfferWait.objects.filter(pk__in=list(held_now)).update(
            status=OfferWait.Status.ACCEPTED, ended_at=timezone.now()
        )
    return {
        wait.offer_id: wait.held - held_now.get(wait_id, 0)
        for wait_id, wait in used.items()
        if wait.held != held_now.get(wait_id, 0)
    }


def waits_end_served(*, wait_ids: Iterable[int]) -> None:
    """The member got units of these entries' products without waiting (some were free): they leave those
    lists (entries still waiting only)."""
    OfferWait.objects.filter(pk__in=list(wait_ids), status=OfferWait.Status.WAITING).update(
        status=OfferWait.Status.ACCEPTED, ended_at=timezone.now()
    )


def sale_offer_waits_lapse(*, sale: Sale, now: datetime) -> int:
    """At closing (the sale locked by the closing job): every entry lapses, held units go back (offers in
    ascending pk order), and the members are told. Returns how many entries lapsed."""
    open_waits = list(
        OfferWait.objects.filter(sale=sale, status__in=OfferWait.OPEN)
        .order_by("offer_id", "pk")
        .values("pk", "offer_id", "status", "held")
    )
    held: dict[int, int] = {}
    for wait in open_waits:
        if wait["status"] == OfferWait.Status.OFFERED:
            held[wait["offer_id"]] = held.get(wait["offer_id"], 0) + wait["held"]
    # No checkout of the sale runs meanwhile (the closing holds it FOR UPDATE): one offer after the other.
    for offer in Offer.objects.filter(pk__in=list(held)).select_related("product").order_by("pk"):
        _units_move(offer, -held[offer.pk])
    OfferWait.objects.filter(pk__in=[wait["pk"] for wait in open_waits]).update(
        status=OfferWait.Status.LAPSED, ended_at=now
    )
    for wait in open_waits:
        _email(wait["pk"], "lapsed")
    return len(open_waits)
