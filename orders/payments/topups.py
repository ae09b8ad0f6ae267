"""Card top-ups: a member pays in advance by card (Stripe Checkout) where the collective keeps members'
accounts (« avoirs et versements d'avance »). The same three steps as an order's payment: the intent is
recorded and committed, the session created at Stripe, then attached under lock. The money is believed only
when Stripe says so, asked server-side (`topup_sync`, from the return page or a webhook); the ledger entry is
written once (the top-up's row lock, then the entry's unique key), however many times the events arrive.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.models import User
from marketplace.money import euros, money
from orders import locks
from orders.ledger import services as ledger
from orders.ledger.services import PaymentRefused
from orders.models import CardTopUp, ShopSettings
from orders.payments import connect, gateway
from orders.payments.services import CHECKOUT_MIN_LIFETIME, card_ready

MIN_TOPUP = Decimal("5")
MAX_TOPUP = ledger.MAX_TOPUP
SESSION_LIFETIME = timedelta(minutes=45)


def topup_offered() -> bool:
    """« Recharger par carte » is offered: members' accounts are kept and card payment works here."""
    return ShopSettings.current().credit_allowed and card_ready()


def topup_card_start(*, user: User, amount: Decimal, success_url: str, cancel_url: str) -> str:
    """The Stripe Checkout address where the member pays their top-up."""
    if not ShopSettings.current().credit_allowed:
        raise PaymentRefused(_("Ce collectif ne propose pas les versements d'avance."))
    if not card_ready():
        raise PaymentRefused(_("Le paiement par carte n'est pas disponible pour le moment."))
    if amount is None or money(amount) != amount or not MIN_TOPUP <= amount <= MAX_TOPUP:
        raise PaymentRefused(
            _("Le montant d'une recharge va de %(min)s à %(max)s, en euros et centimes.")
            % {"min": euros(MIN_TOPUP), "max": euros(MAX_TOPUP)}
        )
    collective = connection.tenant
    with transaction.atomic():
        topup = CardTopUp.objects.create(
            user=user, amount=amount, stripe_account=connect.charge_account(collective)
        )
    schema = connection.schema_name  # type: ignore[attr-defined]  # django-tenants' connection
    try:
        session = gateway.checkout_session_create(
            account=topup.stripe_account,
            idempotency_key=f"topup-{schema}-{topup.pk}",
            description=_("Recharge de votre solde — %(name)s") % {"name": collective.name},
            amount=amount,
            capture_method="automatic",
            metadata={"schema": schema, "topup_id": str(topup.pk)},
            email=user.email,
            success_url=success_url,
            cancel_url=cancel_url,
            expires_at=int((timezone.now() + max(SESSION_LIFETIME, CHECKOUT_MIN_LIFETIME)).timestamp()),
        )
    except gateway.StripeError:
        CardTopUp.objects.filter(pk=topup.pk).update(status=CardTopUp.Status.CANCELED)
        raise
    with transaction.atomic():
        topup = locks.card_topup_lock(topup.pk)
        topup.stripe_session_id = session.id
        topup.checkout_url = session.url or ""
        topup.save(update_fields=["stripe_session_id", "checkout_url", "updated_at"])
    return session.url


def _id_of(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.id


def topup_sync(*, topup_id: int) -> CardTopUp:
    """Read the top-up's session and intent from Stripe (outside any transaction), then, under the top-up's
    lock, credit the member's account once the money arrived."""
    topup = CardTopUp.objects.get(pk=topup_id)
    if not topup.stripe_session_id or topup.status == CardTopUp.Status.SUCCEEDED:
        return topup
    session = gateway.checkout_session_retrieve(
        account=topup.stripe_account, session_id=topup.stripe_session_id
    )
    intent_id = _id_of(session.payment_intent)
    intent = (
        gateway.payment_intent_retrieve(account=topup.stripe_account, payment_intent_id=intent_id)
        if intent_id
        else None
    )
    with transaction.atomic():
        topup = locks.card_topup_lock(topup_id)
        if topup.status == CardTopUp.Status.SUCCEEDED:
            return topup
        if intent is not None and intent.status == "succeeded":
            topup.status = CardTopUp.Status.SUCCEEDED
            topup.amount = gateway.from_cents(intent.amount_received)
            topup.stripe_payment_intent_id = intent.id
            topup.checkout_url = ""
            topup.save(
                update_fields=["status", "amount", "stripe_payment_intent_id", "checkout_url", "updated_at"]
            )
            ledger.topup_card_credit(
                user_id=topup.user_id,
                amount=topup.amount,
                key=f"card-topup-{topup.pk}",
                reason=_("Recharge par carte bancaire"),
            )
        elif session.status == "expired":
            topup.status = CardTopUp.Status.CANCELED
            topup.checkout_url = ""
            topup.save(update_fields=["status", "checkout_url", "updated_at"])
    return topup
