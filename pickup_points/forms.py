from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pickup_points import selectors, services
from pickup_points.models import SLOT_CAPACITY_MAX, SLOT_MINUTES_MAX, PickupPoint, Weekday

TIME_WIDGET = forms.TimeInput(format="%H:%M", attrs={"type": "time"})
DATE_WIDGET = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})

MINUTES_ERRORS = {
    "min_value": _("La durée d'un créneau doit être d'au moins 1 minute."),
    "max_value": _("Un créneau ne peut pas dépasser 8 heures (480 minutes)."),
    "invalid": _("Indiquez un nombre entier de minutes."),
}
CAPACITY_ERRORS = {
    "min_value": _("Un créneau doit accueillir au moins 1 foyer."),
    "max_value": _("500 foyers par créneau au plus."),
    "invalid": _("Indiquez un nombre entier de foyers."),
}


def capacity_field(**kwargs) -> forms.IntegerField:
    return forms.IntegerField(
        min_value=1,
        max_value=SLOT_CAPACITY_MAX,
        error_messages=CAPACITY_ERRORS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        **kwargs,
    )


class PointForm(forms.ModelForm):
    """How members find the point and what they must know; coordinators may also deactivate it."""

    map_url = PickupPoint._meta.get_field("map_url").formfield(assume_scheme="https")

    class Meta:
        model = PickupPoint
        fields = [
            "name",
            "address",
            "postcode",
            "town",
            "map_url",
            "access_instructions",
            "rules",
            "accessibility",
            "is_active",
        ]
        widgets = {
            "postcode": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
            "access_instructions": forms.Textarea(attrs={"rows": 3}),
            "rules": forms.Textarea(attrs={"rows": 3}),
            "accessibility": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, can_deactivate: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_deactivate:
            del self.fields["is_active"]


class SlotRulesForm(forms.Form):
    slot_minutes = forms.IntegerField(
        label=_("Durée d'un créneau (minutes)"),
        min_value=1,
        max_value=SLOT_MINUTES_MAX,
        error_messages=MINUTES_ERRORS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        help_text=_("Par exemple 15 : les horaires sont découpés en créneaux de 15 minutes."),
    )
    slot_capacity = capacity_field(
        label=_("Foyers par créneau"), help_text=_("Nombre de foyers qui peuvent réserver un même créneau.")
    )

    @classmethod
    def for_point(cls, point: PickupPoint | None = None, data=None) -> SlotRulesForm:
        """The rules of `point`, or the model's defaults for a new point."""
        point = point or PickupPoint()
        return cls(data, initial={"slot_minutes": point.slot_minutes, "slot_capacity": point.slot_capacity})


class HoursForm(forms.Form):
    weekday = forms.TypedChoiceField(
        label=_("Jour"), choices=[("", "—"), *Weekday.choices], coerce=int, required=False, empty_value=None
    )
    starts_at = forms.TimeField(label=_("De"), widget=TIME_WIDGET, required=False)
    ends_at = forms.TimeField(label=_("À"), widget=TIME_WIDGET, required=False)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        given = [data.get(name) is not None for name in ("weekday", "starts_at", "ends_at")]
        if any(given) and not all(given):
            raise forms.ValidationError(_("Indiquez le jour, l'heure de début et l'heure de fin."))
        if all(given) and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", _("L'heure de fin doit être après l'heure de début."))
        return data

    @property
    def hours(self) -> services.HoursRange | None:
        data = getattr(self, "cleaned_data", {})
        if data.get("DELETE") or data.get("weekday") is None:
            return None
        return (data["weekday"], data["starts_at"], data["ends_at"])


class BaseHoursFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        problems = services.hours_problems(self.hours())
        if problems:
            raise forms.ValidationError(problems)

    def hours(self) -> list[services.HoursRange]:
        return [form.hours for form in self.forms if form.hours is not None]


HoursFormSet = forms.formset_factory(HoursForm, formset=BaseHoursFormSet, extra=2, can_delete=True)


HOURS_FIELDS = ("weekday", "starts_at", "ends_at")


def hours_formset_with_row(data) -> BaseHoursFormSet:
    """The rows as typed, unsaved and unchecked, with one empty row more (« Ajouter une ligne » without
    JavaScript): filled rows first, then the empty ones."""
    typed = HoursFormSet(data, prefix="hours")
    rows = [{name: form[name].value() or "" for name in HOURS_FIELDS} for form in typed.forms]
    ticked = [bool(form["DELETE"].value()) for form in typed.forms]
    filled = [{**row, "DELETE": tick} for row, tick in zip(rows, ticked, strict=True) if any(row.values())]
    empty = len(rows) - len(filled) + 1
    grown = forms.formset_factory(HoursForm, formset=BaseHoursFormSet, extra=empty, can_delete=True)
    return grown(initial=filled, prefix="hours")


def hours_initial(point: PickupPoint) -> list[dict]:
    return [
        {"weekday": row.weekday, "starts_at": row.starts_at, "ends_at": row.ends_at}
        for row in point.opening_hours.all()
    ]


class ClosureForm(forms.Form):
    starts_on = forms.DateField(label=_("Fermé du"), widget=DATE_WIDGET)
    ends_on = forms.DateField(label=_("au (inclus)"), widget=DATE_WIDGET)
    reason = forms.CharField(
        label=_("Motif"), max_length=200, help_text=_("Affiché aux membres, par ex. « Élections »")
    )

    def clean(self):
        data = super().clean()
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", _("La date de fin doit être la date de début ou une date ultérieure."))
        return data


class StaffAssignForm(forms.Form):
    user = forms.TypedChoiceField(label=_("Personne"), coerce=int)

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [
            (user.pk, f"{user.display_name} ({user.email})" if user.get_full_name() else user.email)
            for user in candidates
        ]


class StaffInviteForm(forms.Form):
    email = forms.EmailField(label=_("Adresse e-mail"))


class DistributionForm(forms.Form):
    date = forms.DateField(label=_("Date de la distribution"), widget=DATE_WIDGET)
    label = forms.CharField(
        label=_("Intitulé (facultatif)"),
        max_length=120,
        required=False,
        help_text=_("Par exemple « Bon de commande de décembre »."),
    )
    points = forms.ModelMultipleChoiceField(
        label=_("Points de retrait"),
        queryset=PickupPoint.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choisissez au moins un point de retrait.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["points"].queryset = selectors.points_active()

    def clean_date(self):
        day = self.cleaned_data["date"]
        if day < timezone.localdate():
            raise forms.ValidationError(_("La date de la distribution doit être aujourd'hui ou plus tard."))
        return day


class SlotAddForm(forms.Form):
    starts_at = forms.TimeField(label=_("De"), widget=TIME_WIDGET)
    ends_at = forms.TimeField(label=_("À"), widget=TIME_WIDGET)
    capacity = capacity_field(label=_("Foyers par créneau"))

    def clean(self):
        data = super().clean()
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", _("L'heure de fin doit être après l'heure de début."))
        return data


class SlotCapacityForm(forms.Form):
    capacity = capacity_field(label=_("Foyers par créneau"))


class BookingForm(forms.Form):
    slot = forms.IntegerField(
        error_messages={
            "required": _("Choisissez un créneau."),
            "invalid": _("Choisissez un créneau."),
        }
    )
