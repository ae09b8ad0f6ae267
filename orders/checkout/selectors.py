"""Reads for the member's pages (sale shop, cart, orders) and for e-mails and sheets (VAT breakdown)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Prefetch, QuerySet

from marketplace import rows
from marketplace.models import Membership, SharedProduct
from marketplace.money import money
from orders import pricing
from orders.ledger import fund
from orders.locks import SALE_COLUMNS
from orders.models import (
    MemberPreferences,
    MemberTier,
    Offer,
    OfferWait,
    Order,
    OrderLine,
    Payment,
    PriceTier,
    Sale,
    ShopSettings,
    SlotWait,
)
from pickup_points.models import PickupPoint, PickupSlot
from pickup_points.selectors import distribution_hours_column
from producers.models import Category, Producer, Product


@dataclass(frozen=True)
class VatRow:
    rate: Decimal
    amount_incl_vat: Decimal
    vat: Decimal
    amount_excl_vat: Decimal


def vat_breakdown(lines: Iterable[OrderLine], *, base: bool = False) -> list[VatRow]:
    """Per VAT rate: the amount incl. VAT (sum of the rounded lines), the VAT it contains, and the rest.
    `base`: at the base prices (what suppliers are paid), not the members' tier prices."""
    per_rate: dict[Decimal, Decimal] = defaultdict(Decimal)
    for line in lines:
        per_rate[line.vat_rate] += line.base_amount if base else line.amount
    rows = []
    for rate, amount in sorted(per_rate.items()):
        vat = money(amount * rate / (Decimal(100) + rate))
        rows.append(VatRow(rate=rate, amount_incl_vat=amount, vat=vat, amount_excl_vat=amount - vat))
    return rows


def sale_offers(*, sale: Sale) -> QuerySet[Offer]:
    return (
        Offer.objects.filter(sale=sale)
        .select_related(
            "producer",
            "product__category",
            "product__shared_product",
            "product__lab_request__decision__session",
        )
        .order_by("producer__name", "product__category__position", "name")
    )


def offers_priced(*, sale: Sale, offer_ids: Iterable[int]) -> list[Offer]:
    """The offers of `sale` among `offer_ids`, with what their price needs (the running total, the cart)."""
    offer_ids = list(offer_ids)
    return list(Offer.objects.filter(sale=sale, pk__in=offer_ids).order_by()) if offer_ids else []


def _stock_left_sql(*, offer_ids: bool, below: bool, with_offers: bool = False) -> str:
    offer, product = Offer._meta.db_table, Product._meta.db_table
    shared = SharedProduct._meta.db_table
    # With the offers' own columns (cart_stock): the running total prices the cart from the same read; only
    # for the offers asked for (NULLs, cheap to read, for the others low in stock).
    offer_columns = (
        ", "
        + ", ".join(
            f"CASE WHEN o.id = ANY(%(ids)s::bigint[]) THEN {column} END"
            for column in rows.each_column(Offer, "o")
        )
        if with_offers
        else ""
    )
    sql = (
        f"SELECT o.id, o.quantity, o.sold, sp.stock - sp.reserved{offer_columns} "  # noqa: S608 - the models' tables
        f"FROM {offer} o JOIN {product} p ON p.id = o.product_id "
        f"LEFT JOIN {shared} sp ON sp.id = p.shared_product_id WHERE o.sale_id = %(sale)s"
    )
    wanted = "o.id = ANY(%(ids)s::bigint[])"
    low = "(o.quantity IS NOT NULL AND o.quantity < o.sold + %(below)s) OR sp.stock - sp.reserved < %(below)s"
    if offer_ids and below:
        sql += f" AND ({wanted} OR {low})"
    elif offer_ids:
        sql += f" AND {wanted}"
    elif below:
        sql += f" AND ({low})"
    return sql


def _left(quantity: int | None, sold: int, central: int | None) -> int | None:
    own = None if quantity is None else max(quantity - sold, 0)
    central = None if central is None else max(central, 0)
    return central if own is None else own if central is None else min(own, central)


def _stock_params(sale: Sale, offer_ids: Iterable[int] | None, below: int | None) -> dict[str, object]:
    params: dict[str, object] = {"sale": sale.pk, "below": below}
    if offer_ids is not None:
        params["ids"] = [int(offer_id) for offer_id in offer_ids]
    return params


