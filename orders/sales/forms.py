"""Forms of the coordinator's ordering pages: sales, their offers, recurring schedules, payment methods."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

from django import forms
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import Order, RecurringSchedule
from pickup_points.models import PickupPoint, Weekday
from pickup_points.selectors import points_active
from producers.models import Producer
from producers.selectors import shop_producers

DATETIME_WIDGET = forms.DateTimeInput(format="%Y-%m-%dT%H:%M", attrs={"type": "datetime-local"})
DATE_WIDGET = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
TIME_WIDGET = forms.TimeInput(format="%H:%M", attrs={"type": "time"})
# What a browser's <input type="datetime-local"> sends (seconds only when a step asks for them).
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"]

# Where a service puts an error → the field of these forms that shows it.
SERVICE_FIELDS = {
    "date": "distribution_date",
    "distribution_starts_at": "distribution_start",
    "distribution_ends_at": "distribution_end",
}


def add_service_errors(form: forms.Form, error) -> None:
    """A service's ValidationError on the form: on the fields it names when the form has them, else on top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for key, field_errors in error.error_dict.items():
        field = SERVICE_FIELDS.get(key, key)
        messages = [message for item in field_errors for message in item.messages]
        form.add_error(field if field in form.fields else None, messages)


class SaleWindowForm(forms.Form):
    """When the orders of a sale open and close (its distribution stays): « Dates de commande »."""

    opens_at = forms.DateTimeField(
        label=_("Ouverture des commandes"), widget=DATETIME_WIDGET, input_formats=DATETIME_FORMATS
    )
    closes_at = forms.DateTimeField(
        label=_("Clôture des commandes"), widget=DATETIME_WIDGET, input_formats=DATETIME_FORMATS
    )


class SaleDatesForm(SaleWindowForm):
    """Title and dates of a sale: opening and closing of the orders, then the distribution (Europe/Paris)."""

    field_order = ["title", "opens_at", "closes_at"]

    title = forms.CharField(
        label=_("Intitulé"),
        max_length=120,
        help_text=_("Vu par les membres, par ex. « Drive du vendredi 12 juin »."),
    )
    distribution_date = forms.DateField(label=_("Date de la distribution"), widget=DATE_WIDGET)
    distribution_start = forms.TimeField(label=_("Début de la distribution"), widget=TIME_WIDGET)
    distribution_end = forms.TimeField(label=_("Fin de la distribution"), widget=TIME_WIDGET)

    def sale_times(self) -> dict[str, object]:
        """The service's arguments: the distribution times on the distribution date, in local time."""
        data = self.cleaned_data
        tz = timezone.get_current_timezone()
        return {
            "title": data["title"],
            "opens_at": data["opens_at"],
            "closes_at": data["closes_at"],
            "distribution_starts_at": datetime.combine(
                data["distribution_date"], data["distribution_start"], tz
            ),
            "distribution_ends_at": datetime.combine(data["distribution_date"], data["distribution_end"], tz),
        }

    @staticmethod
    def initial_for(
        *, opens_at: datetime, closes_at: datetime, starts_at: datetime, ends_at: datetime, title=""
    ):
        starts_at = timezone.localtime(starts_at)
        return {
            "title": title,
            "opens_at": timezone.localtime(opens_at),
            "closes_at": timezone.localtime(closes_at),
            "distribution_date": starts_at.date(),
            "distribution_start": starts_at.time(),
            "distribution_end": timezone.localtime(ends_at).time(),
        }


