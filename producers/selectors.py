"""Reads of the producers app for views and templates (inside the collective's schema)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from itertools import groupby

from django.db import connection
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import get_language

from marketplace.models import (
    Collective,
    Invitation,
    Membership,
    Role,
    SharedProduct,
    User,
    search_normalize,
)
from marketplace.money import money
from producers import weighing
from producers.models import LOW_STOCK, Category, Producer, ProducerAccount, Product, estimated_price

# --------------------------------------------------------------------------------------- back office


def producers_managed_by(*, user: User, membership: Membership | None) -> QuerySet[Producer]:
    """Coordinators manage every producer of the collective; a producer only those they are linked to."""
    if membership is None or not membership.is_active:
        return Producer.objects.none()
    if membership.has_role(Role.COORDINATOR):
        return Producer.objects.all()
    if membership.has_role(Role.PRODUCER):
        return Producer.objects.filter(account_links__user=user)
    return Producer.objects.none()


def products_managed_by(*, user: User, membership: Membership | None) -> QuerySet[Product]:
    producers = producers_managed_by(user=user, membership=membership)
    return Product.objects.filter(producer__in=producers.values("pk")).select_related("producer", "category")


def producers_overview(*, user: User, membership: Membership | None) -> QuerySet[Producer]:
    """The producers someone manages, with their product counts and accounts (one query each)."""
    links = ProducerAccount.objects.select_related("user").order_by("user__last_name", "user__email")
    return (
        producers_managed_by(user=user, membership=membership)
        .annotate(
            product_count=Count("products", distinct=True),
            active_product_count=Count("products", filter=Q(products__is_active=True), distinct=True),
        )
        .prefetch_related(Prefetch("account_links", queryset=links))
        .order_by("name")
    )


def producer_products(*, producer: Producer) -> QuerySet[Product]:
    return producer.products.select_related("category", "shared_product").order_by("name", "pk")


def producer_account_links(*, producer: Producer) -> QuerySet[ProducerAccount]:
    return producer.account_links.select_related("user").order_by("user__last_name", "user__email")


def producer_pending_invitations(*, collective: Collective, producer: Producer) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        collective=collective,
        role=Role.PRODUCER,
        scope__producer=producer.pk,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).order_by("-created_at")


def categories_with_counts() -> QuerySet[Category]:
    return Category.objects.annotate(product_count=Count("products")).order_by("position", "name")


# ---------------------------------------------------------------------------------------------- shop


@dataclass(frozen=True)
class ShopItem:
    """One line of the shop: what a member may put in a basket, at which price, and how many are left.

    Until sales exist, items are the active catalogue of the active producers with its stock; the ordering
    issue builds the same items from a sale's offers (price and remaining quantity of that sale).
    """

    product: Product
    price: Decimal
    remaining: int | None  # None: unlimited

    @property
    def producer(self) -> Producer:
        return self.product.producer

    @property
    def unit_label(self) -> str:
        """The unit's words (« kg », « botte »): from a table made once per language, not the choice's
        display, which hashes every lazily translated choice each time (much of a large shop's rendering)."""
        return unit_labels(get_language()).get(self.product.unit, self.product.unit)

    @property
    def category(self) -> Category | None:
        return self.product.category

    @property
    def estimated_price(self) -> Decimal | None:
        if not self.product.is_variable_weight or not self.product.estimated_weight_kg:
            return None
        return estimated_price(price_per_kg=self.price, weight_kg=self.product.estimated_weight_kg)

    def pieces_text(self, quantity: int | None = None) -> str:
        pieces = quantity or 1
        return weighing.pieces_text(
            pieces=pieces,
            piece_kg=self.product.estimated_weight_kg,
            amount=money((self.estimated_price or Decimal(0)) * pieces),
        )

    @property
    def is_sold_out(self) -> bool:
        return self.remaining == 0

    @property
    def is_low_stock(self) -> bool:
        return self.remaining is not None and 0 < self.remaining <= LOW_STOCK


@cache
def unit_labels(language: str | None) -> dict[str, str]:
    """Product units and their words in `language` (the active one, which the caller names)."""
    return {value: str(label) for value, label in Product._meta.get_field("unit").flatchoices}


@dataclass
class CategorySection:
    category: Category | None
    items: list[ShopItem] = field(default_factory=list)


@dataclass
class ProducerSection:
    producer: Producer
    categories: list[CategorySection] = field(default_factory=list)


def _shop_products(*, category_id: int | None, producer_id: int | None, query: str) -> QuerySet[Product]:
    products = Product.objects.filter(is_active=True, producer__is_active=True).select_related(
        "producer", "category", "shared_product", "lab_request__decision__session"
    )
    if category_id:
        products = products.filter(category_id=category_id)
    if producer_id:
        products = products.filter(producer_id=producer_id)
    for word in search_normalize(query).split()[:8]:
        products = products.filter(
            Q(search_text__contains=f" {word}") | Q(producer__search_text__contains=f" {word}")
        )
    return products.order_by(
        "producer__name",
        "producer_id",
        F("category__position").asc(nulls_last=True),
        "category__name",
        "name",
        "pk",
    )


def shop_items(
    *, category_id: int | None = None, producer_id: int | None = None, query: str = ""
) -> list[ShopItem]:
    """The items of the shop, filtered, in one query whatever their number."""
    return [
        ShopItem(product=product, price=product.price, remaining=product.stock_left)
        for product in _shop_products(category_id=category_id, producer_id=producer_id, query=query)
    ]


def shop_sections(items: list[ShopItem]) -> list[ProducerSection]:
    """Items grouped by producer, then by category (they come sorted that way)."""
    sections = []
    for _producer_id, producer_items in groupby(items, key=lambda item: item.producer.pk):
        producer_items = list(producer_items)
        section = ProducerSection(producer=producer_items[0].producer)
        for _category_id, category_items in groupby(
            producer_items, key=lambda item: item.product.category_id
        ):
            category_items = list(category_items)
            section.categories.append(
                CategorySection(category=category_items[0].category, items=category_items)
            )
        sections.append(section)
    return sections


def shop_version() -> str:
    """A stamp of everything the shop shows (producers.shop_list), in one cheap query: the products (a
    sum, not a max: a product saved early but committed last still changes it), the producers' and shelves'
    shown columns (a few dozen rows), and the central stock of the shared products listed here."""
    product, producer, category = Product._meta.db_table, Producer._meta.db_table, Category._meta.db_table
    shared = SharedProduct._meta.db_table
    sql = (
        "SELECT (SELECT count(*) || '.' || coalesce(sum(extract(epoch FROM updated_at)), 0) "  # noqa: S608
        f"FROM {product}), "
        "(SELECT md5(string_agg(concat_ws('|', id, name, town, labels, is_active, thumbnail), ',' "
        f"ORDER BY id)) FROM {producer}), "
        f"(SELECT md5(string_agg(concat_ws('|', id, name, position), ',' ORDER BY id)) FROM {category}), "
        f"(SELECT md5(string_agg(concat_ws('|', id, stock, reserved), ',' ORDER BY id)) FROM {shared} "
        f"WHERE id IN (SELECT shared_product_id FROM {product}))"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        stamp = "|".join(str(part) for part in cursor.fetchone())
    return hashlib.md5(stamp.encode(), usedforsecurity=False).hexdigest()[:20]


def shop_categories() -> QuerySet[Category]:
    """Categories that have something in the shop, for the filter."""
    return (
        Category.objects.filter(products__is_active=True, products__producer__is_active=True)
        .distinct()
        .order_by("position", "name")
    )


def shop_producers() -> QuerySet[Producer]:
    return Producer.objects.filter(is_active=True).order_by("name")


def shop_producer(*, producer_id: int) -> Producer | None:
    return Producer.objects.filter(is_active=True, pk=producer_id).first()
