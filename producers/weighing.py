"""How a weighed product reads wherever it appears: « 3 pièces ≈ 900 g ≈ 21,60 € » before the weighing,
« 3 pièces, 912 g : 21,89 € » after. Products sold by the kg are handed out by the piece, so the member
counts pieces and sees the weight and the price those pieces should come to."""

from __future__ import annotations

from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import ngettext

from marketplace.money import euros


def weight_text(kg: Decimal | None) -> str:
    """« 350 g » below a kilogram, « 1,2 kg » from there; "" for no weight."""
    if kg is None:
        return ""
    if kg < 1:
        return f"{number_format(_plain(kg * 1000), use_l10n=True)}\u00a0g"
    return f"{number_format(_plain(kg), use_l10n=True)}\u00a0kg"


def _plain(value: Decimal) -> Decimal:
    """500.000 → 500 and 1.200 → 1.2, without the exponent that normalize() gives to 500."""
    return Decimal(f"{value.normalize():f}")


def pieces_text(
    *,
    pieces: int,
    piece_kg: Decimal | None,
    amount: Decimal,
    weighed_kg: Decimal | None = None,
    weighed_amount: Decimal | None = None,
) -> str:
    """The one wording of a weighed line: the pieces, their estimated weight and price, or once weighed
    their real weight and amount."""
    if weighed_kg is not None and weighed_amount is not None:
        return ngettext(
            "%(count)s pièce, %(weight)s : %(amount)s",
            "%(count)s pièces, %(weight)s : %(amount)s",
            pieces,
        ) % {"count": pieces, "weight": weight_text(weighed_kg), "amount": euros(weighed_amount)}
    return ngettext(
        "%(count)s pièce ≈ %(weight)s ≈ %(amount)s",
        "%(count)s pièces ≈ %(weight)s ≈ %(amount)s",
        pieces,
    ) % {
        "count": pieces,
        "weight": weight_text(piece_kg * pieces if piece_kg else None),
        "amount": euros(amount),
    }
