"""Price agreements (« accords de prix ») with a supplier: reads, writes and the warning before one ends.

A sale that opens while an agreement covers a product takes the agreed price (orders.sales.services calls
`agreed_prices`); the catalogue price of a covered product cannot change before the agreement ends
(`price_change_check`, called by the product services). Coordinators are warned ENDING_WARNING before the end,
on the collective's home page and by one e-mail per agreement (a follow-up with a key, so sent once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import Prefetch, QuerySet
from django.template.defaultfilters import date as date_format
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace import clock, followups, selectors
from marketplace.models import Collective, FollowUp, User
from marketplace.money import money
from producers import locks
from producers.models import PriceAgreement, PriceAgreementLine, Producer, Product

ENDING_WARNING = timedelta(days=21)
# The warning of an agreement entering its last ENDING_WARNING leaves in the morning of that day (the clock's
# due-index, marketplace.clock), or at once when it is recorded late.
WARNING_TIME = time(7, 23)


@dataclass(frozen=True)
class AgreedPrice:
    price: Decimal
    ends_on: date


# Reads ------------------------------------------------------------------------------------------------------


def agreed_prices(*, product_ids: list[int], on: date) -> dict[int, AgreedPrice]:
    """The agreed price of each product an agreement covers on `on`."""
    lines = PriceAgreementLine.objects.filter(
        product_id__in=product_ids, agreement__starts_on__lte=on, agreement__ends_on__gte=on
    ).select_related("agreement")
    return {line.product_id: AgreedPrice(line.price, line.agreement.ends_on) for line in lines}


def producer_agreements(*, producer: Producer) -> QuerySet[PriceAgreement]:
    """The history of a supplier's agreements, the latest first, with their lines."""
    return PriceAgreement.objects.filter(producer=producer).prefetch_related(
        Prefetch("lines", queryset=PriceAgreementLine.objects.select_related("product"))
    )


def agreements_ending(*, today: date | None = None) -> QuerySet[PriceAgreement]:
    """Agreements running today that end within ENDING_WARNING: time to discuss the next prices."""
    today = today or timezone.localdate()
    return (
        PriceAgreement.objects.filter(
            starts_on__lte=today, ends_on__gte=today, ends_on__lte=today + ENDING_WARNING
        )
        .select_related("producer")
        .order_by("ends_on", "pk")
    )


def _warning_day(agreement: PriceAgreement) -> date:
    return max(agreement.starts_on, agreement.ends_on - ENDING_WARNING)


def agreement_warning_next(*, today: date | None = None) -> datetime | None:
    """When the clock next has an agreement's warning to send (None: none), for the clock's due-index."""
    today = today or timezone.localdate()
    schema = connection.schema_name  # type: ignore[attr-defined]  # django-tenants' connection
    coming = {
        f"{schema}:agreement-ending:{agreement.pk}": agreement
        for agreement in PriceAgreement.objects.filter(ends_on__gte=today).only("pk", "starts_on", "ends_on")
    }
    sent = set(FollowUp.objects.filter(key__in=list(coming)).values_list("key", flat=True))
    days = [_warning_day(agreement) for key, agreement in coming.items() if key not in sent]
    if not days:
        return None
    return timezone.make_aware(datetime.combine(max(min(days), today), WARNING_TIME))


def price_change_check(
    *,
    product: Product,
    new_price: Decimal,
    today: date | None = None,
    old_price: Decimal | None = None,
    agreed: dict[int, AgreedPrice] | None = None,
) -> None:
    """Refuse a new catalogue price for a product an agreement covers today (other than the agreed one).
    `old_price`: the price before the change, when `product` already carries the new one (an import row);
    `agreed`: today's `agreed_prices` of every product concerned, when the caller read them at once."""
    current = product.price if old_price is None else old_price
    if product.pk is None or money(new_price) == current:
        return
    if agreed is None:
        agreed = agreed_prices(product_ids=[product.pk], on=today or timezone.localdate())
    agreed = agreed.get(product.pk)
    if agreed is None or agreed.price == money(new_price):
        return
    raise ValidationError(
        {
            "price": _(
                "Le prix de « %(name)s » est garanti jusqu'au %(end)s par un accord de prix. Pour changer "
                "de prix, un·e coordinateur·rice enregistre un nouvel accord à partir du %(next)s "
                "(page « Accords de prix » du fournisseur)."
            )
            % {
                "name": product.name,
                "end": date_format(agreed.ends_on, "j F Y"),
                "next": date_format(agreed.ends_on + timedelta(days=1), "j F Y"),
            }
        }
    )


