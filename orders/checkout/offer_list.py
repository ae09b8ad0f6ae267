"""The sale page's offer list, rendered once per version of the sale's offers and kept in the cache.

The list (producers, photos, names, prices, weighed estimates) is the same for every member: it is rendered
once per version of what it shows (`selectors.offer_list_version`: a counter on the sale and a stamp of the
catalogue), language and pricing variant, and cached by marketplace.render_cache (Redis, and the last few in
the process's memory; django-tenants' key function puts the schema in front of every key; when the version
changes one request renders the new list while the others serve the previous one). An order does not change
the version: what is left is no part of the list. What differs per request is filled in
after: what is left in stock, the member's quantities and the errors of what they typed. The cached list
is one piece of HTML, every offer drawn with plenty left and an empty field, and for each offer where its
two slots are (its sold-out class, its stock badge with its quantity field); only the few offers low in
stock or with a quantity or an error are drawn again by `_slot_html` (the one markup of a slot, the cached
piece included), and spliced in. So a request costs the same with 30 or 3 000 products.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from marketplace import render_cache
from marketplace.money import euros
from orders import pricing
from orders.checkout import selectors as checkout_selectors
from orders.models import MAX_LINE_QUANTITY, Offer, OfferWait, Sale

LIST_TEMPLATE = "orders/_sale_offer_list.html"
BASE_PRICES = pricing.BASE_VARIANT  # the catalogue's prices; each solidarity tier gets its own list
# Offers with fewer left than this are drawn per request: their badge (« plus que 3 ») or their limit
# (the field's `max`) differs from the cached piece's.
DRAWN_BELOW = MAX_LINE_QUANTITY
LOW_STOCK = 5  # « plus que 5 » and fewer
# Escaped text cannot hold "<!--", so a product's name can never make a slot.
SLOT = re.compile(r"<!--slot:([ct]):(\d+)-->(.*?)<!--/slot-->", re.S)
NAV_END = "<!--/nav-->"
FORMAT = 3  # of OfferList and of _slot_html: bump when they change, so that no process reads an older one


@dataclass(frozen=True)
class OfferList:
    nav: str  # the jump list of producers, shown above the form (empty with one producer)
    html: str  # every offer as drawn with plenty left and nothing typed, for a member who may order
    # offer id → (where its class slot is, where its field slot starts and ends, its name, weighed?),
    # in the order of the page
    slots: dict[int, tuple[int, int, int, str, bool]]


@cache
def _markup_version() -> str:
    """The templates' own digest: a deployment that changes them does not serve lists cached before."""
    source = get_template(LIST_TEMPLATE).template.source  # type: ignore[attr-defined]
    return hashlib.md5(source.encode(), usedforsecurity=False).hexdigest()[:8]


def offer_list_base(*, sale: Sale, language: str, variant: str = BASE_PRICES) -> str:
    """What the cached list is (marketplace.render_cache): the sale, the pricing variant (members on a
    solidarity tier see other prices: each tier has its own list), the language and the markup's version.
    The schema is put in front by the cache's key function (django_tenants.cache.make_key), so a collective
    never reads another's list."""
    return f"sale-offers:{sale.pk}:{variant}:{language}:{_markup_version()}.{FORMAT}"


def offer_list_key(*, sale: Sale, language: str, variant: str = BASE_PRICES) -> str:
    """The one place the cache key of a sale's offer list is made: its base and the version of what it
    shows (selectors.offer_list_version)."""
    version = checkout_selectors.offer_list_version(sale=sale)
    return f"{offer_list_base(sale=sale, language=language, variant=variant)}@{version}"


def _labels() -> dict[str, str]:
    """The constant words of the slots, translated (and escaped) once per rendering rather than per offer."""
    return {
        "quantity": escape(_("Quantité")),
        "pieces": escape(_("Nombre de pièces")),
        "sold_out": escape(_("Épuisé")),
        "low": _("plus que %(remaining)s"),
        "wanted": escape(_("Quantité souhaitée")),
        "join": escape(_("M'inscrire sur la liste d'attente")),
        "waiting": escape(_("Vous êtes sur la liste d'attente : vous recevrez un e-mail s'il se libère.")),
    }


