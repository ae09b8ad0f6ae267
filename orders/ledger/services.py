"""Writes of the ledger. Two sorts of entries:

- **Projections** of what the payment services already record (an order's due, each payment received,
  each refund): `ledger_order_sync` writes, under the order's lock, the difference between what the order,
  its payments and refunds say and what their entries add up to. Called by payments.order_payment_refresh
  after every change of an order's money, so a webhook delivered twice, or a retry, writes nothing more.
- **Entries of their own**, which nothing else records: a goodwill adjustment (lowers what is due, with
  its reason), credit kept from an order or spent on one, a top-up. Account entries (no order) move the
  member's running balance (MemberAccount) in the same transaction, under its lock, above its floor.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from marketplace import inserts
from marketplace.models import User
from marketplace.money import euros, money
from orders import locks
from orders.ledger import fund
from orders.models import (
    ON_SITE_METHODS,
    LedgerEntry,
    MemberAccount,
    Order,
    Payment,
    PaymentMethod,
    Refund,
    ShopSettings,
)

ZERO = Decimal("0")
MAX_TOPUP = Decimal("2000")
Kind = LedgerEntry.Kind


class PaymentRefused(Exception):
    """A money action that cannot be done; the message says why, for the person who tried."""


# Projections ------------------------------------------------------------------------------------------------


def _due_reason(order: Order, kind: str) -> str:
    reasons = {
        Kind.ORDER_DUE: _("Commande n° %(number)s"),
        Kind.ORDER_CHANGE: _("Commande n° %(number)s modifiée"),
        Kind.WEIGHING: _("Pesée, commande n° %(number)s"),
        Kind.ORDER_CANCELLED: _("Commande n° %(number)s annulée"),
    }
    return reasons[kind] % {"number": order.number}


def _payment_entry(payment: Payment) -> tuple[str, str]:
    methods = dict(PaymentMethod.choices)
    if payment.method in ON_SITE_METHODS:
        reason = str(methods[payment.method])
        if payment.issuer_id is not None:
            reason = f"{reason}, {payment.issuer.name}"
        if payment.received_on is not None:
            reason = _("%(reason)s, reçu le %(date)s") % {
                "reason": reason,
                "date": payment.received_on.strftime("%d/%m/%Y"),
            }
        if payment.note:
            reason = f"{reason} ({payment.note})"
        return Kind.ONSITE_PAYMENT, reason
    if payment.capture_method == "manual":
        return Kind.CAPTURE, _("Carte débitée après pesée")
    return Kind.CARD_PAYMENT, _("Paiement par carte")


def ledger_order_sync(
    order: Order, *, due_kind: str | None = None, by: User | None = None, new_order: bool = False
) -> list:
    """Bring the order's projected entries in line with its lines, payments and refunds (under the order
    lock). `due_kind` names why the due changed (a weighing); guessed otherwise. `new_order`: the order was
    created in this transaction, so it has no entries nor payments yet (nothing to read)."""
    due_sum = ZERO
    by_payment: dict[int, Decimal] = defaultdict(Decimal)
    by_refund: dict[int, Decimal] = defaultdict(Decimal)
    has_due = False
    goodwill = in_fund = short = ZERO
    entries = (
        []
        if new_order
        else LedgerEntry.objects.filter(order=order).only("kind", "amount", "payment_id", "refund_id")
    )
    for entry in entries:
        if entry.kind in LedgerEntry.TIER_KINDS:
            in_fund += entry.amount
        elif entry.kind == Kind.FUND_SHORT:
            short += entry.amount
        elif entry.kind == Kind.GOODWILL:
            goodwill += entry.amount
        elif entry.kind in LedgerEntry.DUE_KINDS:
            due_sum += entry.amount
            has_due = True
        elif entry.refund_id is not None:
            by_refund[entry.refund_id] += entry.amount
        elif entry.payment_id is not None:
            by_payment[entry.payment_id] += entry.amount
    written = []

    def write(**fields) -> None:
        written.append(LedgerEntry(user_id=order.user_id, order=order, created_by=by, **fields))

    target_due = -order.final_total if order.is_placed else ZERO
    if target_due != due_sum:
        if not has_due:
            kind = Kind.ORDER_DUE
        elif not order.is_placed:
            kind = Kind.ORDER_CANCELLED
        else:
            kind = due_kind or Kind.ORDER_CHANGE
        write(kind=kind, amount=target_due - due_sum, reason=_due_reason(order, kind))
    if not order.is_placed and goodwill:  # a gesture on a due that no longer exists
        write(
            kind=Kind.GOODWILL,
            amount=-goodwill,
            reason=_("Geste commercial sans objet : commande n° %(number)s annulée")
            % {"number": order.number},
        )
    payments = (
        []
        if new_order
        else Payment.objects.filter(order=order).select_related("issuer").prefetch_related("refunds")
    )
    for payment in payments:
        target = payment.amount if payment.status == Payment.Status.SUCCEEDED else ZERO
        if target != by_payment[payment.pk]:
            kind, reason = _payment_entry(payment)
            write(
                kind=kind,
                amount=target - by_payment[payment.pk],
                reason=reason[:200],
                method=payment.method,
                payment=payment,
            )
        for refund in payment.refunds.all():
            target = ZERO if refund.status == Refund.Status.FAILED else -refund.amount
            if target != by_refund[refund.pk]:
                reason = (
                    refund.reason
                    if target
                    else _("Remboursement échoué : %(reason)s") % {"reason": refund.reason}
                )
                write(
                    kind=Kind.REFUND,
                    amount=target - by_refund[refund.pk],
                    reason=reason[:200],
                    method=payment.method,
                    payment=payment,
                    refund=refund,
                )
    if written:
        inserts.insert(*written)  # with the order's other rows, in the checkout (marketplace.inserts)
    fund.fund_order_sync(order, in_fund=in_fund, short=short, by=by)
    return written


# Entries of their own ---------------------------------------------------------------------------------------


def goodwill_add(
    *, order: Order, amount: Decimal, reason: str, by: User | None, key: str | None = None
) -> LedgerEntry | None:
    """Lower what the order costs (a bruised product, a missing item), with its reason (order locked).
    With `key`, written once: a second call with the same key writes nothing and returns None."""
    if key and LedgerEntry.objects.filter(key=key).exists():
        return None
    return LedgerEntry.objects.create(
        user_id=order.user_id,
        order=order,
        kind=Kind.GOODWILL,
        amount=amount,
        reason=(_("Geste commercial : %(reason)s") % {"reason": reason})[:200],
        key=key,
        created_by=by,
    )


def _account_move(*, user_id: int, amount: Decimal, kind: str, reason: str, by: User | None, **fields):
    """Move the member's account by `amount` with its entry; refused below the collective's floor (the
    CHECK constraint on MemberAccount says so even if two moves race: the row lock serialises them)."""
    shop = ShopSettings.current()
    account = locks.account_lock(user_id)
    if amount < 0 and account.balance + amount < -shop.credit_overdraft:
        raise PaymentRefused(
            _("Avoir insuffisant : %(amount)s disponibles.")
            % {"amount": euros(max(account.balance + shop.credit_overdraft, ZERO))}
        )
    try:
        with transaction.atomic():
            MemberAccount.objects.filter(pk=account.pk).update(
                balance=F("balance") + amount, overdraft=shop.credit_overdraft
            )
    except IntegrityError as error:  # the floor, in the database
        raise PaymentRefused(_("Avoir insuffisant.")) from error
    return LedgerEntry.objects.create(
        user_id=user_id, order=None, kind=kind, amount=amount, reason=reason[:200], created_by=by, **fields
    )


def credit_keep(*, order: Order, amount: Decimal, reason: str, by: User | None) -> LedgerEntry:
    """What the collective owes on an order stays with the member as credit (order locked)."""
    LedgerEntry.objects.create(
        user_id=order.user_id,
        order=order,
        kind=Kind.CREDIT_KEPT,
        amount=-amount,
        reason=(_("Gardé en avoir : %(reason)s") % {"reason": reason})[:200],
        created_by=by,
    )
    return _account_move(
        user_id=order.user_id,
        amount=amount,
        kind=Kind.CREDIT_KEPT,
        reason=_("Avoir de la commande n° %(number)s : %(reason)s")
        % {"number": order.number, "reason": reason},
        by=by,
    )


def credit_to_order(*, order: Order, amount: Decimal, by: User | None) -> LedgerEntry:
    """Spend `amount` of the member's credit on the order (order locked, then the account)."""
    _account_move(
        user_id=order.user_id,
        amount=-amount,
        kind=Kind.CREDIT_SPENT,
        reason=_("Avoir utilisé pour la commande n° %(number)s") % {"number": order.number},
        by=by,
    )
    return LedgerEntry.objects.create(
        user_id=order.user_id,
        order=order,
        kind=Kind.CREDIT_SPENT,
        amount=amount,
        reason=_("Payé avec l'avoir"),
        created_by=by,
    )