def stock_left(
    *, sale: Sale, offer_ids: Iterable[int] | None = None, below: int | None = None
) -> dict[int, int | None]:
    """What is left to order of the sale's offers, by offer id (None: unlimited): the one read of it, for
    the sale page (`below`: only the offers with fewer left, whose badge and limit differ from the others')
    and the cart (`offer_ids`: the offers posted). An offer not returned is not in the sale, or has at least
    `below` left; with both, the offers of either kind (the sale page: its cart's and its low ones, in one
    read). Within the producer's central stock for a shared product (Offer.remaining says the same for one
    offer). One plain statement: read on every sale page and cart, it is not built by the ORM."""
    params = _stock_params(sale, offer_ids, below)
    if offer_ids is not None and not params["ids"] and below is None:
        return {}
    sql = _stock_left_sql(offer_ids=offer_ids is not None, below=below is not None)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {pk: _left(quantity, sold, central) for pk, quantity, sold, central in cursor.fetchall()}


@dataclass(frozen=True)
class CartStock:
    left: dict[int, int | None]  # as stock_left
    offers: dict[int, Offer]  # the offers of `offer_ids` that are in the sale


def cart_stock(*, sale: Sale, offer_ids: Iterable[int], below: int | None = None) -> CartStock:
    """stock_left for the sale page, with the cart's offers themselves (`offer_ids`) from the same
    statement: the running total is priced from them (offers_priced is not read again)."""
    params = _stock_params(sale, offer_ids, below)
    if not params["ids"] and below is None:
        return CartStock(left={}, offers={})
    wanted = set(params["ids"])  # type: ignore[arg-type]
    left: dict[int, int | None] = {}
    offers: dict[int, Offer] = {}
    sql = _stock_left_sql(offer_ids=True, below=below is not None, with_offers=True)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            pk, quantity, sold, central = row[:4]
            left[pk] = _left(quantity, sold, central)
            if pk in wanted:
                offers[pk] = rows.instance(Offer, row[4:])  # type: ignore[assignment]
    return CartStock(left=left, offers=offers)


def _catalogue_stamp_columns() -> str:
    product, producer, category = Product._meta.db_table, Producer._meta.db_table, Category._meta.db_table
    # A sum, not a max: a product saved early but committed last still changes it. The producers and the
    # shelves are a few dozen rows: their shown columns themselves.
    return (
        "(SELECT count(*) || '.' || coalesce(sum(extract(epoch FROM updated_at)), 0) "  # noqa: S608
        f"FROM {product}) AS catalogue_products, "
        f"(SELECT md5(string_agg(concat_ws('|', id, name), ',' ORDER BY id)) FROM {producer}) "
        "AS catalogue_producers, "
        f"(SELECT md5(string_agg(concat_ws('|', id, position), ',' ORDER BY id)) FROM {category}) "
        "AS catalogue_categories"
    )


def _catalogue_stamp(products: str, producers: str | None, categories: str | None) -> str:
    catalogue = hashlib.md5(f"{products}|{producers}|{categories}".encode(), usedforsecurity=False)
    return catalogue.hexdigest()[:16]


def offer_list_version(*, sale: Sale) -> str:
    """The version of what the sale page's cached offer list shows (orders.checkout.offer_list): the sale's
    `offers_version` (bumped by every change of its offers, read with the sale), and in one cheap query a
    stamp of the collective's catalogue that changes with any saved product (its photo, its shelf: every
    write of a product sets `updated_at`), producer name or shelf order. What is left in stock is not in it:
    the page reads that on each request. A sale read for its page (sale_for_member) brings the stamp along."""
    stamp = getattr(sale, "catalogue_stamp", None)
    if stamp is None:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {_catalogue_stamp_columns()}")  # noqa: S608 - the models' tables
            stamp = _catalogue_stamp(*cursor.fetchone())
    return f"{sale.offers_version}.{stamp}"


_SALE_SLOTS = f"""
    SELECT {rows.columns(PickupSlot, "sl")}, {rows.columns(PickupPoint, "p")}
    FROM {PickupSlot._meta.db_table} sl JOIN {PickupPoint._meta.db_table} p ON p.id = sl.point_id
    WHERE sl.distribution_id = %s AND p.is_active
    ORDER BY p.name, sl.starts_at, sl.id
"""  # noqa: S608 - the models' tables