def _slot_html(
    *,
    offer_id: int,
    name: str,
    weighed: bool,
    left: int | None,
    limit: int,
    value: str,
    errors: object,
    can_order: bool,
    labels: dict[str, str],
    wait: OfferWait | None = None,
    join_url: str = "",
) -> str:
    """An offer's stock badge and labelled quantity field; for a sold-out one, its waiting list (join it,
    or where the member stands: waiting, or units held for them). Written in Python rather than as a
    template: a page may draw hundreds of them (the offers low in stock) and a template costs ten times
    more each."""
    html = ""
    held = bool(wait and wait.is_offered)
    if left == 0:
        html = f'<p><span class="badge badge-out">{labels["sold_out"]}</span></p>'
        if can_order and held:
            until = date_format(timezone.localtime(wait.offered_until), "WEEKDAY_AT_TIME_FORMAT")  # type: ignore[union-attr, arg-type]
            count = wait.held  # type: ignore[union-attr]
            text = ngettext(
                "%(held)s réservé pour vous jusqu'au %(until)s : indiquez-le dans votre panier.",
                "%(held)s réservés pour vous jusqu'au %(until)s : indiquez-les dans votre panier.",
                count,
            ) % {"held": count, "until": until}
            html += f'<p class="wait-held"><strong>{escape(text)}</strong></p>'
        elif can_order and wait is not None:
            html += f'<p class="meta">{labels["waiting"]}</p>'
        elif can_order and join_url:  # also for a member whose order holds some: they may want more
            html += (
                f'<div class="qty-field wait-join">\n<label for="id_wait_{offer_id}">{labels["wanted"]}'
                f'<span class="visually-hidden"> : {escape(name)}</span></label>\n'
                f'<input type="number" name="wait_{offer_id}" id="id_wait_{offer_id}" value="1" min="1"'
                f' max="{MAX_LINE_QUANTITY}" class="qty">\n'
                f'<button type="submit" class="button-secondary" formaction="{join_url}" formnovalidate>'
                f"{labels['join']}</button></div>"
            )
    elif left is not None and left <= LOW_STOCK:
        html = f'<p><span class="badge badge-low">{escape(labels["low"] % {"remaining": left})}</span></p>'
    if can_order and (left != 0 or value or held):
        label = labels["pieces"] if weighed else labels["quantity"]
        invalid = ' aria-invalid="true"' if errors else ""
        html += (
            f'<div class="qty-field">\n<label for="id_qty_{offer_id}">{label}'
            f'<span class="visually-hidden"> : {escape(name)}</span></label>\n'
            f'<input type="number" name="qty_{offer_id}" id="id_qty_{offer_id}" value="{escape(value)}"'
            f' min="0" max="{limit}" class="qty"{invalid}>{errors or ""}</div>'
        )
    return html


def _render(sale: Sale, percent: Decimal | None) -> OfferList:
    offers = pricing.offers_priced(checkout_selectors.sale_offers(sale=sale), percent)
    # The unit's words and the price's text once per unit and per price, not once per offer: a choice's
    # display hashes every lazily translated choice each time (a third of a 3 000-offer rendering).
    units = {value: str(label) for value, label in Offer._meta.get_field("unit").flatchoices}
    prices: dict[Decimal, str] = {}
    for offer in offers:
        offer.unit_label = units.get(offer.unit, offer.unit)  # type: ignore[attr-defined]
        if offer.price not in prices:
            prices[offer.price] = euros(offer.price)
        offer.price_text = prices[offer.price]  # type: ignore[attr-defined]
    html = get_template(LIST_TEMPLATE).render({"groups": checkout_selectors.offers_by_producer(offers)})
    labels = _labels()
    nav, _end, body = html.partition(NAV_END)
    names = {offer.pk: (offer.name, offer.is_variable_weight) for offer in offers}
    pieces: list[str] = []
    slots: dict[int, list] = {}
    length = position = 0
    for match in SLOT.finditer(body):
        pieces.append(body[position : match.start()])
        length += match.start() - position
        offer_id = int(match[2])
        if match[1] == "c":
            slots[offer_id] = [length]
            position = match.end()
            continue
        name, weighed = names[offer_id]
        default = _slot_html(
            offer_id=offer_id,
            name=name,
            weighed=weighed,
            left=None,
            limit=MAX_LINE_QUANTITY,
            value="",
            errors="",
            can_order=True,
            labels=labels,
        )
        slots[offer_id] += [length, length + len(default), name, weighed]
        pieces.append(default)
        length += len(default)
        position = match.end()
    pieces.append(body[position:])
    return OfferList(nav=nav, html="".join(pieces), slots={key: tuple(slot) for key, slot in slots.items()})