class SaleForm(SaleDatesForm):
    points = forms.ModelMultipleChoiceField(
        label=_("Points de retrait"),
        queryset=PickupPoint.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choisissez au moins un point de retrait.")},
        help_text=_("Leurs créneaux sont créés d'après leurs horaires du jour de la distribution."),
    )
    producers = forms.ModelMultipleChoiceField(
        label=_("Producteurs"),
        queryset=Producer.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choisissez au moins un producteur.")},
        help_text=_("Tous leurs produits en vente sont proposés ; vous ajusterez à l'étape suivante."),
    )
    publish = forms.BooleanField(
        label=_("Publier la vente"),
        required=False,
        help_text=_(
            "Les membres la voient et peuvent commander dès l'ouverture. Sinon elle reste en brouillon."
        ),
    )

    def __init__(self, *args, producer_label=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["points"].queryset = points_active()
        self.fields["producers"].queryset = shop_producers()
        if producer_label:
            self.fields["producers"].label = producer_label


class OfferRowForm(forms.Form):
    """One product of a sale: offered or not, how many (empty: unlimited), at what price."""

    product = forms.IntegerField(widget=forms.HiddenInput)
    included = forms.BooleanField(label=_("Proposé"), required=False)
    quantity = forms.IntegerField(
        label=_("Quantité proposée"),
        required=False,
        min_value=0,
        max_value=1_000_000,
        widget=forms.NumberInput(attrs={"min": 0, "inputmode": "numeric", "placeholder": _("illimitée")}),
        error_messages={"min_value": _("La quantité ne peut pas être négative.")},
    )
    price = forms.DecimalField(
        label=_("Prix TTC (€)"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages={"min_value": _("Le prix doit être supérieur à 0 €.")},
    )


OfferFormSet = formset_factory(OfferRowForm, extra=0, max_num=5000, validate_max=True)


class OrderFilterForm(forms.Form):
    """The GET filters of a sale's orders; anything invalid is simply not applied."""

    status = forms.ChoiceField(
        label=_("Statut"), required=False, choices=[("", _("Tous")), *Order.Status.choices]
    )
    point = forms.ModelChoiceField(
        label=_("Point de retrait"),
        required=False,
        queryset=PickupPoint.objects.none(),
        empty_label=_("Tous"),
    )
    q = forms.CharField(
        label=_("Nom ou e-mail"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search"}),
    )

    def __init__(self, *args, points, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["point"].queryset = points

    def filters(self) -> dict[str, object]:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        point = data.get("point")
        return {
            "status": data.get("status") or "",
            "point_id": point.pk if point else None,
            "query": (data.get("q") or "").strip(),
        }


def _weekday_field(name: str) -> forms.TypedChoiceField:
    model_field = RecurringSchedule._meta.get_field(name)
    return forms.TypedChoiceField(
        label=model_field.verbose_name.capitalize(),
        choices=Weekday.choices,
        coerce=int,
        initial=model_field.default,
    )


class ScheduleForm(forms.ModelForm):
    """A recurring schedule: only the part of the rule matching the chosen rhythm is used."""

    open_weekday = _weekday_field("open_weekday")
    close_weekday = _weekday_field("close_weekday")
    distribution_weekday = _weekday_field("distribution_weekday")

    class Meta:
        model = RecurringSchedule
        fields = [
            "title",
            "kind",
            "open_weekday",
            "close_weekday",
            "distribution_weekday",
            "open_day",
            "close_day",
            "distribution_after_days",
            "open_time",
            "close_time",
            "distribution_start",
            "distribution_end",
            "points",
            "producers",
            "sales_ahead",
        ]
        widgets = {
            "kind": forms.RadioSelect,
            "open_time": TIME_WIDGET,
            "close_time": TIME_WIDGET,
            "distribution_start": TIME_WIDGET,
            "distribution_end": TIME_WIDGET,
            "points": forms.CheckboxSelectMultiple,
            "producers": forms.CheckboxSelectMultiple,
            "open_day": forms.NumberInput(attrs={"inputmode": "numeric", "min": 1, "max": 31}),
            "close_day": forms.NumberInput(attrs={"inputmode": "numeric", "min": 1, "max": 31}),
            "distribution_after_days": forms.NumberInput(attrs={"inputmode": "numeric", "min": 1, "max": 60}),
            "sales_ahead": forms.NumberInput(attrs={"inputmode": "numeric", "min": 1, "max": 6}),
        }
        help_texts = {
            "title": _("Chaque vente prend ce nom suivi de la date de distribution."),
            "close_day": _("S'il vient avant le jour d'ouverture, la clôture a lieu le mois suivant."),
            "sales_ahead": _("Nombre de ventes à venir gardées prêtes (de 1 à 6)."),
        }
        error_messages = {
            "points": {"required": _("Choisissez au moins un point de retrait.")},
            "producers": {"required": _("Choisissez au moins un producteur.")},
        }

    def __init__(self, *args, producer_label=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = RecurringSchedule.Kind.choices  # no empty "---------" radio
        self.fields["points"].queryset = points_active()
        self.fields["producers"].queryset = shop_producers()
        if producer_label:
            self.fields["producers"].label = producer_label

    def clean(self):
        data = super().clean()
        start, end = data.get("distribution_start"), data.get("distribution_end")
        if start and end and end <= start:
            self.add_error("distribution_end", _("La fin de la distribution doit venir après son début."))
        return data

    def _post_clean(self):
        # Validation only: schedule_create builds and saves the schedule (and checks the model's rules).
        pass

    @classmethod
    def monthly_defaults(cls) -> dict[str, object]:
        """A buying group's order form: opens on the 1st, closes on the 15th, distribution 7 days later."""
        return {
            "kind": RecurringSchedule.Kind.MONTHLY,
            "distribution_start": time(14, 0),
            "distribution_end": time(18, 0),
        }