def sale_slots(*, sale: Sale) -> list[PickupSlot]:
    """The slots of the sale's distribution at active points, by point then start, each with its point (one
    instance per point, not per slot): one plain statement, read by every checkout page."""
    points: dict[int, PickupPoint] = {}
    slots = []
    width = rows.width(PickupSlot)
    with connection.cursor() as cursor:
        cursor.execute(_SALE_SLOTS, [sale.distribution_id])
        for row in cursor.fetchall():
            slot = rows.instance(PickupSlot, row)
            point = points.get(slot.point_id)  # type: ignore[union-attr]
            if point is None:
                point = points[slot.point_id] = rows.instance(PickupPoint, row[width:])  # type: ignore[union-attr, assignment]
            slot.point = point  # type: ignore[union-attr]
            slots.append(slot)
    return slots  # type: ignore[return-value]


def _orders_with_lines() -> QuerySet[Order]:
    return Order.objects.select_related("sale", "booking__slot__point", "price_tier").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("offer__producer"))
    )


def order_detail(*, order_id: int) -> Order:
    return _orders_with_lines().select_related("user").get(pk=order_id)


def orders_of_user(*, user) -> QuerySet[Order]:
    return (
        Order.objects.filter(user=user)
        .select_related("sale", "booking__slot__point")
        # What `money_line` reads for each order (orders.payments.balance): no query per order.
        .prefetch_related(
            "lines",
            "ledger_entries",
            Prefetch("payments", queryset=Payment.objects.prefetch_related("refunds")),
        )
        .order_by("-created_at")
    )


def sale_for_members(*, sale_id: int) -> Sale | None:
    """A published sale, whatever its status (members may look at a closed or coming sale)."""
    return Sale.objects.filter(pk=sale_id, is_published=True).select_related("distribution").first()


# The member's order in the sale and whether they wait for one of its products or slots (params: user, placed,
# open).
_MEMBER_FACTS = f"""
    (SELECT o.id FROM {Order._meta.db_table} o
     WHERE o.sale_id = s.id AND o.user_id = %(user)s AND o.status = %(placed)s LIMIT 1) AS member_order_id,
    EXISTS (
        SELECT 1 FROM {OfferWait._meta.db_table} w
        WHERE w.sale_id = s.id AND w.user_id = %(user)s AND w.status = ANY(%(open)s)
    ) AS member_offer_waits,
    EXISTS (
        SELECT 1 FROM {SlotWait._meta.db_table} sw
        WHERE sw.sale_id = s.id AND sw.user_id = %(user)s AND sw.status = ANY(%(open)s)
    ) AS member_slot_waits
"""  # noqa: S608 - the models' tables


def _sale_for_member_sql(*, page: bool, shop: bool) -> str:
    """The sale for a signed-in account, with their membership of the collective; `page`: with what the
    sale page shows besides, `shop`: with the collective's shop settings (see sale_for_member)."""
    shown = (
        f"""{_catalogue_stamp_columns()},
    {distribution_hours_column("s.distribution_id")} AS pickup_slots,"""
        if page
        else ""
    )
    tier_columns = f"{rows.columns(PriceTier, 'tier', prefix='tier_')}," if page or shop else ""
    tier = (
        f"""LEFT JOIN LATERAL (
        SELECT {rows.columns(PriceTier, "t")}
        FROM {MemberTier._meta.db_table} mt JOIN {PriceTier._meta.db_table} t ON t.id = mt.tier_id
        WHERE mt.user_id = %(user)s AND t.is_active LIMIT 1
    ) tier ON true"""  # noqa: S608 - the models' tables
        if page or shop
        else ""
    )
    settings = f"{rows.columns(ShopSettings, 'ss', prefix='shop_')}," if shop else ""
    settings_join = f"LEFT JOIN {ShopSettings._meta.db_table} ss ON ss.id = 1" if shop else ""
    return f"""
    SELECT {SALE_COLUMNS}, {_MEMBER_FACTS},
    {shown}
    {tier_columns}
    {settings}
    {rows.columns(Membership, "m", prefix="membership_")}
    FROM {Sale._meta.db_table} s
    {tier}
    {settings_join}
    LEFT JOIN {Membership._meta.db_table} m ON m.user_id = %(user)s AND m.collective_id = %(collective)s
    WHERE s.id = %(sale)s AND s.is_published
"""  # noqa: S608 - the models' tables


_SALE_FOR_MEMBER = {
    (page, shop): _sale_for_member_sql(page=page, shop=shop)
    for page in (True, False)
    for shop in (True, False)
}


