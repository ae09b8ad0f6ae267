"""Every ledger entry of a period as CSV (a French spreadsheet's flavour) or XLSX, for the accountant."""

from __future__ import annotations

import tablib
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from orders.models import LedgerEntry, PaymentMethod


def _cell(value) -> str:
    """Text as a spreadsheet should show it: never a formula (a member's name may start with = or +)."""
    text = str(value)
    return f"'{text}" if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def entries_export(entries: list[LedgerEntry], *, file_format: str, differences=()) -> bytes:
    """One row per entry, then one per cash-box difference (« écart de caisse »: counted minus expected,
    positive when the box held more), dated at its closing."""
    native = file_format == "xlsx"
    methods = dict(PaymentMethod.choices)
    dataset = tablib.Dataset(
        headers=[
            _("Date"),
            _("Membre"),
            _("E-mail"),
            _("Commande"),
            _("Vente"),
            _("Nature"),
            _("Moyen de paiement"),
            _("Motif"),
            _("Montant (€)"),
        ]
    )
    for entry in entries:
        at = timezone.localtime(entry.created_at)
        amount = entry.amount if native else formats.number_format(entry.amount, 2, use_l10n=True)
        dataset.append(
            [
                at.replace(tzinfo=None) if native else at.strftime("%d/%m/%Y %H:%M"),
                _cell(entry.user.display_name),
                _cell(entry.user.email),
                entry.order.number if entry.order else _("avoir"),
                _cell(entry.order.sale.title) if entry.order else "",
                str(entry.get_kind_display())
                if entry.account == LedgerEntry.Account.MEMBER
                else f"{LedgerEntry.Account.FUND.label} : {entry.get_kind_display()}",
                str(methods.get(entry.method, "")),
                _cell(entry.reason),
                amount,
            ]
        )
    for difference in differences:
        at = timezone.localtime(difference.closed_at)
        count = difference.count
        amount = count.difference if native else formats.number_format(count.difference, 2, use_l10n=True)
        dataset.append(
            [
                at.replace(tzinfo=None) if native else at.strftime("%d/%m/%Y %H:%M"),
                "",
                "",
                "",
                _cell(difference.distribution.title or difference.distribution.date.strftime("%d/%m/%Y")),
                _("écart de caisse"),
                str(count.get_method_display()),
                _cell(
                    _("%(point)s, distribution du %(date)s : %(reason)s")
                    % {
                        "point": difference.point.name,
                        "date": difference.distribution.date.strftime("%d/%m/%Y"),
                        "reason": count.reason,
                    }
                ),
                amount,
            ]
        )
    if native:
        dataset.title = _("Écritures")[:31]
        return dataset.export("xlsx")
    return ("\ufeff" + dataset.export("csv", delimiter=";")).encode("utf-8")
