"""Member-side forms: the quantities of a sale (the cart) and the checkout (slot and payment)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from marketplace.money import euros
from orders.models import MAX_LINE_QUANTITY


class CartForm(forms.Form):
    """One quantity field per offer, named `qty_<offer id>`; what remains is re-checked when ordering."""

    def __init__(self, *args, offers, own: dict[int, int], quantities: dict[int, int], **kwargs):
        """`own`: what the member's order already holds (theirs to keep); `quantities`: the cart shown."""
        super().__init__(*args, **kwargs)
        self.offers = list(offers)
        for offer in self.offers:
            available = (
                MAX_LINE_QUANTITY if offer.remaining is None else offer.remaining + own.get(offer.pk, 0)
            )
            self.fields[f"qty_{offer.pk}"] = forms.IntegerField(
                label=offer.name,
                min_value=0,
                max_value=min(MAX_LINE_QUANTITY, available),
                required=False,
                initial=quantities.get(offer.pk, 0),
                error_messages={
                    "max_value": _("Il n'en reste que %(limit_value)s.")
                    if available < MAX_LINE_QUANTITY
                    else _("%(limit_value)s au plus par produit."),
                    "min_value": _("La quantité ne peut pas être négative."),
                    "invalid": _("Indiquez un nombre entier."),
                },
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "qty"}),
            )

    def quantities(self) -> dict[int, int]:
        return {
            offer.pk: self.cleaned_data[f"qty_{offer.pk}"]
            for offer in self.offers
            if self.cleaned_data.get(f"qty_{offer.pk}")
        }

    def shown_quantities(self) -> dict[int, int] | None:
        """The quantities the page shows: those typed (None while some are wrong), else the cart's."""
        if not self.is_bound:
            return {offer.pk: self.fields[f"qty_{offer.pk}"].initial for offer in self.offers}
        return self.quantities() if self.is_valid() else None

    def rows(self):
        """(offer, bound field) pairs for the template."""
        return [(offer, self[f"qty_{offer.pk}"]) for offer in self.offers]


class CheckoutForm(forms.Form):
    slot = forms.TypedChoiceField(label=_("Créneau de retrait"), coerce=int, widget=forms.RadioSelect)
    payment_method = forms.ChoiceField(label=_("Paiement"), widget=forms.RadioSelect)

    use_credit = forms.BooleanField(required=False)
    # Which prices the page showed (« tier » or « base »): a discount the fund no longer covers is refused.
    pricing = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, slots, payment_methods, credit=None, **kwargs):
        super().__init__(*args, **kwargs)
        if credit:  # the member's credit (« avoir ») may pay for the order, where the collective allows it
            self.fields["use_credit"].label = _("Utiliser mon avoir (%(amount)s disponibles)") % {
                "amount": euros(credit)
            }
        else:
            del self.fields["use_credit"]
        self.slots = list(slots)
        self.fields["slot"].choices = [(slot.pk, str(slot.pk)) for slot in self.slots]
        self.fields["slot"].error_messages["invalid_choice"] = _(
            "Ce créneau ne fait pas partie de cette vente : choisissez-en un dans la liste."
        )
        self.fields["slot"].error_messages["required"] = _("Choisissez un créneau de retrait.")
        self.fields["payment_method"].choices = payment_methods
        self.fields["payment_method"].error_messages["required"] = _("Choisissez un moyen de paiement.")
        self.fields["payment_method"].error_messages["invalid_choice"] = _(
            "Ce moyen de paiement n'est pas accepté par le collectif."
        )
        if len(payment_methods) == 1:
            self.fields["payment_method"].initial = payment_methods[0][0]


class PreferencesForm(forms.Form):
    reminders = forms.BooleanField(
        label=_("Me rappeler la veille de la clôture d'une vente si je n'ai pas encore commandé"),
        required=False,
    )