@transaction.atomic
def topup_record(*, user_id: int, amount: Decimal, method: str, note: str, by: User) -> LedgerEntry:
    """Money paid in advance (cash, cheque, transfer, vouchers), recorded by a coordinator."""
    if not ShopSettings.current().credit_allowed:
        raise PaymentRefused(_("Ce collectif ne propose pas les versements d'avance."))
    if method not in ON_SITE_METHODS:
        raise PaymentRefused(_("Choisissez un moyen de paiement sur place."))
    if amount is None or amount <= 0 or amount > MAX_TOPUP or money(amount) != amount:
        raise PaymentRefused(_("Le montant doit être positif, en euros et centimes."))
    label = str(dict(PaymentMethod.choices)[method])
    reason = _("Versement d'avance, %(method)s") % {"method": label}
    if note.strip():
        reason = f"{reason} ({note.strip()})"
    return _account_move(user_id=user_id, amount=amount, kind=Kind.TOPUP, reason=reason, by=by, method=method)


def topup_card_credit(*, user_id: int, amount: Decimal, key: str, reason: str) -> LedgerEntry | None:
    """A card top-up that Stripe says arrived: the member's account goes up, once per key (the top-up's
    row lock is held by the caller; the key's unique constraint says it again)."""
    if LedgerEntry.objects.filter(key=key).exists():
        return None
    return _account_move(
        user_id=user_id,
        amount=amount,
        kind=Kind.TOPUP,
        reason=reason,
        by=None,
        method=PaymentMethod.CARD,
        key=key,
    )