def sale_for_member(*, sale_id: int, user, collective_id: int, page: bool, shop: bool = False) -> Sale | None:
    """A published sale (whatever its status) for a signed-in account, in one plain statement (read by every
    sale page, cart and checkout: not built by the ORM each time), with `member_order_id` (their order placed
    in it, if any), `member_offer_waits` and `member_slot_waits` (whether they are on one of its products' or
    slots' waiting lists) and
    `membership` (their membership of the collective, as marketplace.selectors.membership_for_request reads
    it, or None). For its page (`page`: the page is what members open most), with what the page shows
    besides: `catalogue_stamp` (offer_list_version), `pickup_slots` (orders.sales.selectors.with_pickup_hours)
    and `member_tier`, the member's active price tier or None (member_pricing). `shop` (the checkout): with
    `member_tier` too, and the collective's shop settings, which ShopSettings.current() then answers for the
    rest of the request."""
    params = {
        "user": user.pk,
        "collective": collective_id,
        "placed": Order.Status.PLACED,
        "sale": sale_id,
        "open": list(OfferWait.OPEN),
    }
    with connection.cursor() as cursor:
        cursor.execute(_SALE_FOR_MEMBER[page, shop], params)
        row = cursor.fetchone()
    if row is None:
        return None
    sale = rows.instance(Sale, row)
    facts = row[rows.width(Sale) : rows.width(Sale) + 3]
    sale.member_order_id, sale.member_offer_waits, sale.member_slot_waits = facts
    rest = row[rows.width(Sale) + 3 :]
    if page:
        products, producers, categories, sale.pickup_slots = rest[:4]
        sale.catalogue_stamp = _catalogue_stamp(products, producers, categories)
        rest = rest[4:]
    if page or shop:
        sale.member_tier = rows.instance(PriceTier, rest)
        rest = rest[rows.width(PriceTier) :]
    if shop:
        ShopSettings.read_with_request(rows.instance(ShopSettings, rest))
        rest = rest[rows.width(ShopSettings) :]
    sale.membership = rows.instance(Membership, rest)
    return sale


def order_of_member(*, sale: Sale, user) -> Order | None:
    return (
        Order.objects.filter(sale=sale, user=user, status=Order.Status.PLACED)
        .select_related("booking")
        .first()
    )


def order_of_user(*, order_id: int, user) -> Order | None:
    return _orders_with_lines().filter(pk=order_id, user=user).first()


def order_quantities(*, order: Order) -> dict[int, int]:
    return dict(order.lines.values_list("offer_id", "quantity"))


@dataclass(frozen=True)
class ProducerGroup:
    producer: object
    offers: list


def offers_by_producer(offers: Iterable[Offer]) -> list[ProducerGroup]:
    """The offers grouped by producer, in their order."""
    groups: dict[int, ProducerGroup] = {}
    for offer in offers:
        group = groups.setdefault(offer.producer_id, ProducerGroup(producer=offer.producer, offers=[]))
        group.offers.append(offer)
    return list(groups.values())


@dataclass(frozen=True)
class BasketTotal:
    amount: Decimal
    items: int
    is_estimate: bool  # weighed goods in the basket: the amount follows the weighing


def basket_total(*, offers: Iterable[Offer], quantities: dict[int, int]) -> BasketTotal:
    """The running total of the sale page, from offers already loaded (no query): each line rounded once,
    as the order will be; weighed goods at their estimated price."""
    lines = [(offer, quantities[offer.pk]) for offer in offers if quantities.get(offer.pk)]
    return BasketTotal(
        amount=sum((offer.amount_for(quantity) for offer, quantity in lines), Decimal("0")),
        items=sum(quantity for _offer, quantity in lines),
        is_estimate=any(offer.is_variable_weight for offer, _quantity in lines),
    )


@dataclass(frozen=True)
class CartLine:
    offer: Offer
    quantity: int
    amount: Decimal


@dataclass(frozen=True)
class CartSummary:
    lines: list[CartLine]
    total: Decimal
    has_variable_weight: bool
    vat: list[VatRow]


def cart_offers(*, sale: Sale, quantities: dict[int, int]) -> list[Offer]:
    """The cart's offers, in the sale page's order, with their producer (all the checkout shows of them):
    read once by the checkout page, for its fund pre-check (basket_discount) and its summary."""
    return list(
        Offer.objects.filter(sale=sale, pk__in=list(quantities))
        .select_related("producer")
        .order_by("producer__name", "product__category__position", "name")
    )


