"""`{{ amount|euros }}` → « 4,80 € » in French, « 4.80 € » in English."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.formats import number_format

from marketplace.money import money

register = template.Library()


@register.filter
def euros(value: Decimal | None) -> str:
    if value is None or value == "":
        return ""
    return f"{number_format(money(value), 2, use_l10n=True, force_grouping=True)}\u00a0€"