# Gifts to the solidarity fund -------------------------------------------------------------------------------

MAX_GIFT = Decimal("2000")


def _gift_reason(kind: str) -> str:
    return _("Panier suspendu") if kind == Kind.SUSPENDED_BASKET else _("Don au fonds solidaire")


def _check_gift(amount: Decimal | None, kind: str) -> None:
    if kind not in LedgerEntry.GIFT_KINDS:
        raise PaymentRefused(_("Choisissez un don ou un panier suspendu."))
    if amount is None or amount <= 0 or amount > MAX_GIFT or money(amount) != amount:
        raise PaymentRefused(
            _("Le montant doit être positif, en euros et centimes, et %(max)s au plus.")
            % {"max": euros(MAX_GIFT)}
        )


@transaction.atomic
def fund_gift_from_credit(*, user: User, amount: Decimal, kind: str) -> LedgerEntry:
    """A member gives from their credit (« avoir »): their account goes down, the fund up (the account's
    lock, then the fund's: the lock order)."""
    if not ShopSettings.current().credit_allowed:
        raise PaymentRefused(
            _("Ce collectif ne propose pas les avoirs : donnez sur place à un coordinateur.")
        )
    _check_gift(amount, kind)
    account = locks.account_lock(user.pk)
    if account.balance < amount:  # a gift is never made on an overdraft
        raise PaymentRefused(
            _("Votre avoir (%(amount)s) ne couvre pas ce montant.")
            % {"amount": euros(max(account.balance, ZERO))}
        )
    reason = _gift_reason(kind)
    _account_move(user_id=user.pk, amount=-amount, kind=kind, reason=reason, by=user)
    return fund.fund_move(amount=amount, kind=kind, reason=reason, user_id=user.pk, by=user)


@transaction.atomic
def fund_gift_record(
    *, user_id: int, amount: Decimal, kind: str, method: str, note: str, by: User
) -> LedgerEntry:
    """A gift received on site (cash, cheque, transfer, vouchers) from a member, recorded by a coordinator."""
    _check_gift(amount, kind)
    if method not in ON_SITE_METHODS:
        raise PaymentRefused(_("Choisissez un moyen de paiement sur place."))
    reason = f"{_gift_reason(kind)}, {dict(PaymentMethod.choices)[method]}"
    if note.strip():
        reason = f"{reason} ({note.strip()})"
    return fund.fund_move(amount=amount, kind=kind, reason=reason, user_id=user_id, by=by, method=method)
