"""Money is Decimal everywhere; this is the one place that rounds an amount to cents."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format

CENT = Decimal("0.01")


def money(value: Decimal | int | str) -> Decimal:
    """`value` in euros rounded to the cent (half up, as a till does)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def euros(value: Decimal | None) -> str:
    """« 4,80 € » in French, « 4.80 € » in English (the active language); "" for no amount."""
    if value is None or value == "":
        return ""
    return f"{number_format(money(value), 2, use_l10n=True, force_grouping=True)}\u00a0€"
