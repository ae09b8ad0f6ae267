"""Every write about money: card payments through Stripe Checkout, on-site payments, weighing, capture and
refunds. Views and the webhook call these; the Stripe calls themselves are in orders.payments.gateway.
Over 400 lines because checkout, sync, refunds and settling share private helpers (_apply, _give_back,
_refund_add) and the one lock order; split by flow only if it grows again.

Rules:
- Amounts come from the order's lines, never from a request; Decimal euros (cents only in the gateway).
- A card payment changes status only in `payment_sync`, from what Stripe says when asked server-side (a
  verified webhook event or a return from Checkout triggers the question; neither is believed by itself).
  So events may come twice, late or in any order: each one only makes us read the truth again.
- Weighed goods paid by card: authorised for the estimate plus the collective's margin (the cap) and captured
  at the real amount when the distribution falls within the authorisation's validity; otherwise the cap is
  charged and the difference refunded after weighing. Never more than the cap.
- Locks: the order row (orders.locks.order_lock) around every change of an order's money.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace import clock, followups
from marketplace.models import Collective, User
from marketplace.money import euros, money
from orders import locks
from orders.events import order_event
from orders.ledger import selectors as ledger_selectors
from orders.ledger import services as ledger
from orders.ledger.services import PaymentRefused
from orders.models import (
    ON_SITE_METHODS,
    LedgerEntry,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    ShopSettings,
    VoucherIssuer,
)
from orders.payments import connect, gateway
from orders.payments import services as payment_services
from orders.payments.balance import Balance, capture_method_for, order_amounts, order_balance

logger = logging.getLogger(__name__)

MAX_AMOUNT = Decimal("10000")
MAX_WEIGHT_KG = Decimal("500")
# Stripe refuses a Checkout Session that expires sooner than 30 minutes after its creation.
CHECKOUT_MIN_LIFETIME = timedelta(minutes=31)


# Reading ----------------------------------------------------------------------------------------------------


def card_ready(collective: Collective | None = None) -> bool:
    """Card payment can be offered: Stripe is configured and the collective's account takes charges."""
    collective = collective or connection.tenant
    return (
        gateway.is_configured() and bool(collective.stripe_account_id) and collective.stripe_charges_enabled
    )


def _status_for(order: Order, balance: Balance) -> str:
    if not order.is_placed:
        if balance.refunded and not balance.net:
            return PaymentStatus.REFUNDED
        return PaymentStatus.PAID if balance.net else PaymentStatus.DUE
    if balance.due and balance.net >= balance.due:
        return PaymentStatus.PAID
    if balance.authorized:
        return PaymentStatus.AUTHORIZED
    if balance.net > 0:
        return PaymentStatus.PARTIAL
    if balance.refunded:
        return PaymentStatus.REFUNDED
    if order.payment_method == PaymentMethod.CARD:
        return PaymentStatus.AWAITING
    return PaymentStatus.DUE


def order_payment_refresh(order: Order, *, due_kind: str | None = None, new_order: bool = False) -> Order:
    """Bring the order's ledger entries up to date and store where its money stands (call under the order
    lock, after any money change). `new_order`: created in this transaction, its lines, payments and entries
    in hand (ledger.ledger_order_sync reads nothing)."""
    written = ledger.ledger_order_sync(order, due_kind=due_kind, new_order=new_order)
    if new_order:
        order._prefetched_objects_cache["ledger_entries"] = _known(order.ledger_entries, written)
    status = _status_for(order, order_balance(order))
    hold_until = order.hold_until if status == PaymentStatus.AWAITING else None
    if (status, hold_until) != (order.payment_status, order.hold_until):
        Order.objects.filter(pk=order.pk).update(payment_status=status, hold_until=hold_until)
        order.payment_status, order.hold_until = status, hold_until
    return order


def _known(manager, rows):
    """The related rows of a new order as a prefetched queryset: reading them again costs nothing."""
    queryset = manager.all()
    queryset._result_cache = list(rows)
    queryset._prefetch_done = True
    return queryset


def new_order_known(order: Order, lines) -> None:
    """Tell the reads below that `order` was just created with `lines`: no payments, no entries yet."""
    order._prefetched_objects_cache = {
        "lines": _known(order.lines, lines),
        "payments": _known(order.payments, []),
        "ledger_entries": _known(order.ledger_entries, []),
    }


