"""Stripe webhook events: verified, recorded once, routed to their collective, applied by reading the truth.

An event is believed only once its signature matches one of our endpoint secrets. Its id is stored under a
unique constraint in the same transaction as its effects, so a second delivery changes nothing and a failure
rolls the record back (Stripe delivers it again). An event never sets a state by itself: it names a payment,
and services.payment_sync reads that payment's session, intent and refunds from Stripe, on the connected
account the event came from. So the order in which events arrive does not matter.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import IntegrityError
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from marketplace.models import Collective, StripeEvent
from orders.models import CardTopUp, Payment, ProducerStripeAccount
from orders.payments import connect, gateway, topups
from orders.payments import services as payment_services

logger = logging.getLogger(__name__)

HANDLED = {
    "checkout.session.completed",
    "checkout.session.expired",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.amount_capturable_updated",
    "payment_intent.canceled",
    "charge.refunded",
    "charge.captured",
    "refund.updated",
    "account.updated",
    "transfer.created",
    "transfer.updated",
    "transfer.reversed",
    "payout.paid",
}


@dataclass(frozen=True)
class Outcome:
    status: int
    message: str


def event_receive(*, payload: bytes, signature: str) -> Outcome:
    """Verify, record and commit; then apply, outside any transaction (payment_sync reads Stripe first,
    then takes its own short lock). An event recorded but not applied (Stripe could not be read back, a
    crash) is applied by its next delivery; one applied is « already received »."""
    try:
        event = gateway.event_construct(payload=payload, signature=signature).to_dict()
    except (gateway.SignatureError, ValueError):
        return Outcome(400, "invalid signature")
    with schema_context(get_public_schema_name()):
        try:
            record, _created = StripeEvent.objects.get_or_create(
                event_id=event["id"],
                defaults={"type": event["type"], "account": event.get("account") or ""},
            )
        except IntegrityError:  # the same event delivered twice at once: the other delivery applies it
            return Outcome(200, "already received")
        if record.applied_at is not None:
            return Outcome(200, "already received")
        try:
            outcome = _route(event, record)
        except gateway.StripeError as error:  # Stripe could not be read back: let Stripe deliver it again
            logger.warning("event %s not applied yet: %s", event["id"], error)
            return Outcome(503, "retry later")
        StripeEvent.objects.filter(pk=record.pk).update(
            outcome=outcome[:200], schema_name=record.schema_name, applied_at=timezone.now()
        )
    return Outcome(200, outcome)


def _route(event: dict, record: StripeEvent) -> str:
    if event["type"] not in HANDLED:
        return "ignored"
    obj = event["data"]["object"]
    account = event.get("account") or ""
    if event["type"] == "account.updated":
        return _account_updated(obj, record)
    if account:
        collective = Collective.objects.filter(stripe_account_id=account).first()
    else:  # the platform's own objects (charges of collectives paid by Connect, transfers): their metadata
        schema = _platform_schema(obj)
        collective = Collective.objects.filter(schema_name=schema).first() if schema else None
    if collective is None:
        return "unknown account"
    record.schema_name = collective.schema_name
    if event["type"].startswith("transfer."):
        with schema_context(collective.schema_name):
            return connect.transfer_event_apply(obj)
    if event["type"] == "payout.paid":
        return "payout noted"  # read with the balance when the treasurer updates the reconciliation
    metadata_schema = (obj.get("metadata") or {}).get("schema")
    if metadata_schema and metadata_schema != collective.schema_name:
        return "other collective"
    with schema_context(collective.schema_name):
        topup = _topup_for(obj, account)
        if topup is not None:
            topups.topup_sync(topup_id=topup.pk)
            return f"top-up {topup.pk} synced"
        payment = _payment_for(obj, account)
        if payment is None:
            return "no such payment"
        payment_services.payment_sync(payment_id=payment.pk)
        return f"payment {payment.pk} synced"


def _account_updated(obj: dict, record: StripeEvent) -> str:
    """A collective's own account, or a producer's Express account (its metadata names the collective)."""
    collective = Collective.objects.filter(stripe_account_id=obj["id"]).first()
    if collective is not None:
        record.schema_name = collective.schema_name
        if payment_services.stripe_account_refresh(collective=collective):
            with schema_context(collective.schema_name):
                connect.collective_account_ready()
        return "account refreshed"
    schema = (obj.get("metadata") or {}).get("schema") or ""
    collective = Collective.objects.filter(schema_name=schema).first() if schema else None
    if collective is None:
        return "unknown account"
    with schema_context(collective.schema_name):
        row = ProducerStripeAccount.objects.filter(account_id=obj["id"]).first()
        if row is None:
            return "unknown account"
        record.schema_name = collective.schema_name
        connect.producer_account_refresh(producer_id=row.producer_id)
    return "producer account refreshed"


def _platform_schema(obj: dict) -> str:
    """Which collective a platform object belongs to: our metadata, or its payment intent's (a refund made
    in the dashboard carries none)."""
    schema = (obj.get("metadata") or {}).get("schema")
    if schema:
        return schema
    if obj.get("object") in ("charge", "refund") and obj.get("payment_intent"):
        intent = gateway.payment_intent_retrieve(account="", payment_intent_id=obj["payment_intent"])
        return (intent.to_dict().get("metadata") or {}).get("schema") or ""
    return ""


def _topup_for(obj: dict, account: str) -> CardTopUp | None:
    found = CardTopUp.objects.filter(stripe_account=account)
    kind = obj.get("object")
    if kind == "checkout.session":
        return found.filter(stripe_session_id=obj["id"]).first()
    topup_id = str((obj.get("metadata") or {}).get("topup_id") or "")
    if topup_id.isdigit():
        return found.filter(pk=int(topup_id)).first()
    if kind == "payment_intent":
        return found.filter(stripe_payment_intent_id=obj["id"]).first()
    if kind in ("charge", "refund") and obj.get("payment_intent"):
        return found.filter(stripe_payment_intent_id=obj["payment_intent"]).first()
    return None


def _payment_for(obj: dict, account: str) -> Payment | None:
    kind = obj.get("object")
    if kind == "checkout.session":
        return Payment.objects.filter(stripe_session_id=obj["id"], stripe_account=account).first()
    if kind == "payment_intent":
        intent = obj
    elif kind in ("charge", "refund") and obj.get("payment_intent"):
        known = Payment.objects.filter(stripe_payment_intent_id=obj["payment_intent"], stripe_account=account)
        if known.exists():
            return known.first()
        intent = gateway.payment_intent_retrieve(
            account=account, payment_intent_id=obj["payment_intent"]
        ).to_dict()
    else:
        return None
    known = Payment.objects.filter(stripe_payment_intent_id=intent["id"], stripe_account=account).first()
    if known:
        return known
    # Not linked yet (this event came before checkout.session.completed): the intent names its payment.
    payment_id = (intent.get("metadata") or {}).get("payment_id", "")
    if not payment_id.isdigit():
        return None
    return Payment.objects.filter(pk=int(payment_id), stripe_account=account).first()
