"""Writes of a member's order: placing, changing, cancelling, releasing (stock and slot given back), and the
member's preferences. Money goes through orders.payments.services."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import NoReturn

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from marketplace import central_stock, followups, inserts, rows
from marketplace.models import User
from marketplace.money import euros, money
from orders import locks, pricing
from orders.events import order_event
from orders.ledger import fund
from orders.models import (
    MAX_LINE_QUANTITY,
    MemberPreferences,
    Offer,
    OfferWait,
    Order,
    OrderEvent,
    OrderLine,
    PaymentStatus,
    PriceTier,
    Sale,
    ShopSettings,
    SlotWait,
)
from orders.payments import balance as balances
from orders.payments import services as payment_services
from orders.waiting import offers as offer_waits
from orders.waiting import selectors as waiting_selectors
from orders.waiting import services as waiting_services
from pickup_points import locks as point_locks
from pickup_points import services as point_services
from pickup_points.models import PickupSlot, SlotBooking
from producers.models import Product

ZERO = Decimal("0")


class OrderRefused(Exception):
    """An order that cannot be placed, changed or cancelled; the message says why, for the member."""


class StockShort(OrderRefused):
    """Refused because products have less left than the cart asks: `shortfall` says by how many units, by
    offer id, so that the cart can be brought down to what is left (the checkout page does it, and asks the
    member to confirm again)."""

    def __init__(self, message: str, shortfall: dict[int, int]):
        super().__init__(message)
        self.shortfall = shortfall


@transaction.atomic
def member_preferences_update(*, user: User, reminders: bool) -> MemberPreferences:
    preferences = locks.preferences_lock(user)
    preferences.reminders = reminders
    preferences.full_clean(validate_constraints=False)
    preferences.save()
    return preferences


def _open_sale(sale_id: int) -> Sale:
    return _check_open(locks.sale_share(sale_id))


def _check_open(sale: Sale | None) -> Sale:
    """The sale (held FOR SHARE), refused unless published and open."""
    if sale is None or not sale.is_published:
        raise OrderRefused(_("Cette vente n'existe pas."))
    status = sale.status
    if status == Sale.Status.SCHEDULED:
        raise OrderRefused(_("Cette vente n'est pas encore ouverte : revenez à son ouverture."))
    if status == Sale.Status.CLOSED:
        raise OrderRefused(
            _("Cette vente est close : les commandes ne peuvent plus être passées ni modifiées.")
        )
    return sale


_OFFERS_IN = f"""
    SELECT {rows.columns(Offer, "o")}, p.shared_product_id
    FROM {Offer._meta.db_table} o JOIN {Product._meta.db_table} p ON p.id = o.product_id
    WHERE o.id = ANY(%(ids)s::bigint[])
"""  # noqa: S608 - the models' tables
_OFFERS_OF_SALE_IN = _OFFERS_IN + " AND o.sale_id = %(sale)s"


def _offers_in(offer_ids, *, sale: Sale | None = None) -> dict[int, Offer]:
    """The offers of `offer_ids` (of `sale` only, if given) by id, each with its product's link to a central
    stock (`shared_product_id`). One plain statement, read by every checkout: the ORM's query building for
    this join cost twice the database's time."""
    params = {"ids": [int(offer_id) for offer_id in offer_ids], "sale": sale.pk if sale else None}
    if not params["ids"]:
        return {}
    offers = {}
    with connection.cursor() as cursor:
        cursor.execute(_OFFERS_OF_SALE_IN if sale else _OFFERS_IN, params)
        for row in cursor.fetchall():
            offer = rows.instance(Offer, row)
            offer.shared_product_id = row[rows.width(Offer)]
            offers[offer.pk] = offer
    return offers


def _clean_quantities(sale: Sale, quantities: Mapping[int, int]) -> dict[int, Offer]:
    """The sale's offers for the wanted quantities; anything not of this sale or out of range is refused."""
    wanted = {int(offer_id): quantity for offer_id, quantity in quantities.items() if quantity}
    if not wanted:
        raise OrderRefused(_("Votre panier est vide."))
    for quantity in wanted.values():
        if not isinstance(quantity, int) or quantity < 1 or quantity > MAX_LINE_QUANTITY:
            raise OrderRefused(
                _("Les quantités vont de 1 à %(max)s par produit.") % {"max": MAX_LINE_QUANTITY}
            )
    offers = _offers_in(wanted, sale=sale)
    if len(offers) != len(wanted):
        raise OrderRefused(_("Un produit de votre panier n'est pas proposé dans cette vente."))
    return offers


