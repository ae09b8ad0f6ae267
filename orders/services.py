"""Every write of the ordering app: sales, schedules, orders."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from itertools import islice

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from marketplace import followups
from marketplace.models import Collective, User
from marketplace.money import money
from orders import locks, payments, stripe_gateway
from orders.models import (
    MAX_LINE_QUANTITY,
    MemberPreferences,
    Offer,
    Order,
    OrderEvent,
    OrderLine,
    PaymentMethod,
    PaymentStatus,
    RecurringSchedule,
    Sale,
    ShopSettings,
)
from pickup_points import locks as point_locks
from pickup_points import services as point_services
from pickup_points.models import Distribution, PickupPoint, PickupSlot, SlotBooking
from producers.models import Producer, Product


class OrderRefused(Exception):
    """An order that cannot be placed, changed or cancelled; the message says why, for the member."""


# Settings ---------------------------------------------------------------------------------------------------


@transaction.atomic
def shop_settings_update(
    *,
    payment_methods: Iterable[str],
    weight_margin_percent: int | None = None,
    card_hold_minutes: int | None = None,
) -> ShopSettings:
    methods = [value for value in PaymentMethod.values if value in set(payment_methods)]
    if not methods:
        raise ValidationError({"payment_methods": _("Choisissez au moins un moyen de paiement.")})
    if PaymentMethod.CARD in methods and not payments.card_ready():
        raise ValidationError(
            {"payment_methods": _("Le paiement par carte sera disponible une fois le compte Stripe relié.")}
        )
    settings_row = ShopSettings.current()
    settings_row.payment_methods = methods
    if weight_margin_percent is not None:
        settings_row.weight_margin_percent = weight_margin_percent
    if card_hold_minutes is not None:
        settings_row.card_hold_minutes = card_hold_minutes
    settings_row.full_clean()
    settings_row.save()
    return settings_row


def stripe_connect_start(*, collective: Collective, email: str, refresh_url: str, return_url: str) -> str:
    """The Stripe onboarding address for the collective's own account (created on first use)."""
    if not stripe_gateway.is_configured():
        raise ValidationError(_("Stripe n'est pas configuré sur cette instance (STRIPE_SECRET_KEY)."))
    if not collective.stripe_account_id:
        account = stripe_gateway.account_create(
            email=email, name=collective.name, schema_name=collective.schema_name
        )
        Collective.objects.filter(pk=collective.pk).update(stripe_account_id=account.id)
        collective.stripe_account_id = account.id
    return stripe_gateway.account_link_create(
        account=collective.stripe_account_id, refresh_url=refresh_url, return_url=return_url
    )


def stripe_account_refresh(*, collective: Collective) -> bool:
    """Read from Stripe whether the collective's account takes charges; True when it does."""
    if not collective.stripe_account_id:
        return False
    account = stripe_gateway.account_retrieve(collective.stripe_account_id)
    enabled = bool(account.charges_enabled)
    Collective.objects.filter(pk=collective.pk).update(stripe_charges_enabled=enabled)
    collective.stripe_charges_enabled = enabled
    return enabled


@transaction.atomic
def member_preferences_update(*, user: User, reminders: bool) -> MemberPreferences:
    preferences = locks.preferences_lock(user)
    preferences.reminders = reminders
    preferences.full_clean(validate_constraints=False)
    preferences.save()
    return preferences


# Sales ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferRow:
    """A coordinator's choice for one product of a sale: offered or not, how many, at what price."""

    product_id: int
    included: bool
    quantity: int | None
    price: Decimal


def _offer_for(sale: Sale, product: Product, *, quantity: int | None, price: Decimal) -> Offer:
    offer = Offer(
        sale=sale,
        product=product,
        producer_id=product.producer_id,
        name=product.name,
        unit=product.unit,
        price=money(price),
        vat_rate=product.vat_rate,
        is_variable_weight=product.is_variable_weight,
        estimated_weight_kg=product.estimated_weight_kg,
        quantity=quantity,
    )
    offer.full_clean(exclude=["sale"], validate_constraints=False)
    return offer


