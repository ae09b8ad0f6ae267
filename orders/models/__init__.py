"""The ordering app's models, one module per room; `from orders.models import X` works for all of them.

payments (payment methods, payments, refunds) ← sales (shop settings, schedules, sales, offers)
← orders (orders, lines, history, member preferences); sheets ← sales; ledger (entries, member
accounts) ← orders, payments;
statements (producers' statements, bank accounts, SEPA transfers) ← sales; solidarity (price tiers,
members' tiers, the solidarity fund's balance). All keep app label `orders`.
"""

from orders.models.ledger import LedgerEntry, MemberAccount
from orders.models.orders import MAX_LINE_QUANTITY, MemberPreferences, Order, OrderEvent, OrderLine
from orders.models.payments import ON_SITE_METHODS, Payment, PaymentMethod, PaymentStatus, Refund
from orders.models.sales import Offer, RecurringSchedule, Sale, ShopSettings
from orders.models.sheets import Sheet, sheet_path, sheet_path_for
from orders.models.solidarity import MemberTier, PriceTier, SolidarityFund
from orders.models.statements import (
    MonthlyStatement,
    ProducerBankAccount,
    Statement,
    StatementLine,
    StatementRun,
    Transfer,
)

__all__ = [
    "MAX_LINE_QUANTITY",
    "LedgerEntry",
    "MemberAccount",
    "ON_SITE_METHODS",
    "MemberPreferences",
    "MemberTier",
    "MonthlyStatement",
    "Offer",
    "Order",
    "OrderEvent",
    "OrderLine",
    "Payment",
    "PaymentMethod",
    "PaymentStatus",
    "PriceTier",
    "ProducerBankAccount",
    "RecurringSchedule",
    "Refund",
    "Sale",
    "Sheet",
    "ShopSettings",
    "SolidarityFund",
    "Statement",
    "StatementLine",
    "StatementRun",
    "Transfer",
    "sheet_path",
    "sheet_path_for",
]