# Writes -----------------------------------------------------------------------------------------------------


@transaction.atomic
def agreement_record(
    *,
    producer: Producer,
    recorded_by: User,
    starts_on: date,
    ends_on: date,
    agreed_on: date,
    agreed_with: str,
    note: str = "",
    prices: dict[int, Decimal],
) -> PriceAgreement:
    """Record an agreement and its prices, all or nothing. Refused: an end not after the start, no price,
    a product that is not the supplier's, or one another agreement already covers for part of the period.
    If it runs today, the catalogue prices of its products become the agreed ones."""
    producer = locks.producer_lock(producer.pk)
    errors: dict[str, list[str]] = {}
    if ends_on <= starts_on:
        errors["ends_on"] = [_("La fin de l'accord doit venir après son début.")]
    if not prices:
        errors["__all__"] = [_("Indiquez le prix convenu d'au moins un produit.")]
    products = locks.products_lock(producer=producer, ids=list(prices))
    if set(prices) - set(products):
        raise Product.DoesNotExist
    if not errors:
        overlapping = (
            PriceAgreementLine.objects.filter(
                product_id__in=list(prices),
                agreement__starts_on__lte=ends_on,
                agreement__ends_on__gte=starts_on,
            )
            .select_related("agreement", "product")
            .order_by("product__name")
        )
        for line in overlapping:
            errors.setdefault(f"price_{line.product_id}", []).append(
                _(
                    "« %(name)s » a déjà un prix convenu du %(start)s au %(end)s : les périodes se "
                    "chevauchent."
                )
                % {
                    "name": line.product.name,
                    "start": date_format(line.agreement.starts_on, "j F Y"),
                    "end": date_format(line.agreement.ends_on, "j F Y"),
                }
            )
    if errors:
        raise ValidationError(errors)
    agreement = PriceAgreement(
        producer=producer,
        recorded_by=recorded_by,
        starts_on=starts_on,
        ends_on=ends_on,
        agreed_on=agreed_on,
        agreed_with=agreed_with.strip(),
        note=note.strip(),
    )
    agreement.full_clean()
    agreement.save()
    lines = [
        PriceAgreementLine(agreement=agreement, product_id=pk, price=money(price))
        for pk, price in prices.items()
    ]
    for line in lines:
        line.full_clean(exclude=["agreement", "product"], validate_constraints=False)
    PriceAgreementLine.objects.bulk_create(lines)
    today = timezone.localdate()
    if starts_on <= today <= ends_on:
        for line in lines:
            product = products[line.product_id]
            if product.price != line.price:
                product.price = line.price
                product.save(update_fields=["price", "updated_at"])
    clock.due_lower(
        at=timezone.make_aware(datetime.combine(max(_warning_day(agreement), today), WARNING_TIME))
    )
    return agreement


def agreements_ending_notify(*, today: date | None = None) -> int:
    """Daily (beat): one e-mail to the coordinators per agreement entering its last ENDING_WARNING, once."""
    schema = connection.schema_name  # type: ignore[attr-defined]  # django-tenants' connection
    added = 0
    for agreement in agreements_ending(today=today):
        with transaction.atomic():
            if followups.followup_add(
                "producers.tasks.agreement_ending_email_send",
                key=f"{schema}:agreement-ending:{agreement.pk}",
                schema_name=schema,
                agreement_id=agreement.pk,
            ):
                added += 1
    return added


def agreement_ending_email(*, agreement_id: int) -> None:
    agreement = PriceAgreement.objects.select_related("producer").get(pk=agreement_id)
    collective = Collective.objects.get(schema_name=connection.schema_name)  # type: ignore[attr-defined]
    to = selectors.coordinator_emails(collective=collective)
    if not to:
        return
    context = {
        "collective": collective,
        "agreement": agreement,
        "agreements_url": f"{collective.base_url}/producteurs/{agreement.producer_id}/accords/",
    }
    subject = _("L'accord de prix avec %(name)s se termine le %(end)s") % {
        "name": agreement.producer.name,
        "end": date_format(agreement.ends_on, "j F Y"),
    }
    message = EmailMultiAlternatives(
        subject=subject, body=render_to_string("producers/email/agreement_ending.txt", context), to=to
    )
    message.send()
