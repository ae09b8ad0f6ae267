"""The only place that takes row locks for ordering, always in this order:

    sale → offers (ascending pk) → slots (ascending pk, pickup_points.locks) → order

Placing, changing or cancelling an order holds the sale FOR SHARE, so orders of one sale go through side by
side while the closing job (which takes the sale FOR UPDATE) waits for them, and they wait for it. Offer rows
are locked by their conditional UPDATEs, issued in ascending pk order. An order row is locked last, to check
that nobody changed it since it was read (a double submit): see services.order_update.
"""

from __future__ import annotations

from orders.models import Order, Sale


def sale_share(sale_id: int) -> Sale | None:
    query = f"SELECT * FROM {Sale._meta.db_table} WHERE id = %s FOR SHARE"  # noqa: S608 - the model's table
    return next(iter(Sale.objects.raw(query, [sale_id])), None)


def sale_lock(sale_id: int) -> Sale:
    return Sale.objects.select_for_update(of=("self",)).get(pk=sale_id)


def order_lock(order_id: int) -> Order:
    return Order.objects.select_for_update(of=("self",)).get(pk=order_id)
