"""Thin Celery tasks of the ordering app: they take the schema and ids, load, and call one function."""

from __future__ import annotations

from celery import shared_task
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from marketplace.models import Collective
from orders import selectors


@shared_task
def order_confirmation_send(*, schema_name: str, order_id: int, kind: str) -> None:
    collective = Collective.objects.get(schema_name=schema_name)
    with schema_context(schema_name):
        order = selectors.order_detail(order_id=order_id)
        subjects = {
            "placed": _("Votre commande %(number)s à %(name)s"),
            "updated": _("Votre commande %(number)s à %(name)s a été modifiée"),
            "cancelled": _("Votre commande %(number)s à %(name)s est annulée"),
        }
        context = {
            "order": order,
            "collective": collective,
            "kind": kind,
            "vat": selectors.vat_breakdown(order.lines.all()),
            "url": collective.base_url + f"/commandes/{order.pk}/",
        }
        send_mail(
            subject=subjects[kind] % {"number": order.number, "name": collective.name},
            message=render_to_string("orders/email/order.txt", context),
            from_email=None,
            recipient_list=[order.user.email],
        )
