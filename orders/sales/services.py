"""Writes about sales: creating one, its offers, publishing, duplicating, and recurring schedules that create
sales ahead (orders.sales.recurrence computes their dates)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from itertools import islice

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.template.defaultfilters import date as date_format
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from marketplace import clock, followups
from marketplace import selectors as marketplace_selectors
from marketplace.models import Collective
from marketplace.money import money
from orders import locks
from orders.models import (
    Offer,
    Order,
    RecurringSchedule,
    Sale,
)
from orders.waiting import offers as offer_waits
from pickup_points import services as point_services
from pickup_points.models import Distribution, PickupPoint
from producers.agreements import AgreedPrice, agreed_prices
from producers.models import Producer, Product

# Sales ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferRow:
    """A coordinator's choice for one product of a sale: offered or not, how many, at what price."""

    product_id: int
    included: bool
    quantity: int | None
    price: Decimal


def _offer_for(
    sale: Sale, product: Product, *, quantity: int | None, price: Decimal, agreed: AgreedPrice | None = None
) -> Offer:
    """The offer of `product` in `sale`; an agreed price (producers.agreements) wins over the one given."""
    offer = Offer(
        sale=sale,
        product=product,
        producer_id=product.producer_id,
        name=product.name,
        unit=product.unit,
        price=agreed.price if agreed else money(price),
        guaranteed_until=agreed.ends_on if agreed else None,
        vat_rate=product.vat_rate,
        is_variable_weight=product.is_variable_weight,
        estimated_weight_kg=product.estimated_weight_kg,
        quantity=quantity,
    )
    offer.full_clean(exclude=["sale"], validate_constraints=False)
    return offer


def _agreed_prices(sale: Sale, product_ids: list[int]) -> dict[int, AgreedPrice]:
    """The prices agreed with the suppliers for the sale's opening day."""
    return agreed_prices(product_ids=product_ids, on=timezone.localtime(sale.opens_at).date())


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
    products = list(products.order_by("pk"))
    agreed = _agreed_prices(sale, [product.pk for product in products])
    offers = []
    for product in products:
        if rows is None:
            offers.append(
                _offer_for(
                    sale, product, quantity=product.stock, price=product.price, agreed=agreed.get(product.pk)
                )
            )
        elif product.pk in rows and rows[product.pk].included:
            row = rows[product.pk]
            offers.append(
                _offer_for(
                    sale, product, quantity=row.quantity, price=row.price, agreed=agreed.get(product.pk)
                )
            )
    Offer.objects.bulk_create(offers)
    if publish:
        _clock_lower(sale)
    return sale


def _clock_lower(sale: Sale) -> None:
    """The collective is due at the sale's next moment at the latest (marketplace.clock)."""
    moment = sale.clock_next()
    if moment is not None:
        clock.due_lower(at=moment)


def member_emails_queue(*, sale_id: int, user_ids: list[int], kind: str, **details) -> None:
    """One e-mail about the sale to each member (`kind`, see orders.emails.sale_member_email), sent after the
    commit by a follow-up each: a failing address does not hold back the others, and none is sent twice
    (`details` are the task's other arguments, part of the key)."""
    schema = connection.schema_name  # type: ignore[attr-defined]  # django-tenants' connection
    variant = ":".join(str(value) for value in details.values())
    for user_id in user_ids:
        followups.followup_add(
            "orders.tasks.sale_member_email_send",
            key=f"{schema}:sale-{sale_id}:{kind}:{variant + ':' if variant else ''}{user_id}",
            schema_name=schema,
            sale_id=sale_id,
            user_id=user_id,
            kind=kind,
            **details,
        )


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


@dataclass(frozen=True)
class WindowMoved:
    sale: Sale
    members_told: int  # e-mails queued: the members told of a new closing time


