"""The CSV export of a sale's orders (one row per order line), for a coordinator's spreadsheet."""

from __future__ import annotations

import csv

from django.db.models import Prefetch
from django.http import HttpResponse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from orders.models import OrderLine, Sale
from pickup_points.services import slot_label


def _cell(value) -> str:
    """Text as a spreadsheet should show it: never a formula (a member's name may start with = or +)."""
    text = str(value)
    return f"'{text}" if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def _number(value) -> str:
    return formats.number_format(value, 2, use_l10n=True)


def orders_csv(sale: Sale, orders) -> HttpResponse:
    """One row per order line, for a French spreadsheet: UTF-8 with a BOM, `;` between the columns."""
    orders = orders.prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("offer__producer"))
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="vente-{sale.pk}-commandes.csv"'
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            _("N° de commande"),
            _("N° de panier"),
            _("Membre"),
            _("E-mail"),
            _("Téléphone"),
            _("Point de retrait"),
            _("Créneau"),
            _("Producteur"),
            _("Produit"),
            _("Quantité"),
            _("Unité"),
            _("Prix unitaire TTC"),
            _("Montant TTC"),
            _("Paiement"),
            _("Règlement"),
            _("Statut"),
        ]
    )
    for order in orders:
        slot = order.booking.slot if order.booking else None
        for line in order.lines.all():
            unit = line.get_unit_display()
            if line.is_variable_weight:
                unit = _("%(unit)s (au poids, montant estimé)") % {"unit": unit}
            writer.writerow(
                [
                    order.number,
                    order.basket_number or "",
                    _cell(order.user.display_name),
                    _cell(order.user.email),
                    _cell(order.user.phone),
                    _cell(slot.point.name) if slot else "",
                    f"{formats.date_format(timezone.localtime(slot.starts_at), 'd/m/Y')} {slot_label(slot)}"
                    if slot
                    else "",
                    _cell(line.offer.producer.name),
                    _cell(line.name),
                    line.quantity,
                    unit,
                    _number(line.unit_price),
                    _number(line.amount),
                    order.get_payment_method_display(),
                    order.get_payment_status_display(),
                    order.get_status_display(),
                ]
            )
    return response
