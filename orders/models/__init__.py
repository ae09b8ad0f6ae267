"""The ordering app's models, one module per room; `from orders.models import X` works for all of them.

payments (payment methods, payments, refunds) ← sales (shop settings, schedules, sales, offers)
← orders (orders, lines, history, member preferences); sheets ← sales; ledger (entries, member
accounts) ← orders, payments;
statements (producers' statements, bank accounts, SEPA transfers) ← sales; connect (Connect accounts
and transfers, card top-ups, Stripe's balance copy) ← statements, payments; cashbox (cash boxes and
their counts, food-voucher issuers) ← pickup_points; solidarity (price tiers, members' tiers, the
solidarity fund's balance). All keep app label `orders`.
"""

from orders.models.cashbox import CashBox, CashCount, VoucherIssuer
from orders.models.connect import (
    CardTopUp,
    ProducerStripeAccount,
    StripeBalanceLine,
    StripeReversal,
    StripeSync,
    StripeTransfer,
)
from orders.models.ledger import LedgerEntry, MemberAccount
from orders.models.orders import MAX_LINE_QUANTITY, MemberPreferences, Order, OrderEvent, OrderLine
from orders.models.payments import ON_SITE_METHODS, Payment, PaymentMethod, PaymentStatus, Refund
from orders.models.sales import Offer, RecurringSchedule, Sale, ShopSettings
from orders.models.sheets import Sheet, SheetBuild, SheetPart, sheet_part_path, sheet_path, sheet_path_for
from orders.models.solidarity import MemberTier, PriceTier, SolidarityFund
from orders.models.statements import (
    MonthlyStatement,
    ProducerBankAccount,
    Statement,
    StatementLine,
    StatementRun,
    Transfer,
)
from orders.models.waiting import OfferWait, SlotWait

__all__ = [
    "CardTopUp",
    "ProducerStripeAccount",
    "StripeBalanceLine",
    "StripeReversal",
    "StripeSync",
    "StripeTransfer",
    "CashBox",
    "CashCount",
    "VoucherIssuer",
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
    "SheetBuild",
    "SheetPart",
    "ShopSettings",
    "OfferWait",
    "SlotWait",
    "SolidarityFund",
    "Statement",
    "StatementLine",
    "StatementRun",
    "Transfer",
    "sheet_part_path",
    "sheet_path",
    "sheet_path_for",
]
