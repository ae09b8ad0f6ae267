"""Forms about money: on-site payments, refunds, weights, and the collective's payment settings."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.models import ON_SITE_METHODS, PaymentMethod
from orders.payments import MAX_AMOUNT, MAX_WEIGHT_KG, PaymentRefused


def form_apply(form: forms.Form, action: Callable[[dict], object]) -> bool:
    """Run `action(cleaned_data)` for a valid form; a refusal of the payment services becomes the form's
    own error, so the page shows it next to what was typed. True when it was done."""
    if not form.is_valid():
        return False
    try:
        action(form.cleaned_data)
    except PaymentRefused as refusal:
        form.add_error(None, str(refusal))
        return False
    return True


_AMOUNT_ERRORS = {
    "invalid": _("Indiquez un montant en euros, par ex. 12,50."),
    "min_value": _("Le montant doit être positif."),
    "max_value": _("Ce montant est trop élevé."),
    "max_decimal_places": _("Deux chiffres après la virgule au plus."),
    "required": _("Indiquez le montant."),
}


def _amount_field(label) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=Decimal("0.01"),
        max_value=MAX_AMOUNT,
        max_digits=8,
        decimal_places=2,
        localize=True,
        error_messages=_AMOUNT_ERRORS,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


class OnSitePaymentForm(forms.Form):
    method = forms.ChoiceField(
        label=_("Moyen de paiement"),
        choices=[(value, label) for value, label in PaymentMethod.choices if value in ON_SITE_METHODS],
    )
    amount = _amount_field(_("Montant reçu (€)"))
    note = forms.CharField(label=_("Précision (n° de chèque, de titre…)"), max_length=200, required=False)

    @classmethod
    def for_order(cls, order, balance, **kwargs) -> OnSitePaymentForm:
        """Prefilled with what is still due, in the member's on-site method (cash for a card order)."""
        method = order.payment_method if order.payment_method in ON_SITE_METHODS else PaymentMethod.CASH
        return cls(initial={"method": method, "amount": balance.remaining or None}, **kwargs)


class RefundForm(forms.Form):
    amount = _amount_field(_("Montant à rembourser (€)"))
    reason = forms.CharField(
        label=_("Motif (le membre le verra)"),
        max_length=200,
        error_messages={"required": _("Indiquez le motif du remboursement : le membre le verra.")},
    )


class WeightForm(forms.Form):
    weight_kg = forms.DecimalField(
        label=_("Poids pesé (kg)"),
        min_value=Decimal("0.001"),
        max_value=MAX_WEIGHT_KG,
        max_digits=7,
        decimal_places=3,
        localize=True,
        error_messages={
            "invalid": _("Indiquez le poids en kilogrammes, par ex. 1,250."),
            "min_value": _("Le poids doit être positif."),
            "max_value": _("Ce poids est trop élevé."),
            "max_decimal_places": _("Au gramme près : trois chiffres après la virgule au plus."),
            "required": _("Indiquez le poids."),
        },
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