@transaction.atomic
def sale_window_move(*, sale_id: int, opens_at: datetime, closes_at: datetime) -> WindowMoved:
    """Move the ordering window of a sale that is not closed yet (its distribution stays): the clock opens,
    reminds and closes it at the new times. Once members were told the sale is open, a new closing time is
    e-mailed to each of them (after the commit)."""
    sale = locks.sale_lock(sale_id)
    if sale.closed_at is not None:
        raise ValidationError(
            _("Cette vente est close : les commandes ne peuvent plus être passées ni modifiées.")
        )
    now = timezone.now()
    # A form says minutes: the same minute as now is no change (the stored seconds are kept).
    if _minute(opens_at) == _minute(sale.opens_at):
        opens_at = sale.opens_at
    if _minute(closes_at) == _minute(sale.closes_at):
        closes_at = sale.closes_at
    if sale.is_published and sale.opens_at <= now and opens_at != sale.opens_at:
        raise ValidationError(
            {
                "opens_at": _(
                    "La vente est ouverte : son ouverture ne change plus, seule sa clôture peut changer."
                )
            }
        )
    if closes_at <= now and closes_at != sale.closes_at:
        raise ValidationError(
            {
                "closes_at": _(
                    "La clôture doit être à venir (pour clore maintenant, choisissez dans quelques minutes)."
                )
            }
        )
    _check_times(
        opens_at=opens_at,
        closes_at=closes_at,
        starts_at=sale.distribution_starts_at,
        ends_at=sale.distribution_ends_at,
    )
    previous = sale.closes_at
    sale.opens_at, sale.closes_at = opens_at, closes_at
    sale.full_clean()
    sale.save(update_fields=["opens_at", "closes_at"])
    told = 0
    if sale.is_published:
        _clock_lower(sale)
        if closes_at != previous and sale.opened_notified_at is not None:
            # Told the old closing time by the opening e-mail (a sale not announced yet will say the new one).
            user_ids = marketplace_selectors.active_member_ids(collective=Collective.objects.current())
            member_emails_queue(
                sale_id=sale.pk,
                user_ids=user_ids,
                kind="moved",
                closes_at=closes_at.isoformat(),
                previous=previous.isoformat(),
            )
            told = len(user_ids)
    return WindowMoved(sale=sale, members_told=told)


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
    shown_changed = False  # an offer added or removed, or a new price: what the sale page lists
    raised: list[int] = []

    def refuse(row: OfferRow, message: str) -> None:
        errors.setdefault(str(row.product_id), []).append(message)

    # The agreed prices of every product that may be added, in one query (not one per row).
    agreed_all = _agreed_prices(sale, [row.product_id for row in rows if row.product_id not in offers])
    for row in rows:
        offer = offers.get(row.product_id)
        if offer is None:
            product = products.get(row.product_id)
            if not row.included or product is None or product.producer_id not in producer_ids:
                continue
            agreed = agreed_all.get(product.pk)
            if prices_frozen and not agreed and money(row.price) != product.price:
                refuse(
                    row,
                    _("%(name)s : le prix ne peut plus changer, la vente est ouverte.")
                    % {"name": product.name},
                )
                continue
            new = _offer_for(sale, product, quantity=row.quantity, price=row.price, agreed=agreed)
            new.sale = sale
            new.save()
            shown_changed = True
        elif not row.included:
            if offer.sold:
                refuse(
                    row,
                    _("%(name)s : déjà commandé, il ne peut pas être retiré de la vente.")
                    % {"name": offer.name},
                )
            else:
                offer.delete()
                shown_changed = True
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
        elif offer.guaranteed_until and money(row.price) != offer.price:
            refuse(
                row,
                _("%(name)s : prix convenu avec le fournisseur, garanti jusqu'au %(end)s.")
                % {"name": offer.name, "end": date_format(offer.guaranteed_until, "j F Y")},
            )
        elif prices_frozen and money(row.price) != offer.price:
            refuse(
                row,
                _("%(name)s : le prix ne peut plus changer, la vente est ouverte.") % {"name": offer.name},
            )
        else:
            shown_changed = shown_changed or offer.price != money(row.price)
            if offer.quantity is not None and (row.quantity is None or row.quantity > offer.quantity):
                raised.append(offer.pk)  # units for the product's waiting list, if it has one
            offer.quantity = row.quantity
            offer.price = money(row.price)
            offer.full_clean(validate_constraints=False)
            offer.save(update_fields=["quantity", "price"])
    if errors:
        raise ValidationError(errors)
    offer_waits.offers_freed(offer_ids=raised)
    if shown_changed:  # a new version of the sale page's offer list (its cache is keyed by it)
        Sale.objects.filter(pk=sale.pk).update(offers_version=F("offers_version") + 1)
        sale.refresh_from_db(fields=["offers_version"])
    return sale


@transaction.atomic
def sale_publish(*, sale_id: int, publish: bool = True) -> Sale:
    sale = locks.sale_lock(sale_id)
    if not publish and sale.orders.filter(status=Order.Status.PLACED).exists():
        raise ValidationError(_("Des membres ont déjà commandé : la vente ne peut plus être dépubliée."))
    sale.is_published = publish
    sale.save(update_fields=["is_published"])
    if publish:
        _clock_lower(sale)
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
    clock.due_lower(at=timezone.now())  # the clock's next visit makes its first sales
    return schedule
