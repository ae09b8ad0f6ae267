"""The shop's catalogue (`/boutique/`, public), rendered once per version of what it shows and kept in the
cache (marketplace.render_cache: one request rebuilds it, the others serve the previous one meanwhile).

What the shop shows is the same for every visitor: the active products of the active producers, their
photos, prices, shelves and stock badges. Its version (selectors.shop_version, one cheap query) changes
with any saved product (every write of a product sets `updated_at`), any shown column of a producer or a
shelf, and the central stock of the shared products listed here, so a change shows on the next request.
Filtered by shelf or producer it is cached too (a few dozen keys); a text search is rendered each time
(its keys would be without end).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache

from django.template.loader import get_template, render_to_string
from django.utils.translation import get_language

from marketplace import render_cache
from producers import selectors

LIST_TEMPLATE = "producers/_shop_sections.html"
FORMAT = 1  # of ShopList: bump when it changes, so that no process reads an older one


@dataclass(frozen=True)
class ShopList:
    html: str
    item_count: int


@cache
def _markup_version() -> str:
    """The templates' own digest: a deployment that changes them does not serve lists cached before."""
    sources = "".join(
        get_template(name).template.source  # type: ignore[attr-defined]
        for name in (LIST_TEMPLATE, "producers/_shop_item.html")
    )
    return hashlib.md5(sources.encode(), usedforsecurity=False).hexdigest()[:8]


def _render(*, category_id: int | None, producer_id: int | None, query: str, filtered: bool) -> ShopList:
    items = selectors.shop_items(category_id=category_id, producer_id=producer_id, query=query)
    html = render_to_string(
        LIST_TEMPLATE, {"sections": selectors.shop_sections(items), "is_filtered": filtered}
    )
    return ShopList(html=html, item_count=len(items))


def shop_list(*, category_id: int | None = None, producer_id: int | None = None, query: str = "") -> ShopList:
    """The shop's sections (as HTML) and their item count, for these filters."""
    filtered = bool(category_id or producer_id or query)

    def render() -> ShopList:
        return _render(category_id=category_id, producer_id=producer_id, query=query, filtered=filtered)

    if query:
        return render()
    base = f"shop:{category_id or 0}:{producer_id or 0}:{get_language()}:{_markup_version()}.{FORMAT}"
    return render_cache.cached_piece(base=base, version=selectors.shop_version(), render=render)
