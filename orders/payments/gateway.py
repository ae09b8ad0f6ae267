"""The only module that talks to Stripe, through the official library: thin calls, euros in and out.

Charges are direct charges on the collective's connected account (the `stripe_account` option), or, for a
collective that pays its producers by Stripe Connect, charges on the platform (account "") grouped by sale
(`transfer_group`) and followed by transfers to the producers' Express accounts and the collective's.
Amounts are Decimal euros everywhere else; they become integer cents only here. With STRIPE_API_BASE set (the
tests and `make dev` without keys), the same calls go to the local Stripe double instead of api.stripe.com.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

import stripe
from django.conf import settings
from stripe._base_address import BaseAddresses  # the library's own TypedDict, not exported at the top

from marketplace.guards import SlowWorkInTransaction, slow_work_outside_transactions
from marketplace.money import money

CalledInTransaction = SlowWorkInTransaction

STRIPE_TIMEOUT_SECONDS = 15


StripeError = stripe.StripeError
SignatureError = stripe.SignatureVerificationError


class NotConfigured(Exception):
    """No Stripe secret key: card payment is not offered on this instance."""


def is_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise NotConfigured
    slow_work_outside_transactions("a Stripe call")
    base = settings.STRIPE_API_BASE
    addresses: BaseAddresses | None = {"api": base, "connect": base} if base else None
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses=addresses,
        max_network_retries=2,
        # Some calls run under an order's row lock: never wait on Stripe for long (the default is 80 s).
        http_client=stripe.new_default_http_client(timeout=STRIPE_TIMEOUT_SECONDS),
    )


def cents(amount: Decimal) -> int:
    return int((money(amount) * 100).to_integral_value())


def from_cents(amount_cents: int | None) -> Decimal:
    return money(Decimal(amount_cents or 0) / 100)


def _options(account: str, idempotency_key: str | None = None) -> stripe.RequestOptions:
    """Request options on a connected account, or on the platform itself when `account` is ""."""
    options: stripe.RequestOptions = {"stripe_account": account} if account else {}
    if idempotency_key:
        options["idempotency_key"] = idempotency_key
    return options


# Connect ----------------------------------------------------------------------------------------------------


def account_create(*, email: str, name: str, schema_name: str) -> stripe.Account:
    return client().v1.accounts.create(
        {
            "type": "standard",
            "country": "FR",
            "email": email,
            "business_profile": {"name": name},
            "metadata": {"schema": schema_name},
        },
        # A double click makes one account, not two.
        {"idempotency_key": f"account-{schema_name}-{hashlib.sha256(email.encode()).hexdigest()[:16]}"},
    )


def express_account_create(*, email: str, name: str, schema_name: str, producer_id: int) -> stripe.Account:
    """A producer's Express account: it receives transfers only (the platform charges the cards)."""
    return client().v1.accounts.create(
        {
            "type": "express",
            "country": "FR",
            "email": email,
            "business_profile": {"name": name},
            "capabilities": {"transfers": {"requested": True}},
            "metadata": {"schema": schema_name, "producer_id": str(producer_id)},
        },
        {"idempotency_key": f"producer-account-{schema_name}-{producer_id}"},
    )


def account_retrieve(account: str) -> stripe.Account:
    return client().v1.accounts.retrieve(account)


def account_link_create(*, account: str, refresh_url: str, return_url: str) -> str:
    link = client().v1.account_links.create(
        {
            "account": account,
            "refresh_url": refresh_url,
            "return_url": return_url,
            "type": "account_onboarding",
        }
    )
    return link.url


# Checkout and payments --------------------------------------------------------------------------------------


def checkout_session_create(
    *,
    account: str,
    idempotency_key: str,
    description: str,
    amount: Decimal,
    capture_method: str,
    metadata: dict[str, str],
    email: str,
    success_url: str,
    cancel_url: str,
    expires_at: int,
    transfer_group: str = "",
) -> stripe.checkout.Session:
    intent_data: Any = {"capture_method": capture_method, "description": description, "metadata": metadata}
    if transfer_group:
        intent_data["transfer_group"] = transfer_group
    return client().v1.checkout.sessions.create(
        {
            "mode": "payment",
            "locale": "fr",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": cents(amount),
                        "product_data": {"name": description},
                    },
                }
            ],
            "payment_intent_data": intent_data,
            "metadata": metadata,
            "client_reference_id": metadata.get("payment_id") or metadata.get("topup_id", ""),
            "customer_email": email,
            "success_url": success_url,
            "cancel_url": cancel_url,
            "expires_at": expires_at,
        },
        _options(account, idempotency_key),
    )


