"""Money is Decimal everywhere; this is the one place that rounds an amount to cents."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def money(value: Decimal | int | str) -> Decimal:
    """`value` in euros rounded to the cent (half up, as a till does)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
