"""TODO."""

from __future__ import annotations

from orders.models import (
    Order,
    OrderEvent,
)

# Orders -----------------------------------------------------------------------------------------------------


def order_event(*, order: Order, kind: OrderEvent.Kind, note: str = "") -> OrderEvent:
    """A history row for a change that is not a change of status (those go through Order.transition)."""
    if kind in {OrderEvent.Kind.CANCELLED, OrderEvent.Kind.RELEASED}:
        raise ValueError("a change of status goes through Order.transition")
    return OrderEvent.objects.create(order=order, kind=kind, note=note[:300])
