"""The e-mails of the ordering app, in French, with links to the collective's own sub-domain: order
confirmations (plain text) and the clock jobs' notices (plain text with an HTML alternative). Called by the
tasks, after the transactions that queued them have committed."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from marketplace.models import Collective, User
from orders.checkout.selectors import vat_breakdown
from orders.models import OfferWait, Order, Sale, SlotWait
from orders.sales.selectors import with_pickup_hours
from pickup_points import basket_codes, calendar
from pickup_points.services import day_label, slot_label
from producers.models import Producer


def _send(*, to: list[str], subject: str, template: str, context: dict) -> None:
    if not to:
        return
    message = EmailMultiAlternatives(
        subject=subject, body=render_to_string(f"orders/email/{template}.txt", context), to=to
    )
    message.attach_alternative(render_to_string(f"orders/email/{template}.html", context), "text/html")
    message.send()


def _sale_context(collective: Collective, sale: Sale) -> dict:
    return {
        "collective": collective,
        "sale": sale,
        "points": sale.distribution.points.order_by("name"),
        "hours": with_pickup_hours([sale])[0].pickup_hours,
        "sale_url": f"{collective.base_url}/ventes/{sale.pk}/",
        "preferences_url": f"{collective.base_url}/mes-preferences/",
    }


def order_email(*, collective: Collective, order: Order, kind: str) -> None:
    """To the member, after `kind` ("placed", "updated", "cancelled" or "released") happened to the order."""
    subjects = {
        "placed": _("Votre commande %(number)s à %(name)s"),
        "updated": _("Votre commande %(number)s à %(name)s a été modifiée"),
        "cancelled": _("Votre commande %(number)s à %(name)s est annulée"),
        "released": _("Votre commande %(number)s à %(name)s n'a pas été payée : elle est annulée"),
    }
    if order.user.is_erased:  # the member left or deleted their account: no address any more
        return
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "order": order,
            "collective": collective,
            "kind": kind,
            "vat": vat_breakdown(order.lines.all()),
            "url": f"{collective.base_url}/commandes/{order.pk}/",
        }
        booking = order.booking if order.is_placed and kind in {"placed", "updated"} else None
        context["attached"] = booking is not None
        message = EmailMessage(
            subject=subjects[kind] % {"number": order.number, "name": collective.name},
            body=render_to_string("orders/email/order.txt", context),
            to=[order.user.email],
        )
        if booking is not None:
            # The slot as an invitation, and the basket's QR code to show at the pickup point.
            message.attach(
                f"retrait-{order.number}.ics",
                calendar.booking_ics(collective=collective, booking=booking, url=context["url"]),
                "text/calendar; method=PUBLISH; charset=utf-8",
            )
            code_url = basket_codes.basket_code_url(
                base_url=collective.base_url, schema_name=collective.schema_name, booking_id=booking.pk
            )
            message.attach(f"panier-{order.basket_number}.png", basket_codes.qr_png(code_url), "image/png")
        message.send()


def sale_member_email(
    *, collective: Collective, sale: Sale, user: User, kind: str, previous: datetime | None = None
) -> None:
    """`kind`: "open" (the sale is open), "reminder" (it closes within 24 hours, no order yet) or "moved" (its
    orders close at another time than the opening e-mail said: `previous`)."""
    subjects = {
        "open": _("%(collective)s : la vente « %(sale)s » est ouverte"),
        "reminder": _("%(collective)s : la vente « %(sale)s » ferme bientôt"),
        "moved": _("%(collective)s : la vente « %(sale)s » ferme à une autre date"),
    }
    with translation.override(settings.LANGUAGE_CODE):
        context = {**_sale_context(collective, sale), "user": user, "previous": previous}
        _send(
            to=[user.email],
            subject=subjects[kind] % {"collective": collective.name, "sale": sale.title},
            template=f"sale_{kind}",
            context=context,
        )


def order_lines_cancelled_email(*, collective: Collective, order: Order, removed: list[str]) -> None:
    if order.user.is_erased:
        return
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "collective": collective,
            "order": order,
            "removed": removed,
            "order_url": f"{collective.base_url}/commandes/{order.pk}/",
        }
        _send(
            to=[order.user.email],
            subject=_("%(collective)s : votre commande %(number)s a changé à la clôture")
            % {"collective": collective.name, "number": order.number},
            template="order_lines_cancelled",
            context=context,
        )


def producer_minimum_missed_email(
    *, collective: Collective, sale: Sale, producer: Producer, total: Decimal
) -> None:
    recipients = sorted(
        {account.email for account in producer.accounts.all()} | {producer.contact_email} - {""}
    )
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "collective": collective,
            "sale": sale,
            "producer": producer,
            "total": total,
            "sale_url": f"{collective.base_url}/ventes/{sale.pk}/",
        }
        _send(
            to=recipients,
            subject=_("%(collective)s : minimum de commande non atteint pour « %(sale)s »")
            % {"collective": collective.name, "sale": sale.title},
            template="producer_minimum_missed",
            context=context,
        )


def slot_wait_email(*, collective: Collective, wait: SlotWait, kind: str) -> None:
    """To a member on a slot's waiting list: `kind` "offered" (a place is held for them until a time),
    "expired" (they did not take it in time) or "lapsed" (the sale closed)."""
    if wait.user.is_erased:
        return
    subjects = {
        "offered": _("%(collective)s : une place s'est libérée pour vous, le %(slot)s"),
        "expired": _("%(collective)s : la place du %(slot)s est passée au suivant"),
        "lapsed": _("%(collective)s : la vente est close, fin de la liste d'attente du %(slot)s"),
    }
    with translation.override(settings.LANGUAGE_CODE):
        start = timezone.localtime(wait.slot.starts_at)
        slot = f"{day_label(start.date())}, {slot_label(wait.slot)}"
        context = {
            "collective": collective,
            "wait": wait,
            "kind": kind,
            "slot": slot,
            "point": wait.slot.point,
            "until": wait.offered_until,
            "waits_url": f"{collective.base_url}/mes-listes-attente/",
        }
        _send(
            to=[wait.user.email],
            subject=subjects[kind] % {"collective": collective.name, "slot": slot},
            template=f"slot_wait_{kind}",
            context=context,
        )


def offer_wait_email(*, collective: Collective, wait: OfferWait, kind: str) -> None:
    """To a member on a sold-out product's waiting list: `kind` "offered" (units are held for them until a
    time), "expired" (they did not take them in time) or "lapsed" (the sale closed)."""
    if wait.user.is_erased:
        return
    subjects = {
        "offered": _("%(collective)s : « %(product)s » s'est libéré pour vous"),
        "expired": _("%(collective)s : « %(product)s » est passé au suivant de la liste"),
        "lapsed": _("%(collective)s : la vente est close, fin de la liste d'attente de « %(product)s »"),
    }
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "collective": collective,
            "wait": wait,
            "kind": kind,
            "product": wait.offer.name,
            "until": wait.offered_until,
            "waits_url": f"{collective.base_url}/mes-listes-attente/",
        }
        _send(
            to=[wait.user.email],
            subject=subjects[kind] % {"collective": collective.name, "product": wait.offer.name},
            template=f"offer_wait_{kind}",
            context=context,
        )
