"""The accountant's export: a period and a file format."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MAX_PERIOD_DAYS = 366


class LedgerExportForm(forms.Form):
    start = forms.DateField(
        label=_("Du"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Indiquez le début de la période."), "invalid": _("Date invalide.")},
    )
    end = forms.DateField(
        label=_("Au (inclus)"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Indiquez la fin de la période."), "invalid": _("Date invalide.")},
    )
    file_format = forms.ChoiceField(
        label=_("Format"),
        choices=[("xlsx", _("Tableur (XLSX)")), ("csv", _("CSV"))],
        initial="xlsx",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["start"].initial = today.replace(day=1)
        self.fields["end"].initial = today

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("La fin de la période précède son début."))
            if end - start > timedelta(days=MAX_PERIOD_DAYS):
                raise forms.ValidationError(_("Une période d'un an au plus."))
        return data