def _sold_out(name: str, remaining: int) -> str:
    return (
        _("Il ne reste que %(remaining)s × « %(name)s » : modifiez la quantité.")
        % {"remaining": remaining, "name": name}
        if remaining
        else _("« %(name)s » est épuisé : retirez-le de votre panier.") % {"name": name}
    )


def _move_central_stock(offers: dict[int, Offer], deltas: Mapping[int, int]) -> None:
    """The same quantities against the producers' central stocks, for the offers of shared products (after
    the offers, as orders.locks says); nothing at all when the order holds none."""
    central: dict[int, int] = {}
    named: dict[int, int] = {}  # shared product → the offer that names it
    for offer_id, delta in deltas.items():
        shared_id = offers[offer_id].shared_product_id
        if shared_id is not None and delta:
            central[shared_id] = central.get(shared_id, 0) + delta
            named[shared_id] = offer_id
    try:
        central_stock.central_stock_move(deltas=central)
    except central_stock.CentralStockShort as short:
        offer_id = named[short.shared_product_id]
        raise StockShort(
            _sold_out(offers[offer_id].name, short.available),
            {offer_id: central[short.shared_product_id] - short.available},
        ) from short


def _move_stock(offers: dict[int, Offer], deltas: Mapping[int, int], *, lock: Iterable[int] = ()) -> None:
    """Take (positive delta) or give back (negative delta) quantities, in one statement that locks the
    offers in ascending pk order (locks.offers_move): it never takes more than what remains, even under
    concurrency. Refused as a whole when one offer has not enough left (the first, in pk order, is named).
    Then the central stocks of shared products (marketplace.central_stock), in the same transaction.
    `offers` holds every offer of `deltas`, with its link to a central stock (see _offers_in); the offers of
    `lock` are locked by the same statement even when they do not move."""
    deltas = {offer_id: delta for offer_id, delta in deltas.items() if delta}
    locked = {offer_id: 0 for offer_id in lock if offer_id not in deltas}
    if not deltas and not locked:
        return
    moved = locks.offers_move({**deltas, **locked})
    short = sorted(set(deltas) - moved)
    if short:
        if any(deltas[offer_id] < 0 for offer_id in short):
            raise RuntimeError(f"offers {short}: sold counter out of step")
        _stock_short(offers, deltas, short)
    _move_central_stock(offers, deltas)
    # Units given back go to the products' waiting lists, if any, once this transaction commits.
    offer_waits.offers_freed(offer_ids=[offer_id for offer_id, delta in deltas.items() if delta < 0])


def _stock_short(offers: dict[int, Offer], deltas: Mapping[int, int], short: list[int]) -> NoReturn:
    """Refuse the order for the offers of `short`, which have less left than `deltas` takes: the message
    names the first (in pk order), the refusal says what each lacks."""
    left = {offer.pk: offer.remaining or 0 for offer in Offer.objects.filter(pk__in=short)}
    raise StockShort(
        _sold_out(offers[short[0]].name, left[short[0]]),
        {offer_id: deltas[offer_id] - left[offer_id] for offer_id in short},
    )


def _move_member_stock(
    offers: dict[int, Offer], deltas: Mapping[int, int], waits: Mapping[int, OfferWait]
) -> None:
    """_move_stock for a member on products' waiting lists (`waits`: their open entries by offer, from
    orders.waiting.selectors.member_offer_waits): the units held for them are used first (already counted:
    see orders.waiting.offers). The holds were read before the offers' locks: every offer of a hold taken is
    locked by the first move (even one that does not move), the holds are read again under it, and what
    changed meanwhile is set right by a second move (a hold ended: its units taken from the stock as usual;
    a hold topped up: the extra units given back, to the next in line). They leave the lists of the products
    they now get without waiting."""
    holds = {offer_id: wait for offer_id, wait in waits.items() if wait.is_offered}
    if not holds:
        _move_stock(offers, deltas)
    else:
        taken = [offer_id for offer_id in holds if deltas.get(offer_id, 0) > 0]
        _move_stock(offers, offer_waits.holds_applied(holds, deltas), lock=taken)
        _move_stock(offers, offer_waits.holds_consume(holds=holds, deltas=deltas))
    served = [
        wait.pk for offer_id, wait in waits.items() if offer_id not in holds and deltas.get(offer_id, 0) > 0
    ]
    if served:
        offer_waits.waits_end_served(wait_ids=served)


