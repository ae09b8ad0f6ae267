"""`{{ product.estimated_weight_kg|weight }}` → « 350 g », « 1,2 kg »; `{{ line|pieces }}` and
`{{ offer|pieces:3 }}` → « 3 pièces ≈ 900 g ≈ 21,60 € » (producers.weighing, the one wording)."""

from __future__ import annotations

from decimal import Decimal

from django import template

from producers.weighing import weight_text

register = template.Library()


@register.filter
def weight(kg: Decimal | None) -> str:
    return weight_text(kg)


@register.filter
def pieces(item, quantity: int | None = None) -> str:
    """A weighed line (an order line, a sheet's product total) or an offer for `quantity` pieces
    (one if not given): whatever has a `pieces_text(quantity)` method (a line counts its own)."""
    return item.pieces_text(None if quantity in (None, "") else int(quantity))
