"""Forms of the treasurer's books: a count per method, a transfer received, a period, an issuer. Amounts in
euros with the French decimal comma (« 12,50 »)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.cashbox.services import MAX_COUNTED
from orders.payments.services import MAX_AMOUNT

DATE_WIDGET = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
MAX_PERIOD_DAYS = 366


def _euros_field(label, *, min_value: Decimal, max_value: Decimal, min_message, required_message):
    return forms.DecimalField(
        label=label,
        min_value=min_value,
        max_value=max_value,
        max_digits=9,
        decimal_places=2,
        localize=True,
        error_messages={
            "invalid": _("Indiquez un montant en euros, par ex. 12,50."),
            "min_value": min_message,
            "max_value": _("Ce montant est trop élevé."),
            "max_decimal_places": _("Deux chiffres après la virgule au plus."),
            "max_digits": _("Ce montant est trop élevé."),
            "max_whole_digits": _("Ce montant est trop élevé."),
            "required": required_message,
        },
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


def form_token() -> str:
    return secrets.token_urlsafe(24)


class CashCountForm(forms.Form):
    """One method's count (prefix: the method). `key` makes a double submit record one count."""

    counted = _euros_field(
        _("Montant compté (€)"),
        min_value=Decimal("0"),
        max_value=MAX_COUNTED,
        min_message=_("Le montant compté ne peut pas être négatif."),
        required_message=_("Indiquez le montant compté (0 si rien)."),
    )
    reason = forms.CharField(
        label=_("Motif de l'écart, s'il y en a un"),
        max_length=200,
        required=False,
        help_text=_("Par ex. « erreur de rendu de monnaie », « chèque oublié dans la caisse »."),
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("key", form_token())


class TransferReceivedForm(forms.Form):
    amount = _euros_field(
        _("Montant reçu (€)"),
        min_value=Decimal("0.01"),
        max_value=MAX_AMOUNT,
        min_message=_("Le montant doit être positif."),
        required_message=_("Indiquez le montant reçu."),
    )
    received_on = forms.DateField(
        label=_("Reçu le"),
        widget=DATE_WIDGET,
        error_messages={"required": _("Indiquez la date de réception."), "invalid": _("Date invalide.")},
    )
    seen = forms.DecimalField(widget=forms.HiddenInput, max_digits=12, decimal_places=2)

    def __init__(self, *args, remaining: Decimal | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("amount", remaining)
            self.initial.setdefault("received_on", timezone.localdate())
            self.initial.setdefault("seen", remaining)


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=_("Distributions du"),
        widget=DATE_WIDGET,
        error_messages={"required": _("Indiquez le début de la période."), "invalid": _("Date invalide.")},
    )
    end = forms.DateField(
        label=_("au (inclus)"),
        widget=DATE_WIDGET,
        error_messages={"required": _("Indiquez la fin de la période."), "invalid": _("Date invalide.")},
    )

    @classmethod
    def from_query(cls, query) -> PeriodForm:
        """The period asked in the address, or the current month."""
        if "start" in query or "end" in query:
            return cls(query)
        today = timezone.localdate()
        return cls({"start": today.replace(day=1).isoformat(), "end": today.isoformat()})

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("La fin de la période précède son début."))
            if end - start > timedelta(days=MAX_PERIOD_DAYS):
                raise forms.ValidationError(_("Une période d'un an au plus."))
        return data


class VoucherIssuerForm(forms.Form):
    name = forms.CharField(
        label=_("Nouvel émetteur"),
        max_length=120,
        help_text=_(
            "Par ex. « CCAS d'Agen », « Titres-restaurant », « Chèques alimentaires du Département »."
        ),
        error_messages={"required": _("Indiquez le nom de l'émetteur.")},
    )