def hold_start(order: Order, now: datetime | None = None, *, new_order: bool = False) -> None:
    """A card order keeps its stock and place until hold_until (called by the order services, in their
    transaction, when an order is placed or switched to card). `new_order`: placed in this transaction,
    with new_order_known called (nothing is read again)."""
    now = now or timezone.now()
    if order.payment_method == PaymentMethod.CARD and order.payment_status in (
        PaymentStatus.DUE,
        PaymentStatus.AWAITING,
    ):
        order.hold_until = order.hold_until or now + timedelta(
            minutes=ShopSettings.current().card_hold_minutes
        )
        order.payment_status = PaymentStatus.AWAITING
        Order.objects.filter(pk=order.pk).update(
            payment_status=order.payment_status, hold_until=order.hold_until
        )
        clock.due_lower(at=order.hold_until)  # released then if still unpaid (orders.closing.jobs)
        return
    if order.payment_method != PaymentMethod.CARD and not new_order:  # switched to paying on site: stop
        for payment in order.payments.filter(method=PaymentMethod.CARD, status=Payment.Status.PENDING):
            _session_drop(payment)  # the open sessions
    order_payment_refresh(order, new_order=new_order)


def excess_refund(order: Order) -> None:
    """After a basket got smaller: what was charged by card beyond the new cap goes back at once."""
    excess = order_balance(order).net - order_amounts(order).cap
    left = excess
    for payment, refundable in _refundable_payments(order):
        if left <= 0:
            break
        if payment.is_card:
            part = min(left, refundable)
            _refund_add(payment, part, _("Panier réduit"), by=None)
            left -= part
    order_payment_refresh(order)


def _card_commitment(order: Order) -> Decimal:
    """What the member has paid (net of refunds) or has authorised by card on this order."""
    committed = Decimal("0")
    for payment in order.payments.all():
        if payment.is_card and payment.status == Payment.Status.SUCCEEDED:
            committed += payment.amount - payment.refunded
        elif payment.is_card and payment.status == Payment.Status.AUTHORIZED:
            committed += payment.amount_authorized
    return committed


def order_change_check(order: Order, *, new_cap: Decimal, payment_method: str) -> None:
    """Called by order_update before a change: a card payment already made limits what may change (money
    paid on site, or a card session that was abandoned, does not)."""
    committed = _card_commitment(order)
    if not committed:
        return
    if payment_method != PaymentMethod.CARD:
        raise PaymentRefused(
            _("Votre commande est déjà payée par carte : le moyen de paiement ne peut plus changer.")
        )
    if new_cap > committed:
        raise PaymentRefused(
            _(
                "Votre commande est déjà payée par carte (%(amount)s) : vous pouvez réduire votre panier "
                "ou changer de créneau. Pour ajouter des produits, annulez-la (remboursement intégral) et "
                "commandez à nouveau."
            )
            % {"amount": euros(committed)}
        )


# Card payment: Checkout -------------------------------------------------------------------------------------


def _schema() -> str:
    return connection.schema_name