def _check_times(*, opens_at: datetime, closes_at: datetime, starts_at: datetime, ends_at: datetime) -> None:
    errors = {}
    if closes_at <= opens_at:
        errors["closes_at"] = _("La clôture doit venir après l'ouverture.")
    if starts_at < closes_at:
        errors["distribution_date"] = _("La distribution doit avoir lieu après la clôture des commandes.")
    if ends_at <= starts_at:
        errors["distribution_end"] = _("La fin de la distribution doit venir après son début.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def sale_create(
    *,
    title: str,
    opens_at: datetime,
    closes_at: datetime,
    distribution_starts_at: datetime,
    distribution_ends_at: datetime,
    points: Iterable[PickupPoint],
    producers: Iterable[Producer],
    publish: bool = False,
    schedule: RecurringSchedule | None = None,
    offer_rows: Iterable[OfferRow] | None = None,
) -> Sale:
    """A sale with its distribution (slots generated from the points' rules) and its offers: by default
    every active product of the chosen producers, at its catalogue price and stock, frozen for this sale."""
    _check_times(
        opens_at=opens_at, closes_at=closes_at, starts_at=distribution_starts_at, ends_at=distribution_ends_at
    )
    producers = list(producers)
    if not producers:
        raise ValidationError({"producers": _("Choisissez au moins un producteur.")})
    local_day = timezone.localtime(distribution_starts_at).date()
    start, end = timezone.localtime(distribution_starts_at), timezone.localtime(distribution_ends_at)
    distribution = point_services.distribution_create(
        date=local_day,
        points=points,
        label=title,
        hours=(start.time(), end.time()) if start.date() == end.date() else None,
    )
    sale = Sale(
        title=title.strip(),
        opens_at=opens_at,
        closes_at=closes_at,
        distribution=distribution,
        distribution_starts_at=distribution_starts_at,
        distribution_ends_at=distribution_ends_at,
        is_published=publish,
        schedule=schedule,
    )
    sale.full_clean()
    sale.save()
    sale.producers.set(producers)
    products = Product.objects.filter(producer__in=producers, is_active=True, producer__is_active=True)
    rows = {row.product_id: row for row in offer_rows} if offer_rows is not None else None
    offers = []
    for product in products.order_by("pk"):
        if rows is None:
            offers.append(_offer_for(sale, product, quantity=product.stock, price=product.price))
        elif product.pk in rows and rows[product.pk].included:
            row = rows[product.pk]
            offers.append(_offer_for(sale, product, quantity=row.quantity, price=row.price))
    Offer.objects.bulk_create(offers)
    return sale


