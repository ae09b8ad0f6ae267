"""Forms of solidarity prices: a tier, a member's tier, a gift to the fund."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.models import ON_SITE_METHODS, LedgerEntry, PaymentMethod
from orders.payments.forms import _amount_field

GIFT_CHOICES = [
    (
        LedgerEntry.Kind.SUSPENDED_BASKET,
        _("Un panier suspendu : j'offre un panier à un membre au tarif solidaire"),
    ),
    (LedgerEntry.Kind.GIFT, _("Un don au fonds solidaire")),
]


def _tier_label(tier) -> str:
    percent = f"{tier.percent:+.0f} %".replace("-", "−") if tier.percent else "0 %"
    return f"{tier.name} ({percent})"


class TierForm(forms.Form):
    name = forms.CharField(label=_("Nom du tarif"), max_length=40)
    percent = forms.DecimalField(
        label=_("Écart au prix de base (%)"),
        min_value=Decimal("-90"),
        max_value=Decimal("100"),
        max_digits=5,
        decimal_places=2,
        localize=True,
        help_text=_(
            "−30 : une remise de 30 %, prise sur le fonds solidaire ; "
            "15 : un supplément de 15 %, versé au fonds ; 0 : le prix de base."
        ),
        error_messages={
            "invalid": _("Indiquez un pourcentage, par ex. -30 ou 15."),
            "min_value": _("Une remise de 90 %% au plus."),
            "max_value": _("Un soutien de 100 %% au plus."),
        },
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    description = forms.CharField(label=_("Pour qui (affiché aux membres)"), max_length=200, required=False)
    position = forms.IntegerField(label=_("Ordre d'affichage"), min_value=0, max_value=99, initial=0)
    is_active = forms.BooleanField(label=_("Proposé aux membres"), required=False, initial=True)


class MemberTierForm(forms.Form):
    """A member's own choice (radio buttons), or a coordinator's assignment (a list)."""

    tier = forms.TypedChoiceField(label=_("Mon tarif"), coerce=int, empty_value=None, required=False)

    def __init__(self, *args, tiers, for_member: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["tier"]
        base = [("", _("Prix de base"))]
        if for_member:
            field.widget = forms.RadioSelect()
            field.choices = base + [
                (
                    tier.pk,
                    _tier_label(tier) + (f" : {tier.description}" if tier.description else ""),
                )
                for tier in tiers
            ]
        else:
            field.label = _("Tarif")
            field.choices = base + [(tier.pk, _tier_label(tier)) for tier in tiers]
        field.error_messages["invalid_choice"] = _("Choisissez un des tarifs proposés.")


class GiftForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Je donne"), choices=GIFT_CHOICES, widget=forms.RadioSelect, initial=GIFT_CHOICES[0][0]
    )
    amount = _amount_field(_("Montant (€)"), max_value=Decimal("2000"))


class GiftRecordForm(GiftForm):
    member = forms.TypedChoiceField(label=_("Membre qui donne"), coerce=int)
    method = forms.ChoiceField(
        label=_("Moyen de paiement"),
        choices=[(value, label) for value, label in PaymentMethod.choices if value in ON_SITE_METHODS],
    )
    note = forms.CharField(label=_("Précision (n° de chèque…)"), max_length=200, required=False)

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = [("", "—"), *[(user.pk, str(user)) for user in members]]
        self.fields["kind"].widget = forms.Select()
        self.fields["kind"].choices = [
            (LedgerEntry.Kind.SUSPENDED_BASKET, _("Panier suspendu")),
            (LedgerEntry.Kind.GIFT, _("Don")),
        ]
        self.order_fields(["member", "kind", "amount", "method", "note"])
