"""Forms about money: on-site payments, refunds, weights, and the collective's payment settings."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from marketplace.money import euros
from orders.ledger.services import MAX_TOPUP
from orders.models import ON_SITE_METHODS, PaymentMethod, VoucherIssuer
from orders.payments.services import MAX_AMOUNT, MAX_WEIGHT_KG, PaymentRefused, RefundKind


class PaymentMethodsWidget(forms.CheckboxSelectMultiple):
    """Card payment is shown but cannot be ticked until the collective's Stripe account takes charges."""

    card_ready = False

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if value == PaymentMethod.CARD and not self.card_ready:
            option["attrs"]["disabled"] = True
        return option


class PaymentSettingsForm(forms.Form):
    payment_methods = forms.MultipleChoiceField(
        label=_("Moyens de paiement acceptés"),
        choices=PaymentMethod.choices,
        widget=PaymentMethodsWidget,
        error_messages={"required": _("Choisissez au moins un moyen de paiement.")},
        help_text=_("Les membres choisissent parmi ceux-ci en validant leur commande."),
    )
    weight_margin_percent = forms.IntegerField(
        label=_("Marge sur les produits au poids payés par carte (%)"),
        required=False,
        min_value=0,
        max_value=50,
        help_text=_(
            "La carte est autorisée pour l'estimation plus cette marge, puis débitée du montant pesé : "
            "jamais davantage."
        ),
        error_messages={"min_value": _("De 0 à 50 %."), "max_value": _("De 0 à 50 %.")},
    )
    credit_allowed = forms.BooleanField(
        label=_("Avoirs et versements d'avance"),
        required=False,
        help_text=_(
            "Un membre peut garder en avoir ce qui lui est dû plutôt qu'être remboursé, verser d'avance "
            "(enregistré par un coordinateur), et payer sa commande suivante avec son avoir."
        ),
    )
    credit_overdraft = forms.DecimalField(
        label=_("Découvert autorisé sur l'avoir (€)"),
        required=False,
        min_value=Decimal("0"),
        max_value=Decimal("500"),
        max_digits=6,
        decimal_places=2,
        localize=True,
        help_text=_("0 : le solde d'avoir d'un membre ne descend jamais sous zéro."),
        error_messages={"min_value": _("De 0 à 500 €."), "max_value": _("De 0 à 500 €.")},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    card_hold_minutes = forms.IntegerField(
        label=_("Délai pour payer par carte (minutes)"),
        required=False,
        min_value=5,
        max_value=24 * 60,
        help_text=_("Passé ce délai, une commande non payée est annulée : produits et créneau sont libérés."),
        error_messages={"min_value": _("5 minutes au moins."), "max_value": _("24 heures au plus.")},
    )
    wait_hold_minutes = forms.IntegerField(
        label=_("Délai pour prendre une place de liste d'attente (minutes)"),
        required=False,
        min_value=15,
        max_value=72 * 60,
        help_text=_(
            "Une place libérée dans un créneau complet est réservée ce temps-là au premier de la liste "
            "d'attente (jamais au-delà de la clôture), puis proposée au suivant."
        ),
        error_messages={"min_value": _("15 minutes au moins."), "max_value": _("72 heures au plus.")},
    )

    def __init__(self, *args, card_ready: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payment_methods"].widget.card_ready = card_ready


def voucher_issuers_accepted() -> list[VoucherIssuer]:
    return list(VoucherIssuer.objects.filter(is_active=True).order_by("name"))


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


def _amount_field(label, *, max_value: Decimal = MAX_AMOUNT) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=Decimal("0.01"),
        max_value=max_value,
        max_digits=8,
        decimal_places=2,
        localize=True,
        error_messages={
            **_AMOUNT_ERRORS,
            "max_value": format_lazy(_("{amount} au plus."), amount=euros(max_value)),
        },
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


class OnSitePaymentForm(forms.Form):
    method = forms.ChoiceField(
        label=_("Moyen de paiement"),
        choices=[(value, label) for value, label in PaymentMethod.choices if value in ON_SITE_METHODS],
    )
    amount = _amount_field(_("Montant reçu (€)"))
    issuer = forms.TypedChoiceField(
        label=_("Émetteur des bons (chèques alimentaires, titres-restaurant)"),
        coerce=int,
        required=False,
        empty_value=None,
    )
    note = forms.CharField(label=_("Précision (n° de chèque, de titre…)"), max_length=200, required=False)

    def __init__(self, *args, issuers: list[VoucherIssuer] | None = None, **kwargs):
        """`issuers`: the collective's accepted voucher issuers (read once for a page of many forms)."""
        super().__init__(*args, **kwargs)
        if issuers is None:
            issuers = voucher_issuers_accepted()
        self.issuers = {issuer.pk: issuer for issuer in issuers}
        if not issuers:
            del self.fields["issuer"]
        else:
            self.fields["issuer"].choices = [("", "—"), *[(pk, i.name) for pk, i in self.issuers.items()]]

    def clean(self):
        data = super().clean()
        if "issuer" not in self.fields:
            data["issuer"] = None
            return data
        issuer = self.issuers.get(data.get("issuer")) if data.get("issuer") else None
        if (
            data.get("method") == PaymentMethod.FOOD_VOUCHER
            and issuer is None
            and "issuer" not in self.errors
        ):
            self.add_error("issuer", _("Choisissez l'émetteur des bons."))
        data["issuer"] = issuer if data.get("method") == PaymentMethod.FOOD_VOUCHER else None
        return data

    @classmethod
    def for_order(cls, order, balance, **kwargs) -> OnSitePaymentForm:
        """Prefilled with what is still due, in the member's on-site method (cash for a card order)."""
        method = order.payment_method if order.payment_method in ON_SITE_METHODS else PaymentMethod.CASH
        return cls(initial={"method": method, "amount": balance.remaining or None}, **kwargs)


class RefundForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("De quoi s'agit-il ?"),
        choices=[
            (
                RefundKind.GOODWILL,
                _("Geste commercial (produit abîmé, manquant…) : ce qui est dû baisse d'autant"),
            ),
            (RefundKind.OVERPAYMENT, _("Trop-perçu ou produit retiré : rendre ce qui a été payé en plus")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choisissez s'il s'agit d'un geste commercial ou d'un trop-perçu.")},
    )
    amount = _amount_field(_("Montant (€)"))
    reason = forms.CharField(
        label=_("Motif (le membre le verra)"),
        max_length=200,
        error_messages={"required": _("Indiquez le motif du remboursement : le membre le verra.")},
    )
    keep_as_credit = forms.BooleanField(
        label=_("Garder en avoir pour la prochaine vente plutôt que rembourser"), required=False
    )

    def __init__(self, *args, credit_allowed: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not credit_allowed:
            del self.fields["keep_as_credit"]


class TopUpForm(forms.Form):
    member = forms.TypedChoiceField(label=_("Membre"), coerce=int)
    method = forms.ChoiceField(
        label=_("Moyen de paiement"),
        choices=[(value, label) for value, label in PaymentMethod.choices if value in ON_SITE_METHODS],
    )
    amount = _amount_field(_("Montant versé (€)"), max_value=MAX_TOPUP)
    note = forms.CharField(label=_("Précision (n° de chèque, de virement…)"), max_length=200, required=False)

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = [("", "—"), *[(user.pk, str(user)) for user in members]]


class CardTopUpForm(forms.Form):
    amount = _amount_field(_("Montant à verser par carte (€)"), max_value=MAX_TOPUP)


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