@transaction.atomic
def sale_offers_update(*, sale_id: int, rows: Iterable[OfferRow]) -> Sale:
    """Change what a sale offers. Prices are frozen once the sale is open; a quantity never goes below
    what is already sold. Errors are keyed by product id (the page shows each on its product's row)."""
    # The sale FOR UPDATE is enough: every change of an offer's counter holds the sale (FOR SHARE, see locks).
    sale = locks.sale_lock(sale_id)
    rows = list(rows)
    prices_frozen = sale.status in {Sale.Status.OPEN, Sale.Status.CLOSED}
    offers = {offer.product_id: offer for offer in Offer.objects.filter(sale=sale)}
    producer_ids = set(sale.producers.values_list("pk", flat=True))
    products = Product.objects.in_bulk([row.product_id for row in rows if row.product_id not in offers])
    errors: dict[str, list[str]] = {}

    def refuse(row: OfferRow, message: str) -> None:
        errors.setdefault(str(row.product_id), []).append(message)

    for row in rows:
        offer = offers.get(row.product_id)
        if offer is None:
            product = products.get(row.product_id)
            if not row.included or product is None or product.producer_id not in producer_ids:
                continue
            if prices_frozen and money(row.price) != product.price:
                refuse(
                    row,
                    _("%(name)s : le prix ne peut plus changer, la vente est ouverte.")
                    % {"name": product.name},
                )
                continue
            new = _offer_for(sale, product, quantity=row.quantity, price=row.price)
            new.sale = sale
            new.save()
        elif not row.included:
            if offer.sold:
                refuse(
                    row,
                    _("%(name)s : déjà commandé, il ne peut pas être retiré de la vente.")
                    % {"name": offer.name},
                )
            else:
                offer.delete()
        elif row.quantity is not None and row.quantity < offer.sold:
            refuse(
                row,
                ngettext(
                    "%(name)s : %(sold)s déjà commandé, la quantité ne peut pas être inférieure.",
                    "%(name)s : %(sold)s déjà commandés, la quantité ne peut pas être inférieure.",
                    offer.sold,
                )
                % {"name": offer.name, "sold": offer.sold},
            )
        elif prices_frozen and money(row.price) != offer.price:
            refuse(
                row,
                _("%(name)s : le prix ne peut plus changer, la vente est ouverte.") % {"name": offer.name},
            )
        else:
            offer.quantity = row.quantity
            offer.price = money(row.price)
            offer.full_clean(validate_constraints=False)
            offer.save(update_fields=["quantity", "price"])
    if errors:
        raise ValidationError(errors)
    return sale


@transaction.atomic
def sale_publish(*, sale_id: int, publish: bool = True) -> Sale:
    sale = locks.sale_lock(sale_id)
    if not publish and sale.orders.filter(status=Order.Status.PLACED).exists():
        raise ValidationError(_("Des membres ont déjà commandé : la vente ne peut plus être dépubliée."))
    sale.is_published = publish
    sale.save(update_fields=["is_published"])
    return sale


@transaction.atomic
def sale_duplicate(
    *,
    sale: Sale,
    title: str,
    opens_at: datetime,
    closes_at: datetime,
    distribution_starts_at: datetime,
    distribution_ends_at: datetime,
) -> Sale:
    """A new draft sale with the same pickup points, producers and products as `sale`, at today's
    catalogue prices and with the quantities `sale` offered (so a past sale serves as a template)."""
    rows = []
    for offer in sale.offers.select_related("product"):
        if offer.product.is_active:
            rows.append(OfferRow(offer.product_id, True, offer.quantity, offer.product.price))
    return sale_create(
        title=title,
        opens_at=opens_at,
        closes_at=closes_at,
        distribution_starts_at=distribution_starts_at,
        distribution_ends_at=distribution_ends_at,
        points=sale.distribution.points.all(),
        producers=sale.producers.all(),
        offer_rows=rows,
    )


@transaction.atomic
def schedule_sales_create(*, schedule_id: int, now: datetime | None = None) -> list[Sale]:
    """Make sure the next `sales_ahead` sales of a recurring schedule exist (published: they open by
    themselves). Running it again creates nothing more; the jobs issue calls it from beat."""
    schedule = locks.schedule_lock(schedule_id)
    if not schedule.is_active:
        return []
    now = now or timezone.now()
    existing = set(schedule.sales.values_list("opens_at", flat=True))
    upcoming = schedule.sales.filter(closes_at__gt=now).count()
    created = []
    points = list(schedule.points.filter(is_active=True))
    producers = list(schedule.producers.filter(is_active=True))
    # A day that already has a pickup at one of the points (a one-off sale, a stand-alone distribution) is
    # skipped: two distributions of one morning in one hall would double its slots and confuse members.
    taken = set(
        Distribution.objects.filter(points__in=points, date__gte=timezone.localdate(now))
        .exclude(sale__schedule=schedule)
        .values_list("date", flat=True)
    )
    for occurrence in islice(schedule.rule().occurrences(after=now), schedule.sales_ahead + len(taken)):
        if upcoming + len(created) >= schedule.sales_ahead:
            break
        if occurrence.opens_at in existing or occurrence.distribution_date in taken:
            continue
        created.append(
            sale_create(
                title=f"{schedule.title} – {occurrence.distribution_date:%d/%m/%Y}",
                opens_at=occurrence.opens_at,
                closes_at=occurrence.closes_at,
                distribution_starts_at=occurrence.distribution_starts_at,
                distribution_ends_at=occurrence.distribution_ends_at,
                points=points,
                producers=producers,
                publish=True,
                schedule=schedule,
            )
        )
    return created


