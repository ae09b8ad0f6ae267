"""The sale page's offer list, rendered once per version of the sale's offers and kept in the cache.

The list (producers, photos, names, prices, weighed estimates) is the same for every member: it is rendered
once per version of what it shows (`selectors.offer_list_fingerprint`, one query), language and pricing
variant, and cached (Redis; django-tenants' key function puts the schema in front of every key). What
differs per request is filled in after: what is left in stock, the member's quantities and the errors of
what they typed. The cached list is a sequence of HTML pieces with two slots per offer, its sold-out class
and its stock badge with its quantity field; a slot takes the piece rendered with the list (plenty left,
nothing typed), except for the few offers low in stock or with a quantity or an error, each rendered with
the same small template (`orders/_offer_stock_qty.html`). So a request costs the same with 30 or 3 000
products but for joining the pieces.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from django.core.cache import cache as django_cache
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from orders.checkout import selectors as checkout_selectors
from orders.models import MAX_LINE_QUANTITY, Sale

LIST_TEMPLATE = "orders/_sale_offer_list.html"
SLOT_TEMPLATE = "orders/_offer_stock_qty.html"
BASE_PRICES = "base"  # the catalogue's prices; a pricing variant (e.g. a solidarity tier) gets its own list
CACHE_SECONDS = 24 * 3600  # a new version gets a new key: old ones only wait to expire
# Offers with fewer left than this are drawn per request: their badge (« plus que 3 ») or their limit
# (the field's `max`) differs from the cached piece's.
DRAWN_BELOW = MAX_LINE_QUANTITY
# Escaped text cannot hold "<!--", so a product's name can never make a slot.
SLOT = re.compile(r"<!--slot:([ct]):(\d+)-->(.*?)<!--/slot-->", re.S)
NAV_END = "<!--/nav-->"


@dataclass(frozen=True)
class Slot:
    kind: str  # "c": the item's class (sold out); "t": its stock badge and quantity field
    offer_id: int
    default: str  # what the slot holds when nothing is special about the offer (for "t": an empty field)
    name: str
    weighed: bool


@dataclass(frozen=True)
class OfferList:
    nav: str  # the jump list of producers, shown above the form (empty with one producer)
    parts: list  # str pieces and Slots, in order


@cache
def _markup_version() -> str:
    """The templates' own digest: a deployment that changes them does not serve lists cached before."""
    sources = "".join(get_template(name).template.source for name in (LIST_TEMPLATE, SLOT_TEMPLATE))
    return hashlib.md5(sources.encode(), usedforsecurity=False).hexdigest()[:8]


def offer_list_key(*, sale: Sale, language: str, variant: str = BASE_PRICES) -> str:
    """The one place the cache key of a sale's offer list is made: the version of what it shows, the
    language, and the pricing variant (members on a solidarity tier will see other prices: name the tier
    here, and render its prices in the list). The schema is put in front by the cache's key function
    (django_tenants.cache.make_key), so a collective never reads another's list."""
    fingerprint = checkout_selectors.offer_list_fingerprint(sale=sale)
    return f"sale-offers:{sale.pk}:{variant}:{language}:{_markup_version()}:{fingerprint}"


def _labels() -> dict[str, str]:
    """The constant words of the quantity fields, translated once per rendering rather than per offer."""
    return {"quantity": _("Quantité"), "pieces": _("Nombre de pièces"), "sold_out": _("Épuisé")}


def _render(sale: Sale) -> OfferList:
    offers = checkout_selectors.sale_offers(sale=sale)
    html = get_template(LIST_TEMPLATE).render(
        {
            "groups": checkout_selectors.offers_by_producer(offers),
            "labels": _labels(),
            "max_quantity": MAX_LINE_QUANTITY,
        }
    )
    nav, _end, body = html.partition(NAV_END)
    names = {offer.pk: (offer.name, offer.is_variable_weight) for offer in offers}
    parts: list = []
    position = 0
    for match in SLOT.finditer(body):
        parts.append(body[position : match.start()])
        offer_id = int(match[2])
        name, weighed = names[offer_id]
        parts.append(Slot(kind=match[1], offer_id=offer_id, default=match[3], name=name, weighed=weighed))
        position = match.end()
    parts.append(body[position:])
    return OfferList(nav=nav, parts=parts)


def offer_list(*, sale: Sale, variant: str = BASE_PRICES) -> OfferList:
    """The sale's offer list from the cache, rendered and stored when this version is not there yet."""
    key = offer_list_key(sale=sale, language=get_language(), variant=variant)
    listing = django_cache.get(key)
    if listing is None:
        listing = _render(sale)
        django_cache.set(key, listing, CACHE_SECONDS)
    return listing


def offer_list_forget(*, sale: Sale, variant: str = BASE_PRICES) -> None:
    """Drop the current version of the list (in the active language): the benchmark's cold cache."""
    django_cache.delete(offer_list_key(sale=sale, language=get_language(), variant=variant))


def offer_list_html(
    *,
    listing: OfferList,
    can_order: bool,
    left: Mapping[int, int | None],
    own: Mapping[int, int],
    values: Mapping[int, str],
    errors: Mapping[int, object],
) -> SafeString:
    """The list as this member sees it. `left`: what is left of the offers low in stock and of those the
    member typed or holds (selectors.stock_left); `own`: what their order already holds (theirs to keep);
    `values`: the quantities shown, as typed; `errors`: the messages of the wrong ones."""
    drawn = set(left) | set(values) | set(errors)
    slot_template = get_template(SLOT_TEMPLATE)
    labels = _labels() if drawn else {}
    out = []
    for part in listing.parts:
        if part.__class__ is str:
            out.append(part)
        elif part.kind == "c":
            out.append(" is-sold-out" if left.get(part.offer_id) == 0 else "")
        elif part.offer_id in drawn:
            remaining = left.get(part.offer_id)
            limit = (
                MAX_LINE_QUANTITY
                if remaining is None
                else min(MAX_LINE_QUANTITY, remaining + own.get(part.offer_id, 0))
            )
            out.append(
                slot_template.render(
                    {
                        "offer_id": part.offer_id,
                        "name": part.name,
                        "weighed": part.weighed,
                        "left": remaining,
                        "limit": limit,
                        "value": values.get(part.offer_id, ""),
                        "errors": errors.get(part.offer_id, ""),
                        "can_order": can_order,
                        "labels": labels,
                    }
                )
            )
        elif can_order:
            out.append(part.default)
    return mark_safe("".join(out))  # noqa: S308 - pieces rendered by the templates, escaped there