def stock_give_back(*, quantities: Mapping[int, int]) -> None:
    """Give quantities back to their offers (lines cancelled by the closing job), in ascending pk order.
    Runs inside the caller's transaction."""
    deltas = {offer_id: -quantity for offer_id, quantity in quantities.items() if quantity}
    _move_stock(_offers_in(deltas), deltas)


def order_lines_build(
    order: Order, offers: dict[int, Offer], quantities: Mapping[int, int], *, percent: Decimal = ZERO
) -> list[OrderLine]:
    """The lines of an order at the sale's frozen prices, moved by the member's tier (orders.pricing), each
    amount rounded once (not saved); the base price and amount stay on the line for the supplier."""
    lines = []
    priced = {offer.pk: offer for offer in pricing.offers_priced(offers.values(), percent)}
    for offer_id, quantity in sorted(quantities.items()):
        offer = offers[offer_id]
        shown = priced[offer_id]
        lines.append(
            OrderLine(
                order=order,
                offer=offer,
                name=offer.name,
                unit=offer.unit,
                quantity=quantity,
                unit_price=shown.price,
                base_unit_price=offer.price,
                vat_rate=offer.vat_rate,
                is_variable_weight=offer.is_variable_weight,
                amount=money(shown.unit_amount * quantity),
                base_amount=money(offer.unit_amount * quantity),
            )
        )
    return lines


PRICING_TIER = "tier"  # what the checkout page showed: the tier's prices, or the base prices
PRICING_BASE = "base"


def _priced_lines(
    order: Order,
    offers: dict[int, Offer],
    quantities: Mapping[int, int],
    *,
    tier: PriceTier | None,
    pricing_seen: str,
    reserved: Decimal = ZERO,
) -> list[OrderLine]:
    """The lines at the member's tier. A discount is given only if the solidarity fund covers it, decided
    under the fund's lock (held until the commit, when the order's entries reserve it); `reserved` is what
    this order already holds of the fund. If the member saw the discount and the fund no longer covers it,
    the order is refused: they see the base prices before ordering, never after."""
    percent = tier.percent if tier else ZERO
    lines = order_lines_build(order, offers, quantities, percent=percent)
    if percent < 0:
        discount = sum((line.base_amount - line.amount for line in lines), ZERO)
        available = fund.fund_available_locked() + reserved
        if discount > available:
            if pricing_seen == PRICING_TIER:
                raise OrderRefused(
                    _(
                        "Le fonds solidaire ne couvre plus la remise de ce panier (il reste %(amount)s) : "
                        "votre commande n'est pas passée. Les prix de base sont affichés ; validez à nouveau "
                        "pour commander à ces prix."
                    )
                    % {"amount": euros(available)}
                )
            percent = ZERO
            lines = order_lines_build(order, offers, quantities)
    order.price_tier = tier
    order.tier_percent = percent
    return lines


def _check_payment_method(payment_method: str) -> None:
    if payment_method not in ShopSettings.current().payment_methods:
        raise OrderRefused(_("Ce moyen de paiement n'est pas accepté par le collectif."))


def _slot_refusal(refusal: point_services.BookingRefused) -> OrderRefused:
    if isinstance(refusal, point_services.SlotElsewhere):
        return OrderRefused(
            _("Ce créneau ne fait pas partie de cette vente : choisissez-en un dans la liste.")
        )
    return OrderRefused(str(refusal))


def _take_slot(sale: Sale, slot_id: int, user: User, *, waits: bool = True) -> PickupSlot:
    """A place in a slot of the sale's distribution (one conditional UPDATE), or the place held there for the
    member by its waiting list; its booking is written last. `waits`: whether the member may be on one of the
    sale's waiting lists (False spares the look-up)."""
    if waits:
        held = waiting_services.hold_take(slot_id=slot_id, user=user, distribution_id=sale.distribution_id)
        if held is not None:
            return held
    try:
        slot = point_services.slot_take(slot_id=slot_id, user=user, distribution_id=sale.distribution_id)
    except point_services.BookingRefused as refusal:
        raise _slot_refusal(refusal) from refusal
    if waits:
        waiting_services.waits_end_booked(slot_id=slot_id, user=user)
    return slot