def offer_names(*, sale: Sale, offer_ids) -> dict[int, str]:
    """The names of the sale's offers of `offer_ids` (what the member is told when one went meanwhile)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, name FROM {Offer._meta.db_table} WHERE sale_id = %s AND id = ANY(%s::bigint[])",  # noqa: S608
            [sale.pk, [int(offer_id) for offer_id in offer_ids]],
        )
        return dict(cursor.fetchall())


def cart_summary(
    *, offers: list[Offer], quantities: dict[int, int], percent: Decimal | None = None
) -> CartSummary:
    """The cart (its offers: cart_offers) as the member will pay it: amounts from the sale's frozen prices at
    the member's tier (`percent`, orders.pricing), rounded once per line."""
    offers = pricing.offers_priced(offers, percent)
    lines = [
        CartLine(offer=offer, quantity=quantities[offer.pk], amount=offer.amount_for(quantities[offer.pk]))
        for offer in offers
    ]
    pseudo_lines = [OrderLine(vat_rate=line.offer.vat_rate, amount=line.amount) for line in lines]
    return CartSummary(
        lines=lines,
        total=sum((line.amount for line in lines), Decimal("0")),
        has_variable_weight=any(line.offer.is_variable_weight for line in lines),
        vat=vat_breakdown(pseudo_lines),
    )


@dataclass(frozen=True)
class PointSlots:
    point: object
    slots: list

    def may_wait(self, booked_slot_id: int | None) -> bool:
        """Whether the member may join the point's list for its first freed place: every open slot is full,
        none is theirs, and they are not on every list yet (each slot read with `my_wait`)."""
        open_slots = [slot for slot in self.slots if slot.is_open]
        return (
            bool(open_slots)
            and not any(slot.is_bookable for slot in open_slots)
            and all(slot.pk != booked_slot_id for slot in self.slots)
            and any(getattr(slot, "my_wait", None) is None for slot in open_slots)
        )


def slots_by_point(slots) -> list[PointSlots]:
    groups: dict[int, PointSlots] = {}
    for slot in slots:
        groups.setdefault(slot.point_id, PointSlots(point=slot.point, slots=[])).slots.append(slot)
    return list(groups.values())


def member_preferences(*, user) -> MemberPreferences:
    """A member's preferences in the current collective; the defaults (unsaved) if never changed."""
    return MemberPreferences.objects.filter(user=user).first() or MemberPreferences(user=user)


@dataclass(frozen=True)
class MemberPricing:
    """Which prices a member sees now: their tier's, or the base prices when the solidarity fund cannot
    cover their discount (said on the page before they order)."""

    tier: PriceTier | None
    percent: Decimal  # what the prices shown are moved by (0: the base prices)
    fund_left: Decimal | None = None  # the fund's balance, for a tier with a discount
    fund_short: bool = False  # the tier has a discount the fund does not cover: base prices

    @property
    def variant(self) -> str:
        """The name of this price list for caches of the sale page (orders.pricing.pricing_variant)."""
        return pricing.pricing_variant(self.percent)

    @property
    def seen(self) -> str:
        return "tier" if self.percent else "base"


_UNREAD = object()


def member_pricing(*, user, discount: Decimal | None = None, tier=_UNREAD) -> MemberPricing:
    """The member's prices (one read of their tier, unless `tier` was read with the sale: sale_for_member;
    the fund's balance only for a tier with a discount). `discount`: what the basket's discount comes to,
    on the checkout page; the fund must cover all of it."""
    if tier is _UNREAD:
        tier = pricing.member_tier(user=user)
    if tier is None or not tier.percent:
        return MemberPricing(tier=tier, percent=Decimal("0"))
    if not tier.has_discount:
        return MemberPricing(tier=tier, percent=tier.percent)
    left = fund.fund_balance()
    short = left <= 0 if discount is None else discount > left
    return MemberPricing(
        tier=tier, percent=Decimal("0") if short else tier.percent, fund_left=left, fund_short=short
    )


def basket_discount(*, offers: list[Offer], quantities: dict[int, int], percent: Decimal) -> Decimal:
    """What the tier takes off the basket (its offers: cart_offers) at the base prices (the checkout's
    pre-check of the fund)."""
    base = cart_summary(offers=offers, quantities=quantities)
    priced = cart_summary(offers=offers, quantities=quantities, percent=percent)
    return base.total - priced.total