def checkout_start(*, order_id: int, user: User, success_url: str, cancel_url: str) -> str:
    """The Stripe Checkout address where the member pays the order (an open session is reused).

    Three steps, so that no lock waits on Stripe (Saleor's checkout completion has the same shape): record
    the intended payment under the order lock and commit; create the session at Stripe; lock again, re-read
    and attach it, or give it up when the order changed meanwhile."""
    with transaction.atomic():
        order = locks.order_lock(order_id)
        if order.user_id != user.pk or not order.is_placed:
            raise PaymentRefused(_("Cette commande n'existe pas ou a été annulée."))
        if order.sale.closed_at is not None:
            raise PaymentRefused(_("Cette vente est close : le paiement se fait sur place."))
        if order.payment_method != PaymentMethod.CARD or order.payment_status != PaymentStatus.AWAITING:
            raise PaymentRefused(_("Cette commande n'attend pas de paiement par carte."))
        collective = connection.tenant
        if not card_ready(collective):
            raise PaymentRefused(_("Le paiement par carte n'est pas disponible pour le moment."))
        amounts = order_amounts(order)
        pending = order.payments.filter(method=PaymentMethod.CARD, status=Payment.Status.PENDING).last()
        if pending and pending.amount_authorized == amounts.cap and pending.checkout_url:
            return pending.checkout_url
        if pending:  # the basket changed since (or a first click is still on its way): start afresh
            _session_drop(pending)
        now = timezone.now()
        payment = Payment.objects.create(
            order=order,
            method=PaymentMethod.CARD,
            amount_authorized=amounts.cap,
            capture_method=capture_method_for(order, now),
            stripe_account=connect.charge_account(collective),
        )
        expires = max(order.hold_until or now, now + CHECKOUT_MIN_LIFETIME)
    try:
        session = gateway.checkout_session_create(
            account=payment.stripe_account,
            idempotency_key=f"checkout-{_schema()}-{payment.pk}",
            description=_("Commande %(number)s — %(name)s")
            % {"number": order.number, "name": collective.name},
            amount=amounts.cap,
            capture_method=payment.capture_method,
            metadata={"schema": _schema(), "order_id": str(order.pk), "payment_id": str(payment.pk)},
            email=user.email,
            success_url=success_url,
            cancel_url=cancel_url,
            expires_at=int(expires.timestamp()),
            # Charged on the platform: the sale's transfers to its producers follow this group.
            transfer_group="" if payment.stripe_account else connect.transfer_group(order.sale_id),
        )
    except gateway.StripeError as error:
        Payment.objects.filter(pk=payment.pk, status=Payment.Status.PENDING).update(
            status=Payment.Status.CANCELED, last_error=str(error)[:300]
        )
        raise
    with transaction.atomic():
        order = locks.order_lock(order_id)
        payment = locks.payment_lock(payment.pk)
        payment.stripe_session_id = session.id
        still_wanted = (
            payment.status == Payment.Status.PENDING
            and order.is_placed
            and order.payment_status == PaymentStatus.AWAITING
            and order_amounts(order).cap == payment.amount_authorized
        )
        if not still_wanted:  # cancelled, paid on site or changed while Stripe answered
            payment.save(update_fields=["stripe_session_id", "updated_at"])
            _session_drop(payment)
            raise PaymentRefused(_("Votre commande a changé pendant la préparation du paiement : réessayez."))
        payment.checkout_url = session.url
        payment.save(update_fields=["stripe_session_id", "checkout_url", "updated_at"])
    return session.url


def _session_drop(payment: Payment) -> None:
    """Stop a pending Checkout Session from being paid (expired at Stripe after commit)."""
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.CANCELED, checkout_url="")
    if payment.stripe_session_id:
        followups.followup_add("orders.tasks.checkout_expire", schema_name=_schema(), payment_id=payment.pk)


def checkout_expire(*, payment_id: int) -> None:
    """Expire a dropped session at Stripe; if it was paid meanwhile, payment_sync refunds it."""
    payment = Payment.objects.get(pk=payment_id)
    try:
        gateway.checkout_session_expire(account=payment.stripe_account, session_id=payment.stripe_session_id)
    except gateway.StripeError as error:
        logger.info("session %s not expired (%s); reading it again", payment.stripe_session_id, error)
    payment_sync(payment_id=payment.pk)


# The truth from Stripe --------------------------------------------------------------------------------------


_PI_STATUS = {
    "succeeded": Payment.Status.SUCCEEDED,
    "requires_capture": Payment.Status.AUTHORIZED,
    "canceled": Payment.Status.CANCELED,
}


def payment_sync(*, payment_id: int) -> Payment:
    """Read the payment's Checkout Session, PaymentIntent and refunds from Stripe and apply them. The only
    code path that marks a card payment received or authorised."""
    payment = Payment.objects.get(pk=payment_id)
    if not payment.is_card or not payment.stripe_session_id:
        return payment
    account = payment.stripe_account
    session = gateway.checkout_session_retrieve(account=account, session_id=payment.stripe_session_id)
    intent_id = payment.stripe_payment_intent_id or _id_of(session.payment_intent)
    intent = (
        gateway.payment_intent_retrieve(account=account, payment_intent_id=intent_id) if intent_id else None
    )
    refunds = gateway.refunds_list(account=account, payment_intent_id=intent_id) if intent_id else []
    with transaction.atomic():
        order = locks.order_lock(payment.order_id)
        payment = locks.payment_lock(payment_id)
        _apply(payment, session, intent)
        _refunds_apply(payment, refunds)
        _cancelled_order_unwind(order, payment)
        order_payment_refresh(order)
    return payment