@transaction.atomic
def schedule_create(
    *,
    title: str,
    kind: str,
    points: Iterable[PickupPoint],
    producers: Iterable[Producer],
    open_weekday: int = 5,
    close_weekday: int = 1,
    distribution_weekday: int = 4,
    open_day: int = 1,
    close_day: int = 15,
    distribution_after_days: int = 7,
    open_time: time = time(8, 0),
    close_time: time = time(23, 59),
    distribution_start: time = time(17, 0),
    distribution_end: time = time(19, 0),
    sales_ahead: int = 2,
) -> RecurringSchedule:
    """A recurring schedule; its sales are made by schedule_sales_create (beat, or the coordinator)."""
    points, producers = list(points), list(producers)
    errors = {}
    if not points:
        errors["points"] = _("Choisissez au moins un point de retrait.")
    if not producers:
        errors["producers"] = _("Choisissez au moins un producteur.")
    if distribution_end <= distribution_start:
        errors["distribution_end"] = _("La fin de la distribution doit venir après son début.")
    if errors:
        raise ValidationError(errors)
    schedule = RecurringSchedule(
        title=title.strip(),
        kind=kind,
        open_weekday=open_weekday,
        close_weekday=close_weekday,
        distribution_weekday=distribution_weekday,
        open_day=open_day,
        close_day=close_day,
        distribution_after_days=distribution_after_days,
        open_time=open_time,
        close_time=close_time,
        distribution_start=distribution_start,
        distribution_end=distribution_end,
        sales_ahead=sales_ahead,
    )
    schedule.full_clean()
    # A monthly rule may close on its opening day (or on the same clamped day of a short month): a year of
    # occurrences shows whether every sale it would make closes after it opens.
    for occurrence in islice(schedule.rule().occurrences(after=timezone.now()), 12):
        if occurrence.closes_at <= occurrence.opens_at:
            raise ValidationError(
                {"close_day": _("Certaines ventes fermeraient avant d'ouvrir : choisissez un autre jour.")}
            )
    schedule.save()
    schedule.points.set(points)
    schedule.producers.set(producers)
    return schedule


# Orders -----------------------------------------------------------------------------------------------------


def order_event(*, order: Order, kind: OrderEvent.Kind, note: str = "") -> OrderEvent:
    """A history row for a change that is not a change of status (those go through Order.transition)."""
    if kind in {OrderEvent.Kind.CANCELLED, OrderEvent.Kind.RELEASED}:
        raise ValueError("a change of status goes through Order.transition")
    return OrderEvent.objects.create(order=order, kind=kind, note=note[:300])


def _open_sale(sale_id: int) -> Sale:
    sale = locks.sale_share(sale_id)
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
    offers = Offer.objects.filter(sale=sale, pk__in=wanted).in_bulk()
    if len(offers) != len(wanted):
        raise OrderRefused(_("Un produit de votre panier n'est pas proposé dans cette vente."))
    return offers


