"""The central stock of a producer account's shared products, shared by every collective it sells in.

available = stock − reserved, where `reserved` is what is ordered and not yet delivered in every collective.
Checkout (orders.checkout.services) moves `reserved` inside its own transaction, after the collective's offer
counters: the collective's schema and this public row live in one database, so one transaction covers both
and a refused or rolled-back order leaves no reservation behind. Two statements per order that holds shared
products (the rows locked in ascending pk order, then one UPDATE), none for the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.db.models.functions import Greatest

from marketplace import locks
from marketplace.models import SharedProduct


@dataclass(frozen=True)
class CentralStockShort(Exception):
    """A shared product has less left than wanted (in every collective together)."""

    shared_product_id: int
    available: int


def _by_id(deltas: Mapping[int, int]) -> Case:
    return Case(
        *[When(pk=shared_id, then=Value(delta)) for shared_id, delta in deltas.items()],
        default=Value(0),
        output_field=IntegerField(),
    )


def central_stock_move(*, deltas: Mapping[int, int]) -> None:
    """Reserve (positive) or give back (negative) quantities of shared products, all or nothing; raises
    CentralStockShort for the first one without enough left. Runs inside the caller's transaction (the
    order's), so that its rollback gives the reservation back."""
    deltas = {shared_id: delta for shared_id, delta in deltas.items() if delta}
    if not deltas:
        return
    if not connection.in_atomic_block:
        raise RuntimeError("the central stock moves inside the order's transaction")
    rows = locks.shared_products_lock(deltas)
    for shared_id in sorted(deltas):
        row, delta = rows[shared_id], deltas[shared_id]
        if delta > 0 and row.stock is not None and row.stock - row.reserved < delta:
            raise CentralStockShort(shared_product_id=shared_id, available=max(row.stock - row.reserved, 0))
        if delta < 0 and row.reserved < -delta:
            raise RuntimeError(f"shared product {shared_id}: reserved counter out of step")
    SharedProduct.objects.filter(pk__in=list(deltas)).update(reserved=F("reserved") + _by_id(deltas))


def central_stock_deliver(*, quantities: Mapping[int, int]) -> None:
    """A distribution handed these quantities over: they leave the stock and the reservations together.
    Runs inside the caller's transaction (the closing job's, which marks the sale delivered)."""
    quantities = {shared_id: quantity for shared_id, quantity in quantities.items() if quantity > 0}
    if not quantities:
        return
    rows = locks.shared_products_lock(quantities)
    for shared_id, quantity in quantities.items():
        if rows[shared_id].reserved < quantity:
            raise RuntimeError(f"shared product {shared_id}: reserved counter out of step")
    by_id = _by_id(quantities)
    SharedProduct.objects.filter(pk__in=list(quantities)).update(
        reserved=F("reserved") - by_id,
        stock=Case(When(stock__isnull=True, then=None), default=F("stock") - by_id),
    )


def central_stock_join(*, shared_product_id: int, reserved: int) -> None:
    """A collective's product joins a shared one with `reserved` already on order there: that joins the
    reservations, and the stock is at least as much (what was sold was there). Inside the caller's
    transaction."""
    if reserved <= 0:
        return
    locks.shared_products_lock([shared_product_id])
    SharedProduct.objects.filter(pk=shared_product_id).update(
        reserved=F("reserved") + reserved,
        stock=Case(
            When(stock__isnull=True, then=None), default=Greatest(F("stock"), F("reserved") + reserved)
        ),
    )


class CentralStockRefused(Exception):
    """The producer asked for less stock than is already ordered; the message says so, in French."""

    def __init__(self, reserved: int):
        super().__init__(reserved)
        self.reserved = reserved


@transaction.atomic
def central_stock_set(*, shared_product_id: int, stock: int | None) -> SharedProduct:
    """The producer counts their stock again. It cannot go below what collectives already ordered."""
    row = locks.shared_products_lock([shared_product_id])[shared_product_id]
    if stock is not None and stock < row.reserved:
        raise CentralStockRefused(row.reserved)
    SharedProduct.objects.filter(pk=shared_product_id).update(stock=stock)
    return SharedProduct.objects.get(pk=shared_product_id)