def _duplicate_refusal(error: IntegrityError) -> OrderRefused | None:
    """What a member is told when two checkouts of theirs ran at once (a double click) and the database
    refused the second: the same as when the first had been seen before. None: another error."""
    booked = point_services.booking_duplicate(error)
    if booked is not None:
        return OrderRefused(str(booked))
    if getattr(getattr(error.__cause__, "diag", None), "constraint_name", None) == ONE_ORDER_PER_SALE:
        return OrderRefused(_("Vous avez déjà une commande pour cette vente : modifiez-la plutôt."))
    return None


ONE_ORDER_PER_SALE = "order_one_placed_per_member_and_sale"  # the constraint's name (models.Order)


def _duplicates_refused(service):
    """Around an order service's transaction: when the database refused a second checkout of the member
    (a double click), the whole transaction rolled back and nothing of it is left; say so as a refusal."""

    @functools.wraps(service)
    def refusing(**kwargs):
        try:
            return service(**kwargs)
        except IntegrityError as error:
            refusal = _duplicate_refusal(error)
            if refusal is None:
                raise
            raise refusal from error

    return refusing


def _notify(order: Order, kind: str) -> None:
    followups.followup_add(
        "orders.tasks.order_confirmation_send",
        schema_name=connection.schema_name,
        order_id=order.pk,
        kind=kind,
    )


@_duplicates_refused
@transaction.atomic
def order_place(
    *,
    sale_id: int,
    user: User,
    quantities: Mapping[int, int],
    slot_id: int,
    payment_method: str,
    pricing_seen: str = "",
) -> Order:
    """Place an order in one transaction: the stock of every line and a place in the slot are taken, or
    nothing is. Prices and totals come from the sale's frozen offers and the member's tier, never from the
    request; `pricing_seen` says whether the member was shown their tier's discount (PRICING_TIER).
    The order's own rows first, then what other checkouts compete for, the basket number last (see
    locks). A second order of the member at the same moment is refused by the database's constraints
    (worded by _duplicates_refused)."""
    sale = _check_open(locks.sale_share_for_member(sale_id, user.pk))
    if sale.member_has_order:
        raise OrderRefused(_("Vous avez déjà une commande pour cette vente : modifiez-la plutôt."))
    _check_payment_method(payment_method)
    offers = _clean_quantities(sale, quantities)
    wanted = {offer_id: quantities[offer_id] for offer_id in offers}
    order = Order(
        sale=sale,
        user=user,
        number=f"pending-{uuid.uuid4().hex[:11]}",  # until its pk is known, below
        payment_method=payment_method,
    )
    # The member's tier came with the sale (one statement): its id and percentage are all pricing needs.
    tier = (
        PriceTier(pk=sale.member_tier_id, percent=sale.member_tier_percent)
        if sale.member_tier_id is not None
        else None
    )
    lines = _priced_lines(order, offers, wanted, tier=tier, pricing_seen=pricing_seen)
    order.total = sum((line.amount for line in lines), Decimal("0"))
    inserts.insert_with_children(order, lines, fk="order")  # one statement for both
    order.number = f"{sale.pk}-{order.pk:05d}"  # written with the booking, below
    payment_services.new_order_known(order, lines)
    # Its ledger entry, history row and follow-up: one statement (nothing reads them before the commit).
    with inserts.together():
        payment_services.hold_start(order, new_order=True)
        order_event(order=order, kind=OrderEvent.Kind.PLACED)
        _notify(order, "placed")
    # Only a member on one of the sale's product lists has entries to read (said by the sale's statement).
    waits = waiting_selectors.member_offer_waits(sale=sale, user=user) if sale.member_offer_waits else {}
    _move_member_stock(offers, wanted, waits)
    slot = _take_slot(sale, slot_id, user, waits=sale.member_waits)
    locks.order_basket_book(order=order, slot=slot)  # the last statement: the order's number with it
    order._prefetched_objects_cache = {}  # type: ignore[attr-defined]  # read afresh from now on
    return order


