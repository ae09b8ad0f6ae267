"""What an order costs and what was paid: pure reads, no write and no Stripe call (amounts, balance, a
sale's payments report)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Prefetch, Q
from django.utils import timezone

from marketplace.money import money
from orders.ledger.selectors import order_ledger
from orders.models import (
    Order,
    Payment,
    PaymentMethod,
    Sale,
    ShopSettings,
)


@dataclass(frozen=True)
class Amounts:
    estimate: Decimal  # the order's total with estimated weights
    cap: Decimal  # the most the member can be charged: weighed lines + the collective's margin
    has_weighed_goods: bool


def order_amounts(order: Order, margin_percent: int | None = None) -> Amounts:
    if margin_percent is None:
        margin_percent = ShopSettings.current().weight_margin_percent
    return amounts_of([(line.amount, line.is_variable_weight) for line in order.lines.all()], margin_percent)


def amounts_of(lines: list[tuple[Decimal, bool]], margin_percent: int) -> Amounts:
    """From (amount, is weighed) pairs: an order's lines, or a cart not ordered yet."""
    fixed = sum((amount for amount, weighed in lines if not weighed), Decimal("0"))
    weighed = sum((amount for amount, weighed in lines if weighed), Decimal("0"))
    cap = fixed + money(weighed * (100 + margin_percent) / 100)
    return Amounts(estimate=fixed + weighed, cap=cap, has_weighed_goods=weighed > 0)


def capture_method_for(order: Order, now: datetime | None = None) -> str:
    """Manual capture (authorise now, capture the weighed amount) when the distribution ends while the
    authorisation is still valid; automatic otherwise and whenever nothing is weighed."""
    return capture_method_of(order.sale, order_amounts(order).has_weighed_goods, now)


def capture_method_of(sale: Sale, has_weighed_goods: bool, now: datetime | None = None) -> str:
    now = now or timezone.now()
    if not has_weighed_goods:
        return "automatic"
    valid_until = now + timedelta(days=settings.STRIPE_AUTHORIZATION_DAYS)
    return "manual" if sale.distribution_ends_at <= valid_until else "automatic"


@dataclass(frozen=True)
class Balance:
    received: Decimal
    refunded: Decimal
    authorized: Decimal
    due: Decimal  # what the order costs, less goodwill adjustments
    goodwill: Decimal = Decimal("0")
    credit: Decimal = Decimal("0")  # paid with the member's credit (« avoir »), less credit kept from it

    @property
    def net(self) -> Decimal:
        return self.received - self.refunded + self.credit

    @property
    def remaining(self) -> Decimal:
        """Still to pay (on site, or by card when nothing is authorised)."""
        return max(self.due - self.net - self.authorized, Decimal("0"))

    @property
    def excess(self) -> Decimal:
        return max(self.net - self.due, Decimal("0"))


def order_balance(order: Order) -> Balance:
    payments = list(order.payments.all())
    received = sum((p.amount for p in payments if p.status == Payment.Status.SUCCEEDED), Decimal("0"))
    refunded = sum((p.refunded for p in payments), Decimal("0"))
    authorized = sum(
        (p.amount_authorized for p in payments if p.status == Payment.Status.AUTHORIZED), Decimal("0")
    )
    extra = order_ledger(order)
    due = (
        max(order.final_total - extra.goodwill - extra.fund_short, Decimal("0"))
        if order.is_placed
        else Decimal("0")
    )
    return Balance(
        received=received,
        refunded=refunded,
        authorized=authorized,
        due=due,
        goodwill=extra.goodwill if order.is_placed else Decimal("0"),
        credit=extra.credit,
    )


@dataclass
class OrderMoneyRow:
    order: Order
    balance: Balance
    by_method: dict[str, Decimal]


@dataclass
class SalePaymentsReport:
    rows: list[OrderMoneyRow]
    per_method: list[tuple[str, Decimal, Decimal]]  # (label, received, refunded)
    due: Decimal
    received: Decimal
    refunded: Decimal
    authorized: Decimal
    remaining: Decimal
    goodwill: Decimal = Decimal("0")


def sale_payments_report(*, sale: Sale) -> SalePaymentsReport:
    """Per order and per payment method: what was paid, refunded, authorised and is still due. Orders that
    were cancelled appear while money is attached to them (to be refunded, or refunded)."""
    orders = list(
        Order.objects.filter(sale=sale)
        .filter(Q(status=Order.Status.PLACED) | Q(payments__isnull=False))
        .distinct()
        .select_related("user")
        .prefetch_related(
            "lines",
            "ledger_entries",
            Prefetch("payments", queryset=Payment.objects.prefetch_related("refunds")),
        )
        .order_by("basket_number", "pk")
    )
    received_by: dict[str, Decimal] = defaultdict(Decimal)
    refunded_by: dict[str, Decimal] = defaultdict(Decimal)
    rows = []
    for order in orders:
        by_method: dict[str, Decimal] = defaultdict(Decimal)
        for payment in order.payments.all():
            if payment.status == Payment.Status.SUCCEEDED:
                by_method[payment.method] += payment.amount
                received_by[payment.method] += payment.amount
            refunded_by[payment.method] += payment.refunded
        rows.append(OrderMoneyRow(order=order, balance=order_balance(order), by_method=dict(by_method)))
    labels = dict(PaymentMethod.choices)
    per_method = [
        (str(labels[method]), received_by[method], refunded_by[method])
        for method in PaymentMethod.values
        if received_by[method] or refunded_by[method]
    ]
    return SalePaymentsReport(
        rows=rows,
        per_method=per_method,
        due=sum((row.balance.due for row in rows), Decimal("0")),
        received=sum((row.balance.received for row in rows), Decimal("0")),
        refunded=sum((row.balance.refunded for row in rows), Decimal("0")),
        authorized=sum((row.balance.authorized for row in rows), Decimal("0")),
        remaining=sum((row.balance.remaining for row in rows), Decimal("0")),
        goodwill=sum((row.balance.goodwill for row in rows), Decimal("0")),
    )
