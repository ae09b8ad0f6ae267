"""`{{ product.estimated_weight_kg|weight }}` → « 350 g », « 1,2 kg »."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def weight(kg: Decimal | None) -> str:
    if kg is None:
        return ""
    if kg < 1:
        return f"{number_format(_plain(kg * 1000), use_l10n=True)}\u00a0g"
    return f"{number_format(_plain(kg), use_l10n=True)}\u00a0kg"


def _plain(value: Decimal) -> Decimal:
    """500.000 → 500 and 1.200 → 1.2, without the exponent that normalize() gives to 500."""
    return Decimal(f"{value.normalize():f}")