def offer_list(*, sale: Sale, percent: Decimal | None = None) -> OfferList:
    """The sale's offer list at the prices of a tier moved by `percent` (orders.pricing; None: the base
    prices): from this process's memory, else from the cache, else rendered by one request while the
    others serve the previous version (marketplace.render_cache: every order changes what is left, not the
    list, but a new price or product makes a new version that every member on the page then asks for)."""
    base = offer_list_base(sale=sale, language=get_language(), variant=pricing.pricing_variant(percent))
    return render_cache.cached_piece(
        base=base,
        version=checkout_selectors.offer_list_version(sale=sale),
        render=lambda: _render(sale, percent),
    )


def offer_list_forget(*, sale: Sale, variant: str = BASE_PRICES) -> None:
    """Drop the current version of the list (in the active language), here and in the cache: the
    benchmark's cold cache."""
    render_cache.cached_piece_forget(
        base=offer_list_base(sale=sale, language=get_language(), variant=variant),
        version=checkout_selectors.offer_list_version(sale=sale),
    )


def offer_list_html(
    *,
    listing: OfferList,
    can_order: bool,
    left: Mapping[int, int | None],
    own: Mapping[int, int],
    values: Mapping[int, str],
    errors: Mapping[int, object],
    waits: Mapping[int, OfferWait] | None = None,
    sale_id: int | None = None,
) -> SafeString:
    """The list as this member sees it. `left`: what is left of the offers low in stock and of those the
    member typed or holds (selectors.stock_left); `own`: what their order already holds and what waiting
    lists hold for them (theirs to take); `values`: the quantities shown, as typed; `errors`: the messages
    of the wrong ones; `waits`: their entries on sold-out products' lists; `sale_id`: where the lists'
    buttons go (none without it)."""
    waits = waits or {}
    drawn = (set(left) | set(values) | set(errors) | set(waits)) & listing.slots.keys()
    if can_order and not drawn:
        return mark_safe(listing.html)  # noqa: S308 - rendered by the templates, escaped there
    # A visitor who may not order sees no field: then every offer's slot is cut out.
    redrawn = sorted(drawn if can_order else listing.slots, key=lambda offer_id: listing.slots[offer_id][0])
    labels = _labels()
    html = listing.html
    out = []
    position = 0
    for offer_id in redrawn:
        class_at, field_from, field_to, name, weighed = listing.slots[offer_id]
        remaining = left.get(offer_id)
        out += [html[position:class_at], " is-sold-out" if remaining == 0 else "", html[class_at:field_from]]
        position = field_to
        if offer_id not in drawn:
            continue  # a visitor's view of an offer with plenty left: no badge, no field
        limit = (
            MAX_LINE_QUANTITY
            if remaining is None
            else min(MAX_LINE_QUANTITY, remaining + own.get(offer_id, 0))
        )
        out.append(
            _slot_html(
                offer_id=offer_id,
                name=name,
                weighed=weighed,
                left=remaining,
                limit=limit,
                value=values.get(offer_id, ""),
                errors=errors.get(offer_id, ""),
                can_order=can_order,
                labels=labels,
                wait=waits.get(offer_id),
                join_url=reverse("offer_wait_join", args=[sale_id, offer_id])
                if sale_id is not None and remaining == 0
                else "",
            )
        )
    out.append(html[position:])
    return mark_safe("".join(out))  # noqa: S308 - pieces rendered by the templates, escaped there