@_duplicates_refused
@transaction.atomic
def order_update(
    *,
    order_id: int,
    user: User,
    quantities: Mapping[int, int],
    slot_id: int,
    payment_method: str,
    seen_updated_at: datetime | None = None,
    pricing_seen: str = "",
) -> Order:
    """Change an order until the sale closes: quantities move by their difference, the slot changes only
    if another one is chosen; all or nothing. A new slot's booking (and basket number) is written last."""
    current = Order.objects.filter(pk=order_id, user=user).select_related("booking").first()
    if current is None or not current.is_placed:
        raise OrderRefused(_("Cette commande n'existe pas ou a été annulée."))
    sale = _open_sale(current.sale_id)
    _check_payment_method(payment_method)
    offers = _clean_quantities(sale, quantities)
    old = dict(current.lines.values_list("offer_id", "quantity"))
    offers.update(_offers_in([offer_id for offer_id in old if offer_id not in offers]))
    wanted = {offer_id: quantities[offer_id] for offer_id in offers if quantities.get(offer_id)}
    if (
        wanted == old
        and current.booking is not None
        and current.booking.slot_id == slot_id
        and current.payment_method == payment_method
    ):
        return current  # the same order again (a double click): nothing changes, nobody is told
    deltas = {offer_id: wanted.get(offer_id, 0) - old.get(offer_id, 0) for offer_id in set(old) | set(wanted)}
    _move_member_stock(
        offers,
        {offer_id: delta for offer_id, delta in deltas.items() if delta},
        waiting_selectors.member_offer_waits(sale=sale, user=user),
    )
    booking = current.booking
    new_slot = None
    if booking is None or booking.slot_id != slot_id:
        slot_ids = sorted({slot_id} | ({booking.slot_id} if booking else set()))
        for locked_id in slot_ids:  # both slots, in ascending order, before moving between them
            point_locks.slot_lock(locked_id)
        if booking is not None:
            point_services.slot_release(booking=booking)
        new_slot = _take_slot(sale, slot_id, user)  # its booking is written last (the basket counter)
        booking = None
    order = locks.order_lock(current.pk)
    if order.updated_at != (seen_updated_at or current.updated_at) or not order.is_placed:
        raise OrderRefused(
            _("Votre commande vient d'être modifiée ailleurs : rechargez la page et recommencez.")
        )
    tier = pricing.member_tier(user=user)
    had_discount = (tier is not None and tier.has_discount) or order.tier_percent < 0
    reserved = -fund.order_fund_sums(order)[0] if had_discount else ZERO
    lines = _priced_lines(order, offers, wanted, tier=tier, pricing_seen=pricing_seen, reserved=reserved)
    order.lines.all().delete()
    OrderLine.objects.bulk_create(lines)
    try:
        payment_services.order_change_check(
            order,
            new_cap=balances.order_amounts(order).cap,
            payment_method=payment_method,
        )
    except payment_services.PaymentRefused as refusal:
        raise OrderRefused(str(refusal)) from refusal
    order.booking = booking
    order.basket_number = booking.basket_number if booking else None
    order.payment_method = payment_method
    order.total = sum((line.amount for line in lines), Decimal("0"))
    order.save()
    if had_discount:  # the reservation follows the new basket (given back if the fund no longer pays)
        fund.fund_order_sync(order, in_fund=-reserved, short=ZERO)
    payment_services.hold_start(order)
    payment_services.excess_refund(order)
    order_event(order=order, kind=OrderEvent.Kind.UPDATED)
    _notify(order, "updated")
    if new_slot is not None:
        order.booking = point_locks.basket_book(slot=new_slot, user_id=user.pk)
        order.basket_number = order.booking.basket_number
        Order.objects.filter(pk=order.pk).update(booking=order.booking, basket_number=order.basket_number)
    return order