def _move_stock(offers: dict[int, Offer], deltas: Mapping[int, int]) -> None:
    """Take (positive delta) or give back (negative delta) quantities, offer by offer in ascending pk order.
    A conditional UPDATE per offer: it never takes more than what remains, even under concurrency."""
    for offer_id in sorted(deltas):
        delta = deltas[offer_id]
        if delta > 0:
            taken = Offer.objects.filter(
                Q(quantity__isnull=True) | Q(sold__lte=F("quantity") - delta), pk=offer_id
            ).update(sold=F("sold") + delta)
            if taken != 1:
                remaining = Offer.objects.get(pk=offer_id).remaining or 0
                raise OrderRefused(
                    _("Il ne reste que %(remaining)s × « %(name)s » : modifiez la quantité.")
                    % {"remaining": remaining, "name": offers[offer_id].name}
                    if remaining
                    else _("« %(name)s » est épuisé : retirez-le de votre panier.")
                    % {"name": offers[offer_id].name}
                )
        elif delta < 0:
            given = Offer.objects.filter(pk=offer_id, sold__gte=-delta).update(sold=F("sold") + delta)
            if given != 1:
                raise RuntimeError(f"offer {offer_id}: sold counter out of step")


def stock_give_back(*, quantities: Mapping[int, int]) -> None:
    """Give quantities back to their offers (lines cancelled by the closing job), in ascending pk order.
    Runs inside the caller's transaction."""
    _move_stock({}, {offer_id: -quantity for offer_id, quantity in quantities.items() if quantity})


def order_lines_build(
    order: Order, offers: dict[int, Offer], quantities: Mapping[int, int]
) -> list[OrderLine]:
    """The lines of an order at the sale's frozen prices, each amount rounded once (not saved)."""
    lines = []
    for offer_id, quantity in sorted(quantities.items()):
        offer = offers[offer_id]
        lines.append(
            OrderLine(
                order=order,
                offer=offer,
                name=offer.name,
                unit=offer.unit,
                quantity=quantity,
                unit_price=offer.price,
                vat_rate=offer.vat_rate,
                is_variable_weight=offer.is_variable_weight,
                amount=money(offer.unit_amount * quantity),
            )
        )
    return lines


def _check_payment_method(payment_method: str) -> None:
    if payment_method not in ShopSettings.current().payment_methods:
        raise OrderRefused(_("Ce moyen de paiement n'est pas accepté par le collectif."))


def _reserve(sale: Sale, slot_id: int, user: User):
    slot = PickupSlot.objects.filter(pk=slot_id, distribution_id=sale.distribution_id).first()
    if slot is None:
        raise OrderRefused(
            _("Ce créneau ne fait pas partie de cette vente : choisissez-en un dans la liste.")
        )
    try:
        return point_services.slot_reserve(slot_id=slot.pk, user=user)
    except point_services.BookingRefused as refusal:
        raise OrderRefused(str(refusal)) from refusal


def _notify(order: Order, kind: str) -> None:
    followups.followup_add(
        "orders.tasks.order_confirmation_send",
        schema_name=connection.schema_name,
        order_id=order.pk,
        kind=kind,
    )


@transaction.atomic
def order_place(
    *, sale_id: int, user: User, quantities: Mapping[int, int], slot_id: int, payment_method: str
) -> Order:
    """Place an order in one transaction: the stock of every line and a place in the slot are taken, or
    nothing is. Prices and totals come from the sale's frozen offers, never from the request."""
    sale = _open_sale(sale_id)
    if Order.objects.filter(sale=sale, user=user, status=Order.Status.PLACED).exists():
        raise OrderRefused(_("Vous avez déjà une commande pour cette vente : modifiez-la plutôt."))
    _check_payment_method(payment_method)
    offers = _clean_quantities(sale, quantities)
    wanted = {offer_id: quantities[offer_id] for offer_id in offers}
    _move_stock(offers, wanted)
    booking = _reserve(sale, slot_id, user)
    order = Order(
        sale=sale,
        user=user,
        number=f"pending-{booking.pk}",
        booking=booking,
        basket_number=booking.basket_number,
        payment_method=payment_method,
    )
    order.save()
    lines = order_lines_build(order, offers, wanted)
    OrderLine.objects.bulk_create(lines)
    order.number = f"{sale.pk}-{order.pk:05d}"
    order.total = sum((line.amount for line in lines), Decimal("0"))
    order.save(update_fields=["number", "total"])
    payments.hold_start(order)
    order_event(order=order, kind=OrderEvent.Kind.PLACED)
    _notify(order, "placed")
    return order


