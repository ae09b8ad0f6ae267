"""Member-side forms: the quantities of a sale (the cart) and the checkout (slot and payment)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from marketplace.money import euros
from orders.models import MAX_LINE_QUANTITY


class CartForm(forms.Form):
    """Quantity fields `qty_<offer id>`, only for the offers a quantity was typed for (posted and not
    empty), or those of the cart when nothing is posted: the page's hundreds of other fields are empty and
    need no checking. What remains is re-checked when ordering."""

    def __init__(
        self,
        *args,
        left: dict[int, int | None],
        own: dict[int, int],
        quantities: dict[int, int],
        bring_down: bool = False,
        **kwargs,
    ):
        """`left`: what is left of those offers (selectors.stock_left: only the sale's offers are there);
        `own`: what the member's order already holds (theirs to keep); `quantities`: the cart shown.
        `bring_down`: a quantity above what is left (it went meanwhile: the page's fields say how many are
        left) is brought down to it, and said in `brought_down` (offer id → what the cart keeps), unless
        the form has other errors or nothing would be left, when it is an error as usual."""
        super().__init__(*args, **kwargs)
        self.left = left
        self.offer_ids = list(left)
        self.own = own
        self.bring_down = bring_down
        self.available: dict[int, int] = {}
        self.brought_down: dict[int, int] = {}
        for offer_id, remaining in left.items():
            available = MAX_LINE_QUANTITY if remaining is None else remaining + own.get(offer_id, 0)
            self.available[offer_id] = available
            self.fields[f"qty_{offer_id}"] = forms.IntegerField(
                min_value=0,
                max_value=MAX_LINE_QUANTITY if bring_down else min(MAX_LINE_QUANTITY, available),
                required=False,
                initial=quantities.get(offer_id, 0),
                error_messages={
                    "max_value": _("Épuisé : il n'en reste plus.")
                    if available == 0
                    else _("Il n'en reste que %(limit_value)s.")
                    if available < MAX_LINE_QUANTITY
                    else _("%(limit_value)s au plus par produit."),
                    "min_value": _("La quantité ne peut pas être négative."),
                    "invalid": _("Indiquez un nombre entier."),
                },
            )

    def clean(self):
        cleaned = super().clean()
        if not self.bring_down:
            return cleaned
        above = {
            offer_id: self.available[offer_id]
            for offer_id in self.offer_ids
            if (cleaned.get(f"qty_{offer_id}") or 0) > self.available[offer_id]
        }
        if not above:
            return cleaned
        something_left = any(
            min(cleaned.get(f"qty_{offer_id}") or 0, self.available[offer_id]) for offer_id in self.offer_ids
        )
        if self.errors or not something_left:  # the page is shown anyway: said next to the product
            for offer_id, available in above.items():
                field = f"qty_{offer_id}"
                self.add_error(
                    field,
                    forms.ValidationError(
                        self.fields[field].error_messages["max_value"],  # « Il n'en reste que … »
                        code="max_value",
                        params={"limit_value": available},
                    ),
                )
            return cleaned
        for offer_id, available in above.items():
            cleaned[f"qty_{offer_id}"] = available
        self.brought_down = above
        return cleaned

    @staticmethod
    def typed_offer_ids(data) -> set[int]:
        """The offers a quantity was typed for in `data`, a QueryDict (a field left empty means none; of a
        name posted twice, the last value counts, as the form reads it). The sale page posts one field per
        product: the empty ones are skipped before anything else is looked at."""
        typed = set()
        for key, values in data.lists():
            if not (values and values[-1].strip() and key.startswith("qty_")):
                continue
            number = key[4:]
            # ASCII digits only (int() takes « ² » too) and short enough for the primary key's column.
            if number.isascii() and number.isdigit() and len(number) < 16:
                typed.add(int(number))
        return typed

    def quantities(self) -> dict[int, int]:
        return {
            offer_id: self.cleaned_data[f"qty_{offer_id}"]
            for offer_id in self.offer_ids
            if self.cleaned_data.get(f"qty_{offer_id}")
        }

    def shown_quantities(self) -> dict[int, int] | None:
        """The quantities the page shows: those typed (None while some are wrong), else the cart's."""
        if not self.is_bound:
            return {
                offer_id: self.fields[f"qty_{offer_id}"].initial
                for offer_id in self.offer_ids
                if self.fields[f"qty_{offer_id}"].initial
            }
        return self.quantities() if self.is_valid() else None

    def shown_values(self) -> dict[int, str]:
        """What each field shows, as typed (or the cart's quantity); an empty field is left out."""
        values = {}
        for offer_id in self.offer_ids:
            value = self[f"qty_{offer_id}"].value()
            if value not in (None, "", 0):
                values[offer_id] = str(value)
        return values

    def field_errors(self) -> dict[int, object]:
        """The messages of the wrong quantities, by offer id."""
        if not self.is_bound:
            return {}
        return {
            offer_id: self.errors[f"qty_{offer_id}"]
            for offer_id in self.offer_ids
            if f"qty_{offer_id}" in self.errors
        }


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
        elsewhere = _("Ce créneau ne fait pas partie de cette vente : choisissez-en un dans la liste.")
        if slots is None:  # a checkout posted: the order service checks the slot as it takes a place
            self.fields["slot"] = forms.IntegerField(
                label=self.fields["slot"].label,
                widget=forms.RadioSelect,
                error_messages={"invalid": elsewhere},
            )
            self.slots = []
        else:
            self.slots = list(slots)
            self.fields["slot"].choices = [(slot.pk, str(slot.pk)) for slot in self.slots]
            self.fields["slot"].error_messages["invalid_choice"] = elsewhere
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
