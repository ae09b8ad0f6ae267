"""An order's history rows for changes that are not a change of status (Order.transition writes those).

Below checkout and payments, which both write history, so that neither imports the other for it."""

from __future__ import annotations

from marketplace import inserts
from orders.models import (
    Order,
    OrderEvent,
)

# Orders -----------------------------------------------------------------------------------------------------


def order_event(*, order: Order, kind: OrderEvent.Kind, note: str = "") -> OrderEvent:
    """A history row for a change that is not a change of status (those go through Order.transition)."""
    if kind in {OrderEvent.Kind.CANCELLED, OrderEvent.Kind.RELEASED}:
        raise ValueError("a change of status goes through Order.transition")
    event = OrderEvent(order=order, kind=kind, note=note[:300])
    inserts.insert(event)  # with the order's other rows, in the checkout (marketplace.inserts)
    return event
