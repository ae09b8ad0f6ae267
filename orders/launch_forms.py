"""The one page of « Lancer un drive » (orders.launch): four fieldsets, no JavaScript; the service checks
the whole plan again before writing anything."""

from __future__ import annotations

from datetime import time

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from marketplace.departments import validate_department
from marketplace.models import SLUG_VALIDATOR, Collective
from orders.launch import DrivePlan
from pickup_points import services as point_services
from pickup_points.models import Weekday

DISTRIBUTION = ("distribution_weekday", "distribution_start", "distribution_end")

TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class DriveLaunchForm(forms.Form):
    # 1. The drive
    name = forms.CharField(label=_("Nom du drive"), max_length=120)
    slug = forms.CharField(
        label=_("Adresse (sous-domaine)"),
        max_length=30,
        validators=[SLUG_VALIDATOR],
        help_text=_("Votre drive sera à l'adresse <sous-domaine>.%(domain)s, par ex. cagette47."),
    )
    town = forms.CharField(label=_("Commune"), max_length=120)
    department = forms.CharField(label=_("Département"), max_length=3, help_text=_("Son numéro, par ex. 47."))
    contact_email = forms.EmailField(label=_("E-mail de contact du drive"))
    join_mode = forms.ChoiceField(
        label=_("Qui peut commander ?"),
        choices=Collective.JoinMode.choices,
        initial=Collective.JoinMode.OPEN,
        widget=forms.RadioSelect,
    )
    farm_name = forms.CharField(
        label=_("Votre ferme"),
        max_length=120,
        help_text=_("Le premier producteur du drive : vous. Les autres fermes vous rejoindront ensuite."),
    )
    # 2. The pickup point
    point_name = forms.CharField(
        label=_("Nom du point de retrait"),
        max_length=120,
        help_text=_("Par ex. : Salle des fêtes, mairie de Nérac."),
    )
    point_address = forms.CharField(label=_("Adresse"), max_length=200)
    point_postcode = forms.CharField(label=_("Code postal"), max_length=10, required=False)
    point_town = forms.CharField(label=_("Commune du point"), max_length=120)
    access_instructions = forms.CharField(
        label=_("Accès et consignes"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Entrée, stationnement, consignes sanitaires…"),
    )
    # 3. Distribution and slots
    distribution_weekday = forms.TypedChoiceField(
        label=_("Jour de distribution"), choices=Weekday.choices, coerce=int, initial=Weekday.FRIDAY
    )
    distribution_start = forms.TimeField(label=_("De"), initial=time(17, 0), widget=TIME)
    distribution_end = forms.TimeField(label=_("À"), initial=time(19, 0), widget=TIME)
    slot_minutes = forms.IntegerField(
        label=_("Durée d'un créneau (minutes)"), initial=15, min_value=5, max_value=480
    )
    slot_capacity = forms.IntegerField(label=_("Foyers par créneau"), initial=6, min_value=1, max_value=500)
    # 4. The weekly ordering window
    open_weekday = forms.TypedChoiceField(
        label=_("Les commandes ouvrent le"), choices=Weekday.choices, coerce=int, initial=Weekday.SATURDAY
    )
    open_time = forms.TimeField(label=_("Heure d'ouverture"), initial=time(8, 0), widget=TIME)
    close_weekday = forms.TypedChoiceField(
        label=_("et ferment le"), choices=Weekday.choices, coerce=int, initial=Weekday.TUESDAY
    )
    close_time = forms.TimeField(label=_("Heure de clôture"), initial=time(23, 59), widget=TIME)

    FIELDSETS = [
        (
            _("1. Votre drive"),
            ["name", "slug", "town", "department", "contact_email", "join_mode", "farm_name"],
        ),
        (
            _("2. Le point de retrait"),
            ["point_name", "point_address", "point_postcode", "point_town", "access_instructions"],
        ),
        (
            _("3. La distribution"),
            [
                "distribution_weekday",
                "distribution_start",
                "distribution_end",
                "slot_minutes",
                "slot_capacity",
            ],
        ),
        (_("4. Les commandes, chaque semaine"), ["open_weekday", "open_time", "close_weekday", "close_time"]),
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].help_text = self.fields["slug"].help_text % {"domain": settings.BASE_DOMAIN}

    def fieldsets(self):
        return [(legend, [self[name] for name in names]) for legend, names in self.FIELDSETS]

    def clean_slug(self) -> str:
        return self.cleaned_data["slug"].strip().lower()

    def clean_department(self) -> str:
        department = self.cleaned_data["department"].strip().upper()
        validate_department(department)
        return department

    def clean(self) -> dict:
        data = super().clean()
        weekday, start, end = (data.get(name) for name in DISTRIBUTION)
        if weekday is not None and start and end:
            for problem in point_services.hours_problems([(weekday, start, end)]):
                self.add_error("distribution_end", problem)
        return data

    def plan(self) -> DrivePlan:
        data = {
            name: value.strip() if isinstance(value, str) else value
            for name, value in self.cleaned_data.items()
        }
        return DrivePlan(**data)
