"""`{{ order|money_line }}`: what « Mes commandes » says about an order's money (orders.payments.wording);
the order's payments should be prefetched with their refunds."""

from __future__ import annotations

from django import template

from orders.models import Order
from orders.payments.balance import order_balance
from orders.payments.wording import money_line as _money_line

register = template.Library()


@register.filter
def money_line(order: Order) -> str:
    return _money_line(order, order_balance(order))