def _id_of(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.id


def _apply(payment: Payment, session, intent) -> None:
    status = payment.status
    if intent is not None:
        payment.stripe_payment_intent_id = intent.id
        if intent.status in _PI_STATUS:
            status = _PI_STATUS[intent.status]
        elif intent.status == "requires_payment_method" and intent.last_payment_error:
            payment.last_error = _("Paiement refusé : %(message)s") % {
                "message": intent.last_payment_error.message or intent.last_payment_error.code
            }
        if status == Payment.Status.SUCCEEDED:
            payment.amount = gateway.from_cents(intent.amount_received)
            payment.amount_authorized = Decimal("0")
            payment.last_error = ""
        elif status == Payment.Status.AUTHORIZED:
            payment.amount = Decimal("0")
            payment.amount_authorized = gateway.from_cents(intent.amount_capturable)
            payment.last_error = ""
        elif status == Payment.Status.CANCELED:
            payment.amount_authorized = Decimal("0")
    if session.status == "expired" and status == Payment.Status.PENDING:
        status = Payment.Status.CANCELED
    if status != Payment.Status.PENDING:
        payment.checkout_url = ""
    payment.status = status
    payment.save()


def _refunds_apply(payment: Payment, refunds) -> None:
    statuses = {
        "succeeded": Refund.Status.SUCCEEDED,
        "failed": Refund.Status.FAILED,
        "canceled": Refund.Status.FAILED,
    }
    for remote in refunds:
        status = statuses.get(remote.status, Refund.Status.PENDING)
        local_id = str((remote.to_dict().get("metadata") or {}).get("refund_id") or "")
        # A refund made in the Stripe dashboard may carry any metadata (« RMB-2026-001 »): only our own
        # numeric ids name one of our refunds.
        refund = Refund.objects.filter(stripe_refund_id=remote.id).first() or (
            Refund.objects.filter(pk=int(local_id), payment=payment, stripe_refund_id__isnull=True).first()
            if local_id.isdigit()
            else None
        )
        if refund is None:  # made outside Étal (the collective's Stripe dashboard)
            refund = Refund.objects.create(
                payment=payment,
                amount=gateway.from_cents(remote.amount),
                reason=_("Remboursement fait depuis Stripe"),
                status=status,
                stripe_refund_id=remote.id,
            )
            _dashboard_refund_adjust(payment.order, refund)
            connect.reversals_record(refund=refund)
        elif (refund.stripe_refund_id, refund.status) != (remote.id, status):
            refund.stripe_refund_id, refund.status = remote.id, status
            refund.save(update_fields=["stripe_refund_id", "status"])
            connect.reversals_record(refund=refund)


def _dashboard_refund_adjust(order: Order, refund: Refund) -> None:
    """A refund made in the Stripe dashboard gives back what was paid in excess first; beyond that, the
    collective gave money back on purpose (a goodwill gesture): it lowers what is due rather than leave a
    debt that the member would be asked to pay again. Written once per refund (its key)."""
    if not order.is_placed or refund.status == Refund.Status.FAILED:
        return
    balance = order_balance(order)
    debt = balance.due - balance.net - balance.authorized
    if debt > 0:
        ledger.goodwill_add(
            order=order,
            amount=min(debt, refund.amount),
            reason=_("remboursement fait depuis Stripe"),
            by=None,
            key=f"stripe-refund-{refund.pk}",
        )


def _cancelled_order_unwind(order: Order, payment: Payment) -> None:
    """Money that arrives for an order that no longer stands (released or cancelled meanwhile) goes back."""
    if not order.is_placed:
        _give_back(payment)


def _give_back(payment: Payment) -> None:
    """Everything of one payment back: a session stopped, an authorisation released, a charge refunded."""
    if payment.status == Payment.Status.PENDING:
        _session_drop(payment)
    elif payment.status == Payment.Status.AUTHORIZED:
        _intent_cancel_later(payment)
    elif payment.status == Payment.Status.SUCCEEDED:
        pending = payment.amount - payment.refunded
        if pending > 0:
            _refund_add(payment, pending, _("Commande annulée : remboursement intégral"), by=None)


# Cancelling, refunding --------------------------------------------------------------------------------------


def _intent_cancel_later(payment: Payment) -> None:
    followups.followup_add("orders.tasks.authorization_cancel", schema_name=_schema(), payment_id=payment.pk)


def authorization_cancel(*, payment_id: int) -> None:
    payment = Payment.objects.get(pk=payment_id)
    if payment.status != Payment.Status.AUTHORIZED:
        return
    gateway.payment_intent_cancel(
        account=payment.stripe_account,
        payment_intent_id=payment.stripe_payment_intent_id,
        idempotency_key=f"cancel-{_schema()}-{payment.pk}",
    )
    payment_sync(payment_id=payment.pk)


def _refund_add(payment: Payment, amount: Decimal, reason: str, *, by: User | None) -> Refund:
    """A refund on one payment: on-site payments are given back at once, card refunds sent after commit."""
    on_site = not payment.is_card
    refund = Refund.objects.create(
        payment=payment,
        amount=amount,
        reason=reason[:200],
        status=Refund.Status.SUCCEEDED if on_site else Refund.Status.PENDING,
        created_by=by,
    )
    if not on_site:
        followups.followup_add("orders.tasks.refund_send", schema_name=_schema(), refund_id=refund.pk)
    return refund


def refund_send(*, refund_id: int) -> Refund:
    """Send a pending card refund to Stripe (idempotent: the key is the refund's own id)."""
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    if refund.status != Refund.Status.PENDING or refund.stripe_refund_id:
        return refund
    payment = refund.payment
    try:
        remote = gateway.refund_create(
            account=payment.stripe_account,
            payment_intent_id=payment.stripe_payment_intent_id,
            amount=refund.amount,
            idempotency_key=f"refund-{_schema()}-{refund.pk}",
            metadata={"schema": _schema(), "refund_id": str(refund.pk), "order_id": str(payment.order_id)},
        )
    except gateway.StripeError as error:
        logger.warning("refund %s refused by Stripe: %s", refund.pk, error.user_message or error)
        with transaction.atomic():
            order = locks.order_lock(payment.order_id)
            Refund.objects.filter(pk=refund.pk, status=Refund.Status.PENDING).update(
                status=Refund.Status.FAILED
            )
            order_payment_refresh(order)
        refund.refresh_from_db()
        return refund
    with transaction.atomic():
        order = locks.order_lock(payment.order_id)
        Refund.objects.filter(pk=refund.pk).update(
            stripe_refund_id=remote.id,
            status=Refund.Status.SUCCEEDED if remote.status == "succeeded" else refund.status,
        )
        order_payment_refresh(order)
        refund.refresh_from_db()
        connect.reversals_record(refund=refund)
    refund.refresh_from_db()
    return refund


def on_order_cancelled(order: Order) -> None:
    """Called in the cancelling transaction (member's cancel, release of an unpaid order): every euro goes
    back (credit spent on it to the member's account) and every pending Checkout Session is stopped."""
    for payment in locks.payments_lock(order):
        _give_back(payment)
    credit = ledger_selectors.order_ledger(order).credit
    if credit > 0:
        ledger.credit_keep(order=order, amount=credit, reason=_("commande annulée"), by=None)
    order_payment_refresh(order)


def _refundable_payments(order: Order) -> list[tuple[Payment, Decimal]]:
    rows = []
    for payment in order.payments.filter(status=Payment.Status.SUCCEEDED).order_by("-created_at", "-pk"):
        left = payment.amount - payment.refunded
        if left > 0:
            rows.append((payment, left))
    return rows


class RefundKind:
    GOODWILL = "goodwill"  # a bruised product, a missing item: lowers what is due
    OVERPAYMENT = "overpayment"  # paid beyond what is due (too much on site, a line cancelled)


@transaction.atomic
def refund_create(
    *,
    order_id: int,
    amount: Decimal,
    reason: str,
    by: User,
    kind: str = RefundKind.OVERPAYMENT,
    keep_as_credit: bool = False,
) -> list[Refund]:
    """A coordinator gives part of an order back, with a reason the member sees. A goodwill gesture lowers
    what is due by `amount` (an entry in the ledger), then gives back what was paid beyond the new due; a
    refund of an overpayment gives back at most what was paid beyond what is due. Money goes back from the
    latest payments first (card refunds to Stripe after commit), or stays as credit when asked and allowed."""
    order = locks.order_lock(order_id)
    reason = (reason or "").strip()
    if not reason:
        raise PaymentRefused(_("Indiquez le motif du remboursement : le membre le verra."))
    if amount is None or amount <= 0 or money(amount) != amount:
        raise PaymentRefused(_("Le montant à rembourser doit être positif, en euros et centimes."))
    if keep_as_credit and not ShopSettings.current().credit_allowed:
        raise PaymentRefused(_("Ce collectif ne propose pas les avoirs : remboursez le membre."))
    balance = order_balance(order)
    if kind == RefundKind.GOODWILL:
        if not order.is_placed:
            raise PaymentRefused(_("Cette commande est annulée : tout ce qui a été payé est rendu."))
        if amount > balance.due:
            raise PaymentRefused(
                _("Un geste commercial ne peut dépasser ce que coûte la commande : %(amount)s au plus.")
                % {"amount": euros(balance.due)}
            )
        ledger.goodwill_add(order=order, amount=amount, reason=reason, by=by)
        balance = order_balance(order)
        to_give = min(amount, balance.excess)
    elif kind == RefundKind.OVERPAYMENT:
        if amount > balance.excess:
            raise PaymentRefused(
                _(
                    "Seuls %(amount)s ont été payés en plus de ce qui est dû. Pour un produit abîmé ou "
                    "manquant, choisissez « geste commercial » : ce qui est dû baisse d'autant."
                )
                % {"amount": euros(balance.excess)}
            )
        to_give = amount
    else:
        raise PaymentRefused(_("Choisissez s'il s'agit d'un geste commercial ou d'un trop-perçu."))
    refunds: list[Refund] = []
    if to_give > 0 and keep_as_credit:
        ledger.credit_keep(order=order, amount=to_give, reason=reason, by=by)
        to_give = Decimal("0")
    for payment, left in _refundable_payments(order):
        if to_give <= 0:
            break
        part = min(left, to_give)
        refunds.append(_refund_add(payment, part, reason, by=by))
        to_give -= part
    if to_give > 0:  # the rest was paid with credit: it goes back to the member's account
        ledger.credit_keep(order=order, amount=to_give, reason=reason, by=by)
    order_payment_refresh(order)
    return refunds


@transaction.atomic
def credit_spend(*, order_id: int, user: User) -> Decimal:
    """The member pays what is still due on an order with their credit (« avoir »), as far as it goes and
    the collective allows. A card order is paid this way only when the credit covers all of it."""
    order = locks.order_lock(order_id)
    if order.user_id != user.pk or not order.is_placed:
        raise PaymentRefused(_("Cette commande n'existe pas ou a été annulée."))
    spent = credit_spendable(order=order, user=user)
    ledger.credit_to_order(order=order, amount=spent, by=user)
    for payment in order.payments.filter(method=PaymentMethod.CARD, status=Payment.Status.PENDING):
        _session_drop(payment)
    order_payment_refresh(order)
    return spent


def credit_spendable(*, order: Order, user: User) -> Decimal:
    """What the member's credit would pay of this order, or PaymentRefused saying why it cannot: the order
    page offers « Payer avec mon avoir » only when this answers, `credit_spend` applies it under lock."""
    if not ShopSettings.current().credit_allowed:
        raise PaymentRefused(_("Ce collectif ne propose pas les avoirs."))
    balance = order_balance(order)
    if balance.authorized or _card_commitment(order):
        raise PaymentRefused(_("Cette commande est déjà réglée par carte."))
    due = order_amounts(order).cap - ledger_selectors.order_ledger(order).goodwill
    to_pay = max(due - balance.net, Decimal("0")) if order.payment_method == PaymentMethod.CARD else None
    to_pay = balance.remaining if to_pay is None else to_pay
    available = ledger_selectors.credit_available(user_id=user.pk)
    if to_pay <= 0:
        raise PaymentRefused(_("Il ne reste rien à régler sur cette commande."))
    if available <= 0:
        raise PaymentRefused(_("Vous n'avez pas d'avoir à utiliser."))
    if order.payment_method == PaymentMethod.CARD and available < to_pay:
        raise PaymentRefused(
            _("Votre avoir (%(amount)s) ne couvre pas toute la commande : payez-la par carte.")
            % {"amount": euros(available)}
        )
    return min(available, to_pay)


# On site ----------------------------------------------------------------------------------------------------


@transaction.atomic
def onsite_payment_record(
    *,
    order_id: int,
    method: str,
    amount: Decimal,
    note: str,
    by: User,
    issuer: VoucherIssuer | None = None,
    received_on: date | None = None,
) -> Payment:
    """Cash, cheque, transfer or food vouchers received for an order (by staff or a coordinator); food
    vouchers name their issuer when the collective keeps a list, a transfer the day it was received."""
    order = locks.order_lock(order_id)
    if not order.is_placed:
        raise PaymentRefused(_("Cette commande est annulée : aucun paiement ne peut y être enregistré."))
    if method not in ON_SITE_METHODS:
        raise PaymentRefused(_("Choisissez un moyen de paiement sur place."))
    if amount is None or amount <= 0 or amount > MAX_AMOUNT or money(amount) != amount:
        raise PaymentRefused(_("Le montant doit être positif, en euros et centimes."))
    if method != PaymentMethod.FOOD_VOUCHER:
        issuer = None
    elif issuer is None and VoucherIssuer.objects.filter(is_active=True).exists():
        raise PaymentRefused(_("Choisissez l'émetteur des bons."))
    payment = Payment.objects.create(
        order=order,
        method=method,
        status=Payment.Status.SUCCEEDED,
        amount=amount,
        note=(note or "").strip()[:200],
        issuer=issuer,
        received_on=received_on if method == PaymentMethod.TRANSFER else None,
        recorded_by=by,
    )
    order_payment_refresh(order)
    return payment


# Weighing and settling --------------------------------------------------------------------------------------


@transaction.atomic
def line_weigh(*, line_id: int, weight_kg: Decimal) -> OrderLine:
    """The real weight of a weighed line (all its pieces together); its amount follows, rounded once."""
    line = OrderLine.objects.select_related("order__sale").filter(pk=line_id).first()
    if line is None or not line.is_variable_weight:
        raise PaymentRefused(_("Cette ligne ne se pèse pas."))
    order = locks.order_lock(line.order_id)
    if not order.is_placed:
        raise PaymentRefused(_("Cette commande est annulée."))
    if weight_kg is None or weight_kg <= 0 or weight_kg > MAX_WEIGHT_KG:
        raise PaymentRefused(_("Le poids doit être positif, en kilogrammes (par ex. 1,250)."))
    line.weight_kg = weight_kg.quantize(Decimal("0.001"))
    line.weighed_amount = money(line.unit_price * line.weight_kg)
    line.save(update_fields=["weight_kg", "weighed_amount"])
    order_payment_refresh(order, due_kind=LedgerEntry.Kind.WEIGHING)
    # The last weighing of a distribution that is over lets the clock issue the producers' statements.
    clock.due_lower(at=max(timezone.now(), line.order.sale.distribution_ends_at))
    return line


@dataclass(frozen=True)
class Settlement:
    captured: Decimal
    refunded: Decimal
    remaining: Decimal  # still due, to be paid on site

    @property
    def summary(self) -> str:
        return _(
            "Montant final réglé : %(captured)s débités, %(refunded)s remboursés, %(remaining)s restent dus."
        ) % {
            "captured": euros(self.captured),
            "refunded": euros(self.refunded),
            "remaining": euros(self.remaining),
        }


def order_settle(*, order_id: int, by: User | None) -> Settlement:
    """Once everything is weighed: capture the real amount of a card authorisation (never above it), or
    refund what was charged beyond the real amount. What is still due is paid on site."""
    with transaction.atomic():
        order = locks.order_lock(order_id)
        if not order.is_placed:
            raise PaymentRefused(_("Cette commande est annulée."))
        if not order.is_weighed:
            raise PaymentRefused(_("Pesez d'abord tous les produits au poids de cette commande."))
        authorized = list(order.payments.filter(status=Payment.Status.AUTHORIZED))
    captured = Decimal("0")
    for payment in authorized:  # outside the lock: Stripe answers, then payment_sync applies
        balance = order_balance(Order.objects.get(pk=order_id))
        to_capture = min(max(balance.due - balance.net, Decimal("0")), payment.amount_authorized)
        if to_capture > 0:
            gateway.payment_intent_capture(
                account=payment.stripe_account,
                payment_intent_id=payment.stripe_payment_intent_id,
                amount=to_capture,
                idempotency_key=f"capture-{_schema()}-{payment.pk}",
            )
            captured += to_capture
        else:
            gateway.payment_intent_cancel(
                account=payment.stripe_account,
                payment_intent_id=payment.stripe_payment_intent_id,
                idempotency_key=f"cancel-{_schema()}-{payment.pk}",
            )
        payment_sync(payment_id=payment.pk)
    with transaction.atomic():
        order = locks.order_lock(order_id)
        balance = order_balance(order)
        refunded = Decimal("0")
        if balance.excess > 0:
            left = balance.excess
            for payment, refundable in _refundable_payments(order):
                part = min(left, refundable)
                _refund_add(payment, part, _("Ajustement après pesée"), by=by)
                refunded += part
                left -= part
                if not left:
                    break
            if left > 0 and ledger_selectors.order_ledger(order).credit >= left:  # paid with credit
                ledger.credit_keep(order=order, amount=left, reason=_("ajustement après pesée"), by=by)
        order_event(order=order, kind=OrderEvent.Kind.SETTLED, note=str(order.final_total))
        order_payment_refresh(order)
        remaining = order_balance(order).remaining
    return Settlement(captured=captured, refunded=refunded, remaining=remaining)


# Settings ---------------------------------------------------------------------------------------------------


@transaction.atomic
def shop_settings_update(
    *,
    payment_methods: Iterable[str],
    weight_margin_percent: int | None = None,
    card_hold_minutes: int | None = None,
    wait_hold_minutes: int | None = None,
    credit_allowed: bool | None = None,
    credit_overdraft: Decimal | None = None,
) -> ShopSettings:
    methods = [value for value in PaymentMethod.values if value in set(payment_methods)]
    if not methods:
        raise ValidationError({"payment_methods": _("Choisissez au moins un moyen de paiement.")})
    if PaymentMethod.CARD in methods and not payment_services.card_ready():
        raise ValidationError(
            {"payment_methods": _("Le paiement par carte sera disponible une fois le compte Stripe relié.")}
        )
    settings_row = ShopSettings.current()
    settings_row.payment_methods = methods
    if weight_margin_percent is not None:
        settings_row.weight_margin_percent = weight_margin_percent
    if card_hold_minutes is not None:
        settings_row.card_hold_minutes = card_hold_minutes
    if wait_hold_minutes is not None:
        settings_row.wait_hold_minutes = wait_hold_minutes
    if credit_allowed is not None:
        settings_row.credit_allowed = credit_allowed
    if credit_overdraft is not None:
        settings_row.credit_overdraft = credit_overdraft
    settings_row.full_clean()
    settings_row.save()
    return settings_row


def stripe_connect_start(*, collective: Collective, email: str, refresh_url: str, return_url: str) -> str:
    """The Stripe onboarding address for the collective's own account (created on first use)."""
    if not gateway.is_configured():
        raise ValidationError(_("Stripe n'est pas configuré sur cette instance (STRIPE_SECRET_KEY)."))
    if not collective.stripe_account_id:
        account = gateway.account_create(
            email=email, name=collective.name, schema_name=collective.schema_name
        )
        Collective.objects.filter(pk=collective.pk).update(stripe_account_id=account.id)
        collective.stripe_account_id = account.id
    return gateway.account_link_create(
        account=collective.stripe_account_id, refresh_url=refresh_url, return_url=return_url
    )


def stripe_account_refresh(*, collective: Collective) -> bool:
    """Read from Stripe whether the collective's account takes charges; True when it does."""
    if not collective.stripe_account_id:
        return False
    account = gateway.account_retrieve(collective.stripe_account_id)
    enabled = bool(account.charges_enabled)
    Collective.objects.filter(pk=collective.pk).update(stripe_charges_enabled=enabled)
    collective.stripe_charges_enabled = enabled
    return enabled
