"""Tier prices: the one place where a member's price is computed from the base price.

The sale page, the cart, the checkout and the order lines all price through `tier_price`; suppliers'
documents read the base price kept on each line. A cache of the sale page's offer list keys it by
`pricing_variant(percent)` ("base" for the base price), so that each tier's prices are cached apart.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from decimal import Decimal

from marketplace.money import money
from orders.models import MemberTier, Offer, PriceTier

ZERO = Decimal("0")
BASE_VARIANT = "base"


def tier_price(base_price: Decimal, percent: Decimal | PriceTier | None) -> Decimal:
    """The base price moved by the tier's percentage, rounded to the cent (half up). Never below a cent."""
    if isinstance(percent, PriceTier):
        percent = percent.percent
    if not percent:
        return base_price
    return max(money(base_price * (Decimal(100) + percent) / Decimal(100)), Decimal("0.01"))


def pricing_variant(percent: Decimal | None) -> str:
    """The name of a price list for caches: "base", or the tier's percentage ("tier-30.00" for −30 %)."""
    if not percent:
        return BASE_VARIANT
    return f"tier{percent:+.2f}"


def offers_priced(offers: Iterable[Offer], percent: Decimal | None) -> list[Offer]:
    """The offers as a member of this tier sees them: copies whose `price` is the tier's (never saved;
    `base_price` keeps the supplier's). The base variant returns the offers themselves."""
    offers = list(offers)
    for offer in offers:
        offer.base_price = offer.price  # type: ignore[attr-defined]
    if not percent:
        return offers
    priced = []
    for offer in offers:
        shown = copy.copy(offer)
        shown.price = tier_price(offer.price, percent)
        shown.save = _never_saved  # type: ignore[method-assign]
        priced.append(shown)
    return priced


def _never_saved(*args, **kwargs):
    raise RuntimeError("a tier-priced offer is a view of the sale's offer, never saved")


def member_tier(*, user) -> PriceTier | None:
    """The member's active tier in this collective (one query), None for the base price."""
    if user is None or not user.is_authenticated:
        return None
    row = MemberTier.objects.filter(user=user, tier__is_active=True).select_related("tier").first()
    return row.tier if row else None