@transaction.atomic
def slot_wait_accept(*, wait_id: int, user: User) -> Order | None:
    """Take the place held for the member by a waiting list, in one step: their order of the sale moves to
    that slot (nothing else changes). None when they have no order in the sale yet: the checkout then takes
    the held slot with the rest of the order."""
    wait = SlotWait.objects.filter(pk=wait_id, user=user).first()
    if wait is None or wait.status != SlotWait.Status.OFFERED:
        raise OrderRefused(_("Cette place ne vous est plus réservée."))
    order = Order.objects.filter(sale_id=wait.sale_id, user=user, status=Order.Status.PLACED).first()
    if order is None:
        return None
    return order_update(
        order_id=order.pk,
        user=user,
        quantities=dict(order.lines.values_list("offer_id", "quantity")),
        slot_id=wait.slot_id,
        payment_method=order.payment_method,
        seen_updated_at=order.updated_at,
    )


@transaction.atomic
def offer_wait_accept(*, wait_id: int, user: User) -> Order | None:
    """Take the units a product's waiting list holds for the member, in one step: they are added to their
    order of the sale (nothing else changes). None when they have no order in the sale yet: the sale page
    then shows the held units in the cart, and the checkout takes them with the rest of the order."""
    wait = OfferWait.objects.filter(pk=wait_id, user=user).first()
    if wait is None or wait.status != OfferWait.Status.OFFERED:
        raise OrderRefused(_("Ces produits ne vous sont plus réservés."))
    order = Order.objects.filter(sale_id=wait.sale_id, user=user, status=Order.Status.PLACED).first()
    if order is None:
        return None
    quantities = dict(order.lines.values_list("offer_id", "quantity"))
    quantities[wait.offer_id] = min(quantities.get(wait.offer_id, 0) + wait.held, MAX_LINE_QUANTITY)
    return order_update(
        order_id=order.pk,
        user=user,
        quantities=quantities,
        slot_id=order.booking.slot_id if order.booking else 0,
        payment_method=order.payment_method,
        seen_updated_at=order.updated_at,
    )


@transaction.atomic
def order_cancel(*, order_id: int, user: User, seen_updated_at: datetime | None = None) -> Order:
    """Cancel until the sale closes: the stock and the slot place are released at once."""
    current = Order.objects.filter(pk=order_id, user=user).select_related("booking").first()
    if current is None or not current.is_placed:
        raise OrderRefused(_("Cette commande n'existe pas ou a déjà été annulée."))
    _open_sale(current.sale_id)
    old = dict(current.lines.values_list("offer_id", "quantity"))
    offers = _offers_in(old)
    _move_stock(offers, {offer_id: -quantity for offer_id, quantity in old.items()})
    if current.booking is not None:
        try:
            point_services.slot_release(booking=current.booking)
        except point_services.BookingRefused as refusal:
            raise OrderRefused(str(refusal)) from refusal
    order = locks.order_lock(current.pk)
    if order.updated_at != (seen_updated_at or current.updated_at) or not order.is_placed:
        raise OrderRefused(
            _("Votre commande vient d'être modifiée ailleurs : rechargez la page et recommencez.")
        )
    _cancel(order, kind=OrderEvent.Kind.CANCELLED)
    return order


def _cancel(order: Order, *, kind: str) -> None:
    event = order.transition(to=Order.Status.CANCELLED, kind=kind)
    order.save(update_fields=["status", "booking", "basket_number", "updated_at"])
    event.save()
    payment_services.on_order_cancelled(order)
    _notify(order, kind)


class _ChangedMeanwhile(Exception):
    pass


def order_release(*, order_id: int) -> bool:
    """Cancel a card order whose payment did not come in time (or before the sale closed): its stock and
    place go back to the others and the member is told. False when it was paid or changed meanwhile."""
    current = Order.objects.filter(pk=order_id).first()
    if current is None or not current.is_placed or current.payment_status != PaymentStatus.AWAITING:
        return False
    try:
        with transaction.atomic():
            locks.sale_share(current.sale_id)
            old = dict(current.lines.values_list("offer_id", "quantity"))
            offers = _offers_in(old)
            _move_stock(offers, {offer_id: -quantity for offer_id, quantity in old.items()})
            booking = SlotBooking.objects.filter(pk=current.booking_id).first()
            if booking is not None:
                point_services.slot_release(booking=booking)
            order = locks.order_lock(current.pk)
            if order.updated_at != current.updated_at or order.payment_status != PaymentStatus.AWAITING:
                raise _ChangedMeanwhile  # rolls the stock back: it was paid or changed meanwhile
            _cancel(order, kind=OrderEvent.Kind.RELEASED)
            return True
    except _ChangedMeanwhile:
        return False
