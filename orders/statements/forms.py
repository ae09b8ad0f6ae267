"""Forms of producers' statements: bank details, the collective's commission, preparing and confirming
transfers. IBANs and BICs are checked with schwifty (orders.statements.bank)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import ShopSettings
from orders.statements import bank

DATE_WIDGET = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


def _iban_field(label, *, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=42,
        required=required,
        help_text=_("Tel qu'il figure sur le RIB, par ex. FR76 3000 6000 0112 3456 7890 189."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
        ),
        error_messages={"required": _("Indiquez l'IBAN.")},
    )


def _bic_field(label) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=14,
        required=False,
        help_text=_("Facultatif pour une banque de la zone SEPA."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
        ),
    )


class BankAccountForm(forms.Form):
    holder = forms.CharField(
        label=_("Titulaire du compte"),
        max_length=70,
        error_messages={"required": _("Indiquez le titulaire du compte, tel qu'il figure sur le RIB.")},
    )
    iban = _iban_field(_("IBAN"))
    bic = _bic_field(_("BIC"))

    def clean_iban(self) -> str:
        return bank.iban_clean(self.cleaned_data["iban"])

    def clean_bic(self) -> str:
        return bank.bic_clean(self.cleaned_data["bic"])


class StatementSettingsForm(forms.Form):
    commission_percent = forms.DecimalField(
        label=_("Commission du collectif (% des ventes TTC, hors taxes)"),
        min_value=Decimal("0"),
        max_value=Decimal("50"),
        max_digits=5,
        decimal_places=2,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        error_messages={
            "min_value": _("De 0 à 50 %."),
            "max_value": _("De 0 à 50 %."),
            "invalid": _("Un pourcentage, par ex. 8,5."),
            "required": _("Indiquez la commission (0 si aucune)."),
        },
    )
    commission_vat_rate = forms.DecimalField(
        label=_("TVA sur la commission (%)"),
        min_value=Decimal("0"),
        max_value=Decimal("30"),
        max_digits=4,
        decimal_places=1,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("0 si le collectif n'est pas assujetti à la TVA."),
        error_messages={
            "min_value": _("De 0 à 30 %."),
            "max_value": _("De 0 à 30 %."),
            "invalid": _("Un taux, par ex. 20."),
            "required": _("Indiquez le taux de TVA (0 si aucun)."),
        },
    )
    bank_holder = forms.CharField(label=_("Titulaire du compte du collectif"), max_length=70, required=False)
    producer_payout = forms.ChoiceField(
        label=_("Paiement des producteurs"),
        choices=ShopSettings.Payout.choices,
        widget=forms.RadioSelect,
        required=False,
        help_text=ShopSettings._meta.get_field("producer_payout").help_text,
    )
    bank_iban = _iban_field(_("IBAN du collectif"), required=False)
    bank_bic = _bic_field(_("BIC du collectif"))

    def __init__(self, *args, connect: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not connect:  # the instance does not run as a Stripe Connect platform
            del self.fields["producer_payout"]

    def clean_bank_iban(self) -> str:
        value = self.cleaned_data["bank_iban"]
        return bank.iban_clean(value) if value.strip() else ""

    def clean_bank_bic(self) -> str:
        return bank.bic_clean(self.cleaned_data["bank_bic"])


class TransferForm(forms.Form):
    statements = forms.TypedMultipleChoiceField(
        label=_("Relevés à payer"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Cochez au moins un relevé à payer."),
            "invalid_choice": _("Un des relevés cochés ne peut pas être payé : rechargez la page."),
        },
    )
    execution_date = forms.DateField(
        label=_("Date d'exécution souhaitée"),
        widget=DATE_WIDGET,
        error_messages={
            "required": _("Indiquez la date du virement."),
            "invalid": _("Une date, par ex. 2026-12-04."),
        },
    )

    def __init__(self, *args, payable=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["statements"].choices = [(item.pk, item.reference) for item in payable]
        self.fields["execution_date"].initial = timezone.localdate()

    def clean_execution_date(self):
        value = self.cleaned_data["execution_date"]
        if value < timezone.localdate():
            raise ValidationError(_("La date d'exécution ne peut pas être passée."))
        return value


class TransferPaidForm(forms.Form):
    paid_on = forms.DateField(
        label=_("Date du virement (relevé de banque)"),
        widget=DATE_WIDGET,
        error_messages={
            "required": _("Indiquez la date du virement."),
            "invalid": _("Une date, par ex. 2026-12-04."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["paid_on"].initial = timezone.localdate()