@transaction.atomic
def order_update(
    *,
    order_id: int,
    user: User,
    quantities: Mapping[int, int],
    slot_id: int,
    payment_method: str,
    seen_updated_at: datetime | None = None,
) -> Order:
    """Change an order until the sale closes: quantities move by their difference, the slot changes only
    if another one is chosen; all or nothing."""
    current = Order.objects.filter(pk=order_id, user=user).select_related("booking").first()
    if current is None or not current.is_placed:
        raise OrderRefused(_("Cette commande n'existe pas ou a été annulée."))
    sale = _open_sale(current.sale_id)
    _check_payment_method(payment_method)
    offers = _clean_quantities(sale, quantities)
    old = dict(current.lines.values_list("offer_id", "quantity"))
    offers.update(Offer.objects.in_bulk([offer_id for offer_id in old if offer_id not in offers]))
    wanted = {offer_id: quantities[offer_id] for offer_id in offers if quantities.get(offer_id)}
    if (
        wanted == old
        and current.booking is not None
        and current.booking.slot_id == slot_id
        and current.payment_method == payment_method
    ):
        return current  # the same order again (a double click): nothing changes, nobody is told
    deltas = {offer_id: wanted.get(offer_id, 0) - old.get(offer_id, 0) for offer_id in set(old) | set(wanted)}
    _move_stock(offers, {offer_id: delta for offer_id, delta in deltas.items() if delta})
    booking = current.booking
    if booking is None or booking.slot_id != slot_id:
        slot_ids = sorted({slot_id} | ({booking.slot_id} if booking else set()))
        for locked_id in slot_ids:  # both slots, in ascending order, before moving between them
            point_locks.slot_lock(locked_id)
        if booking is not None:
            point_services.slot_release(booking=booking)
        booking = _reserve(sale, slot_id, user)
    order = locks.order_lock(current.pk)
    if order.updated_at != (seen_updated_at or current.updated_at) or not order.is_placed:
        raise OrderRefused(
            _("Votre commande vient d'être modifiée ailleurs : rechargez la page et recommencez.")
        )
    order.lines.all().delete()
    lines = order_lines_build(order, offers, wanted)
    OrderLine.objects.bulk_create(lines)
    try:
        payments.order_change_check(
            order,
            new_cap=payments.order_amounts(order).cap,
            payment_method=payment_method,
        )
    except payments.PaymentRefused as refusal:
        raise OrderRefused(str(refusal)) from refusal
    order.booking = booking
    order.basket_number = booking.basket_number
    order.payment_method = payment_method
    order.total = sum((line.amount for line in lines), Decimal("0"))
    order.save()
    payments.hold_start(order)
    payments.excess_refund(order)
    order_event(order=order, kind=OrderEvent.Kind.UPDATED)
    _notify(order, "updated")
    return order


@transaction.atomic
def order_cancel(*, order_id: int, user: User, seen_updated_at: datetime | None = None) -> Order:
    """Cancel until the sale closes: the stock and the slot place are released at once."""
    current = Order.objects.filter(pk=order_id, user=user).select_related("booking").first()
    if current is None or not current.is_placed:
        raise OrderRefused(_("Cette commande n'existe pas ou a déjà été annulée."))
    _open_sale(current.sale_id)
    old = dict(current.lines.values_list("offer_id", "quantity"))
    offers = Offer.objects.in_bulk(list(old))
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
    payments.on_order_cancelled(order)
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
            offers = Offer.objects.in_bulk(list(old))
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