def checkout_session_retrieve(*, account: str, session_id: str) -> stripe.checkout.Session:
    return client().v1.checkout.sessions.retrieve(session_id, options=_options(account))


def checkout_session_expire(*, account: str, session_id: str) -> stripe.checkout.Session:
    return client().v1.checkout.sessions.expire(session_id, options=_options(account))


def payment_intent_retrieve(*, account: str, payment_intent_id: str) -> stripe.PaymentIntent:
    return client().v1.payment_intents.retrieve(
        payment_intent_id, {"expand": ["latest_charge"]}, _options(account)
    )


def payment_intent_capture(
    *, account: str, payment_intent_id: str, amount: Decimal, idempotency_key: str
) -> stripe.PaymentIntent:
    return client().v1.payment_intents.capture(
        payment_intent_id, {"amount_to_capture": cents(amount)}, _options(account, idempotency_key)
    )


def payment_intent_cancel(
    *, account: str, payment_intent_id: str, idempotency_key: str
) -> stripe.PaymentIntent:
    return client().v1.payment_intents.cancel(
        payment_intent_id,
        {"cancellation_reason": "requested_by_customer"},
        _options(account, idempotency_key),
    )


def refund_create(
    *, account: str, payment_intent_id: str, amount: Decimal, idempotency_key: str, metadata: dict[str, str]
) -> stripe.Refund:
    return client().v1.refunds.create(
        {
            "payment_intent": payment_intent_id,
            "amount": cents(amount),
            "reason": "requested_by_customer",
            "metadata": metadata,
        },
        _options(account, idempotency_key),
    )


def refunds_list(*, account: str, payment_intent_id: str) -> list[stripe.Refund]:
    page = client().v1.refunds.list({"payment_intent": payment_intent_id, "limit": 100}, _options(account))
    return list(page.data)


# Connect transfers, reversals; the balance and payouts ------------------------------------------------------


def transfer_create(
    *,
    amount: Decimal,
    destination: str,
    transfer_group: str,
    description: str,
    metadata: dict[str, str],
    idempotency_key: str,
) -> stripe.Transfer:
    """Money from the platform's balance to a connected account (a producer's, or the collective's)."""
    return client().v1.transfers.create(
        {
            "amount": cents(amount),
            "currency": "eur",
            "destination": destination,
            "transfer_group": transfer_group,
            "description": description,
            "metadata": metadata,
        },
        {"idempotency_key": idempotency_key},
    )


def transfer_retrieve(transfer_id: str) -> stripe.Transfer:
    return client().v1.transfers.retrieve(transfer_id)


def transfer_reversal_create(
    *, transfer_id: str, amount: Decimal, metadata: dict[str, str], idempotency_key: str
) -> stripe.TransferReversal:
    return client().v1.transfers.reversals.create(
        transfer_id, {"amount": cents(amount), "metadata": metadata}, {"idempotency_key": idempotency_key}
    )


def balance_transactions(*, account: str, created_from: int, created_to: int) -> list[dict]:
    """Every balance transaction of an account ("": the platform) created in [from, to), with its source
    object expanded (a charge, a refund, a transfer, a payout…), as plain dicts."""
    page = client().v1.balance_transactions.list(
        {
            "created": {"gte": created_from, "lt": created_to},
            "limit": 100,
            "expand": ["data.source"],
        },
        _options(account),
    )
    return [item.to_dict() for item in page.auto_paging_iter()]


def payouts(*, account: str, created_from: int, created_to: int) -> list[dict]:
    page = client().v1.payouts.list(
        {"created": {"gte": created_from, "lt": created_to}, "limit": 100}, _options(account)
    )
    return [item.to_dict() for item in page.auto_paging_iter()]


# Webhooks ---------------------------------------------------------------------------------------------------


def event_construct(*, payload: bytes, signature: str) -> stripe.Event:
    """The event, if its signature matches one of our endpoint secrets; SignatureError otherwise."""
    if not signature or not settings.STRIPE_WEBHOOK_SECRETS:
        raise SignatureError("missing signature", signature)
    if not signature.isascii():  # hmac.compare_digest raises TypeError on a non-ASCII str
        raise SignatureError("malformed signature", signature)
    error: Exception | None = None
    for secret in settings.STRIPE_WEBHOOK_SECRETS:
        try:
            return stripe.Webhook.construct_event(payload, signature, secret)
        except SignatureError as exc:
            error = exc
    raise error  # type: ignore[misc]
