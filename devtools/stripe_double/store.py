"""State and rules of the Stripe double: every object, every transition, every event.

Objects are plain dicts shaped like Stripe's, kept in one table by id. `owner` remembers which connected
account (or None for the platform) each object belongs to. Every public method runs under one lock, so
a request and its events happen atomically, as they appear to from outside Stripe.
"""

from __future__ import annotations

import copy
import json
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ALPHABET = string.ascii_letters + string.digits
MIN_AMOUNT = 50
SESSION_MIN_LIFETIME = 30 * 60
SESSION_MAX_LIFETIME = 24 * 60 * 60
ACCOUNT_LINK_LIFETIME = 300
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
# Stripe's standard pricing for European cards, as the double charges it on every captured charge.
FEE_PERCENT = 1.5
FEE_FIXED = 25
REPORTING_CATEGORIES = {
    "charge": "charge",
    "refund": "refund",
    "transfer": "transfer",
    "transfer_refund": "transfer_reversal",
    "payment": "charge",
    "payment_refund": "refund",
    "payout": "payout",
}

# Stripe's test cards that the hosted page knows; any other Luhn-valid number is accepted.
TEST_CARDS = {
    "4242424242424242": "success",
    "4000000000000002": "declined",
    "4000002500003155": "authenticate",
}
DECLINE_MESSAGE = "Your card was declined."
AUTHENTICATION_FAILURE_MESSAGE = (
    "The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new "
    "PaymentMethod to attempt to fulfill this PaymentIntent again."
)

SESSION_PARAMS = {
    "mode", "line_items", "payment_intent_data", "metadata", "client_reference_id", "customer_email",
    "success_url", "cancel_url", "expires_at", "locale", "payment_method_types", "customer",
    "customer_creation", "submit_type", "billing_address_collection", "phone_number_collection",
    "allow_promotion_codes", "custom_text", "consent_collection", "ui_mode", "expand",
}  # fmt: skip
ACCOUNT_PARAMS = {
    "type", "country", "email", "metadata", "capabilities", "business_type", "business_profile",
    "controller", "default_currency", "settings", "tos_acceptance", "expand",
}  # fmt: skip


def _api_version() -> str:
    """Events carry the API version the installed library speaks; the double itself needs no library."""
    try:
        import stripe
    except ImportError:
        return "2026-10-28.endive"
    return stripe.api_version


API_VERSION = _api_version()


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(ALPHABET) for _ in range(length))


def now() -> int:
    return int(time.time())


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for position, digit in enumerate(int(c) for c in reversed(number)):
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


class StripeError(Exception):
    """An error answered in Stripe's shape: {"error": {"type", "code", "message", "param", ...}}."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",  # noqa: A002 - Stripe's field name
        code: str | None = None,
        param: str | None = None,
        **extra: Any,
    ):
        super().__init__(message)
        self.status = status
        self.error = {"type": type, "message": message}
        if code:
            self.error["code"] = code
            self.error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
        if param:
            self.error["param"] = param
        self.error.update(extra)

    def body(self) -> dict:
        return {"error": self.error}


def missing(param: str) -> StripeError:
    return StripeError(400, f"Missing required param: {param}.", code="parameter_missing", param=param)


def invalid(param: str, message: str, code: str = "parameter_invalid_empty") -> StripeError:
    return StripeError(400, message, code=code, param=param)


def _integer(params: dict, name: str, *, label: str | None = None) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeError(
            400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=label or name
        ) from None


def _metadata(params: dict, param: str = "metadata") -> dict:
    value = params.get(param)
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise StripeError(400, "Invalid object", param=param)
    if len(value) > 50:
        raise StripeError(400, "Invalid metadata: metadata can have at most 50 keys.", param=param)
    for key, item in value.items():
        if len(key) > 40 or len(str(item)) > 500:
            raise StripeError(
                400, "Metadata keys are limited to 40 characters and values to 500 characters.", param=param
            )
    return {key: str(item) for key, item in value.items() if item != ""}


def _created_matches(obj: dict, created) -> bool:
    """Stripe's `created` filter: an exact timestamp or a dict of gt/gte/lt/lte."""
    if created in (None, ""):
        return True
    if not isinstance(created, dict):
        return obj["created"] == int(created)
    checks = {
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
    }
    return all(checks[op](obj["created"], int(value)) for op, value in created.items() if op in checks)


def _reject_unknown(params: dict, allowed: set[str]) -> None:
    for name in params:
        if name not in allowed:
            raise StripeError(
                400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name
            )


def _url(params: dict, name: str, *, required: bool) -> str | None:
    value = params.get(name)
    if not value:
        if required:
            raise missing(name)
        return None
    if not str(value).startswith(("http://", "https://")):
        raise StripeError(400, "Not a valid URL", code="url_invalid", param=name)
    return value


@dataclass(frozen=True)
class Ctx:
    """Who is asking: the connected account of the Stripe-Account header, and the request's ids."""

    account: str | None = None
    request_id: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class PayOutcome:
    """What the hosted page shows after a submission."""

    result: str  # "paid", "declined", "authenticate", "invalid", "closed"
    redirect: str | None = None
    message: str | None = None


class Store:
    def __init__(self, emit: Callable[[dict], None], public_url: Callable[[], str]):
        self.lock = threading.RLock()
        self._emit_hook = emit
        self._public_url = public_url
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.objects: dict[str, dict] = {}
            self.owner: dict[str, str | None] = {}
            self.line_items: dict[str, list[dict]] = {}  # session id → Stripe "item" objects
            self.intent_data: dict[str, dict] = {}  # session id → its payment_intent_data
            self.session_of: dict[str, str] = {}  # payment intent id → session id
            self.pending_cards: dict[str, str] = {}  # payment intent id → card awaiting 3-D Secure
            self.links: dict[str, dict] = {}  # onboarding token → account link details
            self.idempotency: dict[tuple, tuple] = {}  # (account, key) → (fingerprint, status, body)
            self.events: list[dict] = []

    _STATE = (
        "objects",
        "owner",
        "line_items",
        "intent_data",
        "session_of",
        "pending_cards",
        "links",
        "events",
    )

    def state(self) -> dict:
        """Everything the double knows, as JSON data (`make dev` keeps it between runs)."""
        with self.lock:
            data = {name: getattr(self, name) for name in self._STATE}
            data["idempotency"] = [
                [list(slot), [saved[0], saved[1], saved[2].decode(), saved[3]]]
                for slot, saved in self.idempotency.items()
            ]
            return json.loads(json.dumps(data))

    def restore(self, data: dict) -> None:
        with self.lock:
            self.reset()
            for name in self._STATE:
                if name in data:
                    setattr(self, name, data[name])
            self.idempotency = {
                tuple(slot): (saved[0], saved[1], saved[2].encode(), saved[3])
                for slot, saved in data.get("idempotency", [])
            }

    # ------------------------------------------------------------------ plumbing

    def _add(self, obj: dict, owner: str | None) -> dict:
        self.objects[obj["id"]] = obj
        self.owner[obj["id"]] = owner
        return obj

    def _get(self, kind: str, object_id: str, ctx: Ctx, *, param: str = "id") -> dict:
        obj = self.objects.get(object_id)
        visible = obj is not None and obj["object"] == kind and self.owner[object_id] == ctx.account
        if kind == "account" and obj is not None and ctx.account == object_id:
            visible = True
        if not visible:
            raise StripeError(404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param)
        return obj

    def _emit(self, type_: str, obj: dict, ctx: Ctx, previous: dict | None = None) -> dict:
        account = obj["id"] if obj["object"] == "account" else self.owner.get(obj["id"])
        event = {
            "id": new_id("evt_"),
            "object": "event",
            "api_version": API_VERSION,
            "created": now(),
            "data": {"object": copy.deepcopy(obj)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": ctx.request_id, "idempotency_key": ctx.idempotency_key},
            "type": type_,
        }
        if previous is not None:
            event["data"]["previous_attributes"] = previous
        if account:
            event["account"] = account
        self._add(event, account)
        self.events.append(event)
        self._emit_hook(event)
        return event

    def account_exists(self, account_id: str) -> bool:
        obj = self.objects.get(account_id)
        return obj is not None and obj["object"] == "account"

    def _render(self, obj: dict, params: dict, ctx: Ctx) -> dict:
        """A copy of the object with the requested `expand` paths replaced by the objects they name."""
        result = copy.deepcopy(obj)
        expand = params.get("expand") or []
        for path in expand if isinstance(expand, list) else [expand]:
            self._expand(result, path.split("."), path, ctx)
        return result

    def _expand(self, node: dict, parts: list[str], path: str, ctx: Ctx) -> None:
        field = parts[0]
        if node.get("object") == "checkout.session" and field == "line_items":
            node[field] = self._items_list(node["id"])
        elif isinstance(node.get(field), str) and node[field] in self.objects:
            target = node[field]
            if self.owner[target] != ctx.account:
                raise StripeError(404, f"No such object: '{target}'", code="resource_missing", param="expand")
            node[field] = copy.deepcopy(self.objects[target])
        elif field not in node:
            raise StripeError(400, f"This property cannot be expanded ({path}).", param="expand")
        if len(parts) > 1 and isinstance(node[field], dict):
            self._expand(node[field], parts[1:], path, ctx)

    # ------------------------------------------------------------------ accounts

    def account_create(self, params: dict, ctx: Ctx) -> dict:
        with self.lock:
            _reject_unknown(params, ACCOUNT_PARAMS)
            account_type = params.get("type") or "standard"
            if account_type not in ("standard", "express", "custom"):
                raise StripeError(
                    400, f"Invalid type: {account_type}", code="parameter_invalid", param="type"
                )
            requested = params.get("capabilities") or {}
            capabilities = dict.fromkeys(requested or ("card_payments", "transfers"), "inactive")
            account = {
                "id": new_id("acct_", 16),
                "object": "account",
                "business_type": params.get("business_type"),
                "business_profile": {"name": None, "url": None, **(params.get("business_profile") or {})},
                "capabilities": capabilities,
                "charges_enabled": False,
                "country": (params.get("country") or "FR").upper(),
                "created": now(),
                "default_currency": params.get("default_currency") or "eur",
                "details_submitted": False,
                "email": params.get("email"),
                "metadata": _metadata(params),
                "payouts_enabled": False,
                "requirements": {
                    "currently_due": ["business_profile.url", "external_account", "tos_acceptance.date"],
                    "disabled_reason": "requirements.past_due",
                    "eventually_due": [],
                    "past_due": ["business_profile.url", "external_account", "tos_acceptance.date"],
                },
                "type": account_type,
            }
            self._add(account, None)
            return self._render(account, params, ctx)

    def account_retrieve(self, params: dict, ctx: Ctx, account_id: str) -> dict:
        with self.lock:
            return self._render(self._get("account", account_id, ctx), params, ctx)

    def account_link_create(self, params: dict, ctx: Ctx) -> dict:
        with self.lock:
            _reject_unknown(params, {"account", "type", "refresh_url", "return_url", "collect", "expand"})
            for name in ("account", "type"):
                if not params.get(name):
                    raise missing(name)
            self._get("account", params["account"], Ctx(), param="account")
            if params["type"] not in ("account_onboarding", "account_update"):
                raise StripeError(
                    400, f"Invalid type: {params['type']}", code="parameter_invalid", param="type"
                )
            refresh_url = _url(params, "refresh_url", required=True)
            return_url = _url(params, "return_url", required=True)
            token = new_id("", 32)
            created = now()
            self.links[token] = {
                "account": params["account"],
                "refresh_url": refresh_url,
                "return_url": return_url,
                "expires_at": created + ACCOUNT_LINK_LIFETIME,
                "used": False,
            }
            return {
                "object": "account_link",
                "created": created,
                "expires_at": created + ACCOUNT_LINK_LIFETIME,
                "url": f"{self._public_url()}/connect/onboarding/{token}",
            }

    def link(self, token: str) -> dict | None:
        """The onboarding link behind a token, with its account, or None when unknown."""
        with self.lock:
            link = self.links.get(token)
            if link is None:
                return None
            return {**link, "account_object": copy.deepcopy(self.objects[link["account"]])}

    def onboarding_complete(self, token: str) -> str | None:
        """Submit the onboarding form: returns where to redirect (return_url, or refresh_url when the link
        expired or was already used, as Stripe does), None for an unknown token."""
        with self.lock:
            link = self.links.get(token)
            if link is None:
                return None
            if link["used"] or link["expires_at"] < now():
                return link["refresh_url"]
            link["used"] = True
            self.account_activate(link["account"])
            return link["return_url"]

    def account_activate(self, account_id: str) -> dict:
        with self.lock:
            account = self.objects[account_id]
            previous = {
                "capabilities": dict(account["capabilities"]),
                "charges_enabled": account["charges_enabled"],
                "details_submitted": account["details_submitted"],
                "payouts_enabled": account["payouts_enabled"],
            }
            account["capabilities"] = dict.fromkeys(account["capabilities"], "active")
            account.update(charges_enabled=True, details_submitted=True, payouts_enabled=True)
            account["requirements"].update(currently_due=[], past_due=[], disabled_reason=None)
            self._emit("account.updated", account, Ctx(), previous)
            return copy.deepcopy(account)

    # ------------------------------------------------------------------ checkout sessions

    def session_create(self, params: dict, ctx: Ctx) -> dict:
        with self.lock:
            _reject_unknown(params, SESSION_PARAMS)
            if not params.get("mode"):
                raise missing("mode")
            if params["mode"] != "payment":
                raise StripeError(400, "The Stripe double only supports mode=payment.", param="mode")
            if ctx.account and not self.objects[ctx.account]["charges_enabled"]:
                raise StripeError(
                    400,
                    f"Your account cannot currently make charges: {ctx.account} has charges_enabled=false. "
                    "Finish onboarding (look at requirements.disabled_reason on the account).",
                    code="account_invalid",
                )
            items = self._line_items(params.get("line_items"))
            currency = items[0]["currency"]
            total = sum(item["amount_total"] for item in items)
            if total < MIN_AMOUNT:
                raise StripeError(
                    400,
                    "The Checkout Session's total amount due must add up to at least €0.50 eur",
                    code="amount_too_small",
                )
            created = now()
            expires_at = _integer(params, "expires_at")
            if expires_at is None:
                expires_at = created + SESSION_MAX_LIFETIME
            elif expires_at < created + SESSION_MIN_LIFETIME:
                raise StripeError(
                    400,
                    "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
                    param="expires_at",
                )
            elif expires_at > created + SESSION_MAX_LIFETIME:
                raise StripeError(
                    400,
                    "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
                    param="expires_at",
                )
            intent_data = params.get("payment_intent_data") or {}
            if not isinstance(intent_data, dict):
                raise StripeError(400, "Invalid object", param="payment_intent_data")
            capture_method = intent_data.get("capture_method") or "automatic"
            if capture_method not in CAPTURE_METHODS:
                raise StripeError(
                    400,
                    "Invalid payment_intent_data[capture_method]: must be one of "
                    + ", ".join(CAPTURE_METHODS),
                    code="parameter_invalid",
                    param="payment_intent_data[capture_method]",
                )
            session_id = new_id("cs_test_", 58)
            session = {
                "id": session_id,
                "object": "checkout.session",
                "amount_subtotal": total,
                "amount_total": total,
                "cancel_url": _url(params, "cancel_url", required=False),
                "client_reference_id": params.get("client_reference_id") or None,
                "created": created,
                "currency": currency,
                "customer": params.get("customer") or None,
                "customer_details": None,
                "customer_email": params.get("customer_email") or None,
                "expires_at": expires_at,
                "livemode": False,
                "locale": params.get("locale") or None,
                "metadata": _metadata(params),
                "mode": "payment",
                "payment_intent": None,
                "payment_method_types": ["card"],
                "payment_status": "unpaid",
                "status": "open",
                "success_url": _url(params, "success_url", required=True),
                "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
                "url": f"{self._public_url()}/c/pay/{session_id}",
            }
            self._add(session, ctx.account)
            self.line_items[session_id] = items
            self.intent_data[session_id] = {
                "capture_method": capture_method,
                "description": intent_data.get("description") or None,
                "metadata": _metadata(intent_data),
                "receipt_email": intent_data.get("receipt_email") or None,
                "transfer_group": intent_data.get("transfer_group") or None,
            }
            return self._render(session, params, ctx)

    def _line_items(self, raw: Any) -> list[dict]:
        if not raw:
            raise missing("line_items")
        if not isinstance(raw, list):
            raise StripeError(400, "Invalid array", param="line_items")
        items = []
        for index, line in enumerate(raw):
            where = f"line_items[{index}]"
            if not isinstance(line, dict):
                raise StripeError(400, "Invalid object", param=where)
            if "price" in line:
                raise StripeError(
                    400, "The Stripe double knows no Price objects: use price_data.", param=where
                )
            price_data = line.get("price_data")
            if not isinstance(price_data, dict):
                raise missing(f"{where}[price_data]")
            if not price_data.get("currency"):
                raise missing(f"{where}[price_data][currency]")
            unit_amount = _integer(price_data, "unit_amount", label=f"{where}[price_data][unit_amount]")
            if unit_amount is None:
                raise missing(f"{where}[price_data][unit_amount]")
            if unit_amount < 0:
                raise invalid(
                    f"{where}[price_data][unit_amount]", "This value must be greater than or equal to 0."
                )
            product_data = price_data.get("product_data")
            if not isinstance(product_data, dict) or not product_data.get("name"):
                raise missing(f"{where}[price_data][product_data][name]")
            quantity = _integer(line, "quantity", label=f"{where}[quantity]")
            if quantity is None:
                raise missing(f"{where}[quantity]")
            if quantity < 1:
                raise invalid(f"{where}[quantity]", "This value must be greater than or equal to 1.")
            currency = price_data["currency"].lower()
            if items and currency != items[0]["currency"]:
                raise StripeError(400, "Checkout does not support multiple currencies.", param=where)
            amount = unit_amount * quantity
            items.append(
                {
                    "id": new_id("li_"),
                    "object": "item",
                    "amount_discount": 0,
                    "amount_subtotal": amount,
                    "amount_tax": 0,
                    "amount_total": amount,
                    "currency": currency,
                    "description": product_data["name"],
                    "price": {
                        "id": new_id("price_"),
                        "object": "price",
                        "active": False,
                        "currency": currency,
                        "product": new_id("prod_", 14),
                        "type": "one_time",
                        "unit_amount": unit_amount,
                    },
                    "quantity": quantity,
                }
            )
        return items

    def _items_list(self, session_id: str) -> dict:
        return {
            "object": "list",
            "data": copy.deepcopy(self.line_items[session_id]),
            "has_more": False,
            "url": f"/v1/checkout/sessions/{session_id}/line_items",
        }

    def session_retrieve(self, params: dict, ctx: Ctx, session_id: str) -> dict:
        with self.lock:
            return self._render(self._get("checkout.session", session_id, ctx), params, ctx)

    def session_line_items(self, params: dict, ctx: Ctx, session_id: str) -> dict:
        with self.lock:
            self._get("checkout.session", session_id, ctx)
            return self._items_list(session_id)

    def session_expire(self, params: dict, ctx: Ctx, session_id: str) -> dict:
        with self.lock:
            session = self._get("checkout.session", session_id, ctx)
            if session["status"] != "open":
                raise StripeError(
                    400,
                    'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session '
                    f'has a status of "{session["status"]}".',
                )
            self._session_expire(session, ctx)
            return self._render(session, params, ctx)

    def _session_expire(self, session: dict, ctx: Ctx) -> None:
        intent_id = session["payment_intent"]
        if intent_id and self.objects[intent_id]["status"] in ("requires_payment_method", "requires_action"):
            self._intent_cancel(self.objects[intent_id], "abandoned", ctx)
        session.update(status="expired", url=None)
        self._emit("checkout.session.expired", session, ctx)

    def expire_due(self) -> int:
        """Expire the open sessions whose expires_at has passed (Stripe does it by itself)."""
        with self.lock:
            due = [
                obj
                for obj in self.objects.values()
                if obj["object"] == "checkout.session"
                and obj["status"] == "open"
                and obj["expires_at"] <= now()
            ]
            for session in due:
                self._session_expire(session, Ctx(account=self.owner[session["id"]]))
            return len(due)

    def session_expire_now(self, session_id: str) -> dict:
        """Test helper: what happens at expires_at, whoever owns the session."""
        with self.lock:
            self._page_session(session_id)
            return self.session_expire({}, Ctx(account=self.owner[session_id]), session_id)

    # ------------------------------------------------------------------ the hosted page

    def _page_session(self, session_id: str) -> dict:
        obj = self.objects.get(session_id)
        if obj is None or obj["object"] != "checkout.session":
            raise StripeError(404, f"No such checkout.session: '{session_id}'", code="resource_missing")
        return obj

    def page_view(self, session_id: str) -> tuple[dict, list[dict]] | None:
        """The session and its line items as the hosted page shows them, or None when unknown."""
        with self.lock:
            session = self.objects.get(session_id)
            if session is None or session["object"] != "checkout.session":
                return None
            return copy.deepcopy(session), copy.deepcopy(self.line_items[session_id])

    def awaiting_authentication(self, session_id: str) -> bool:
        with self.lock:
            intent_id = self.objects[session_id]["payment_intent"]
            return bool(intent_id) and self.objects[intent_id]["status"] == "requires_action"

    def session_pay(self, session_id: str, card: str, email: str = "", name: str = "") -> PayOutcome:
        with self.lock:
            session = self._page_session(session_id)
            if session["status"] != "open":
                return PayOutcome("closed")
            intent = self.objects.get(session["payment_intent"] or "")
            if intent is not None and intent["status"] == "requires_action":
                return PayOutcome("authenticate")
            number = "".join(card.split())
            if not luhn_valid(number):
                return PayOutcome("invalid", message="Numéro de carte invalide.")
            ctx = Ctx(account=self.owner[session_id])
            intent = self._session_intent(session, email, ctx)
            session["customer_details"] = {
                "address": None,
                "email": email or session["customer_email"],
                "name": name or None,
                "phone": None,
                "tax_exempt": "none",
                "tax_ids": [],
            }
            behaviour = TEST_CARDS.get(number, "success")
            intent["payment_method"] = new_id("pm_")
            intent["last_payment_error"] = None
            if behaviour == "declined":
                self._decline(intent, number, ctx)
                return PayOutcome("declined", message="Votre carte a été refusée.")
            if behaviour == "authenticate":
                intent["status"] = "requires_action"
                intent["next_action"] = {
                    "type": "redirect_to_url",
                    "redirect_to_url": {
                        "return_url": session["url"],
                        "url": f"{session['url']}/3ds",
                    },
                }
                self.pending_cards[intent["id"]] = number
                self._emit("payment_intent.requires_action", intent, ctx)
                return PayOutcome("authenticate")
            return PayOutcome("paid", redirect=self._succeed(session, intent, number, ctx))

    def session_authenticate(self, session_id: str, succeed: bool) -> PayOutcome:
        with self.lock:
            session = self._page_session(session_id)
            if session["status"] != "open":
                return PayOutcome("closed")
            intent = self.objects.get(session["payment_intent"] or "")
            if intent is None or intent["status"] != "requires_action":
                return PayOutcome("invalid", message="Aucune authentification n'est en attente.")
            ctx = Ctx(account=self.owner[session_id])
            number = self.pending_cards.pop(intent["id"])
            intent["next_action"] = None
            if succeed:
                return PayOutcome("paid", redirect=self._succeed(session, intent, number, ctx))
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = {
                "type": "invalid_request_error",
                "code": "payment_intent_authentication_failure",
                "doc_url": "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
                "message": AUTHENTICATION_FAILURE_MESSAGE,
                "payment_method": {
                    "id": intent["payment_method"],
                    "object": "payment_method",
                    "type": "card",
                },
            }
            self._emit("payment_intent.payment_failed", intent, ctx)
            return PayOutcome("declined", message="L'authentification de la carte a échoué.")

    def _session_intent(self, session: dict, email: str, ctx: Ctx) -> dict:
        """The session's PaymentIntent: created at the first confirmation, reused after a failure."""
        if session["payment_intent"]:
            return self.objects[session["payment_intent"]]
        data = self.intent_data[session["id"]]
        intent = {
            "id": new_id("pi_"),
            "object": "payment_intent",
            "amount": session["amount_total"],
            "amount_capturable": 0,
            "amount_received": 0,
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": data["capture_method"],
            "client_secret": None,
            "confirmation_method": "automatic",
            "created": now(),
            "currency": session["currency"],
            "customer": session["customer"],
            "description": data["description"],
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": dict(data["metadata"]),
            "next_action": None,
            "payment_method": None,
            "payment_method_types": ["card"],
            "receipt_email": data["receipt_email"] or email or None,
            "status": "requires_payment_method",
            "transfer_group": data.get("transfer_group"),
        }
        intent["client_secret"] = f"{intent['id']}_secret_{new_id('', 25)}"
        self._add(intent, ctx.account)
        self.session_of[intent["id"]] = session["id"]
        session["payment_intent"] = intent["id"]
        self._emit("payment_intent.created", intent, ctx)
        return intent

    def _charge(self, intent: dict, number: str, *, succeeded: bool, session: dict) -> dict:
        captured = succeeded and intent["capture_method"] != "manual"
        details = session["customer_details"] or {}
        charge = {
            "id": new_id("ch_"),
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": intent["amount"] if captured else 0,
            "amount_refunded": 0,
            "balance_transaction": None,
            "billing_details": {"email": details.get("email"), "name": details.get("name")},
            "captured": captured,
            "created": now(),
            "currency": intent["currency"],
            "description": intent["description"],
            "failure_code": None if succeeded else "card_declined",
            "failure_message": None if succeeded else DECLINE_MESSAGE,
            "livemode": False,
            "metadata": dict(intent["metadata"]),
            "outcome": {
                "network_status": "approved_by_network" if succeeded else "declined_by_network",
                "reason": None if succeeded else "generic_decline",
                "risk_level": "normal",
                "seller_message": "Payment complete."
                if succeeded
                else "The bank did not return any further details with this decline.",
                "type": "authorized" if succeeded else "issuer_declined",
            },
            "paid": succeeded,
            "payment_intent": intent["id"],
            "payment_method": intent["payment_method"],
            "payment_method_details": {
                "type": "card",
                "card": {"brand": "visa", "country": "FR", "funding": "credit", "last4": number[-4:]},
            },
            "receipt_email": intent["receipt_email"],
            "refunded": False,
            "status": "succeeded" if succeeded else "failed",
            "transfer_group": intent.get("transfer_group"),
        }
        self._add(charge, self.owner[intent["id"]])
        if captured:
            charge["balance_transaction"] = self._charge_balance(charge, intent["amount"])
        return charge

    def _decline(self, intent: dict, number: str, ctx: Ctx) -> None:
        session = self.objects[self.session_of[intent["id"]]]
        charge = self._charge(intent, number, succeeded=False, session=session)
        intent["latest_charge"] = charge["id"]
        intent["status"] = "requires_payment_method"
        intent["last_payment_error"] = {
            "type": "card_error",
            "charge": charge["id"],
            "code": "card_declined",
            "decline_code": "generic_decline",
            "doc_url": "https://stripe.com/docs/error-codes/card-declined",
            "message": DECLINE_MESSAGE,
            "payment_method": {"id": intent["payment_method"], "object": "payment_method", "type": "card"},
        }
        self._emit("charge.failed", charge, ctx)
        self._emit("payment_intent.payment_failed", intent, ctx)

    def _succeed(self, session: dict, intent: dict, number: str, ctx: Ctx) -> str:
        charge = self._charge(intent, number, succeeded=True, session=session)
        intent["latest_charge"] = charge["id"]
        intent["last_payment_error"] = None
        if intent["capture_method"] == "manual":
            intent.update(status="requires_capture", amount_capturable=intent["amount"])
            self._emit("payment_intent.amount_capturable_updated", intent, ctx)
        else:
            intent.update(status="succeeded", amount_received=intent["amount"])
            self._emit("payment_intent.succeeded", intent, ctx)
        self._emit("charge.succeeded", charge, ctx)
        paid = intent["status"] == "succeeded"
        session.update(status="complete", payment_status="paid" if paid else "unpaid", url=None)
        self._emit("checkout.session.completed", session, ctx)
        return session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])

    # ------------------------------------------------------------------ payment intents and charges

    def intent_retrieve(self, params: dict, ctx: Ctx, intent_id: str) -> dict:
        with self.lock:
            return self._render(self._get("payment_intent", intent_id, ctx), params, ctx)

    def charge_retrieve(self, params: dict, ctx: Ctx, charge_id: str) -> dict:
        with self.lock:
            return self._render(self._get("charge", charge_id, ctx), params, ctx)

    def intent_capture(self, params: dict, ctx: Ctx, intent_id: str) -> dict:
        with self.lock:
            _reject_unknown(params, {"amount_to_capture", "metadata", "expand", "final_capture"})
            intent = self._get("payment_intent", intent_id, ctx)
            if intent["status"] != "requires_capture":
                raise StripeError(
                    400,
                    "This PaymentIntent could not be captured because it has a status of "
                    f"{intent['status']}. Only a PaymentIntent with one of the following statuses may be "
                    "captured: requires_capture.",
                    code="payment_intent_unexpected_state",
                    payment_intent=intent,
                )
            amount = _integer(params, "amount_to_capture")
            if amount is None:
                amount = intent["amount_capturable"]
            if amount > intent["amount_capturable"]:
                raise StripeError(
                    400,
                    "The amount to capture must be less than or equal to the amount capturable "
                    f"({intent['amount_capturable']}).",
                    code="amount_too_large",
                    param="amount_to_capture",
                )
            if amount < MIN_AMOUNT:
                raise StripeError(
                    400,
                    "Amount must be at least €0.50 eur",
                    code="amount_too_small",
                    param="amount_to_capture",
                )
            intent["metadata"].update(_metadata(params))
            intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
            charge = self.objects[intent["latest_charge"]]
            # Stripe shows the part that was not captured as refunded, without a Refund object.
            charge.update(
                amount_captured=amount,
                amount_refunded=charge["amount"] - amount,
                balance_transaction=self._charge_balance(charge, amount),
                captured=True,
            )
            self._emit("payment_intent.succeeded", intent, ctx)
            self._emit("charge.captured", charge, ctx)
            return self._render(intent, params, ctx)

    def intent_cancel(self, params: dict, ctx: Ctx, intent_id: str) -> dict:
        with self.lock:
            _reject_unknown(params, {"cancellation_reason", "expand"})
            intent = self._get("payment_intent", intent_id, ctx)
            reason = params.get("cancellation_reason") or None
            if reason is not None and reason not in CANCELLATION_REASONS:
                raise StripeError(
                    400,
                    f"Invalid cancellation_reason: must be one of {', '.join(CANCELLATION_REASONS)}",
                    code="parameter_invalid",
                    param="cancellation_reason",
                )
            cancellable = (
                "requires_payment_method",
                "requires_capture",
                "requires_confirmation",
                "requires_action",
            )
            if intent["status"] not in cancellable:
                raise StripeError(
                    400,
                    f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}. "
                    f"Only a PaymentIntent with one of the following statuses may be canceled: "
                    f"{', '.join(cancellable)}.",
                    code="payment_intent_unexpected_state",
                )
            session = self.objects.get(self.session_of.get(intent_id, ""))
            if session is not None and session["status"] == "open":
                raise StripeError(
                    400,
                    "You cannot cancel this PaymentIntent because it belongs to an open Checkout Session. "
                    "Expire the Checkout Session instead.",
                    code="payment_intent_unexpected_state",
                )
            self._intent_cancel(intent, reason, ctx)
            return self._render(intent, params, ctx)

    def _intent_cancel(self, intent: dict, reason: str | None, ctx: Ctx) -> None:
        if intent["status"] == "requires_capture":
            # Releasing the authorisation: the uncaptured charge reads as fully refunded.
            charge = self.objects[intent["latest_charge"]]
            charge.update(amount_refunded=charge["amount"], refunded=True)
        self.pending_cards.pop(intent["id"], None)
        intent.update(
            status="canceled",
            cancellation_reason=reason,
            canceled_at=now(),
            amount_capturable=0,
            next_action=None,
        )
        self._emit("payment_intent.canceled", intent, ctx)

    # ------------------------------------------------------------------ refunds

    def refund_create(self, params: dict, ctx: Ctx) -> dict:
        with self.lock:
            _reject_unknown(params, {"payment_intent", "charge", "amount", "reason", "metadata", "expand"})
            if params.get("payment_intent"):
                intent = self._get("payment_intent", params["payment_intent"], ctx, param="payment_intent")
                if intent["status"] != "succeeded":
                    raise StripeError(
                        400,
                        f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                        code="charge_not_refundable",
                        param="payment_intent",
                    )
                charge = self.objects[intent["latest_charge"]]
            elif params.get("charge"):
                charge = self._get("charge", params["charge"], ctx, param="charge")
                if charge["status"] != "succeeded" or not charge["captured"]:
                    raise StripeError(
                        400,
                        f"Charge {charge['id']} has no captured amount to refund.",
                        code="charge_not_refundable",
                    )
            else:
                raise StripeError(
                    400,
                    "One of the following params should be provided for this request: "
                    "payment_intent or charge.",
                    code="parameter_missing",
                )
            refundable = charge["amount"] - charge["amount_refunded"]
            if refundable <= 0:
                raise StripeError(
                    400, f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
                )
            amount = _integer(params, "amount")
            if amount is None:
                amount = refundable
            if amount <= 0:
                raise invalid("amount", "Invalid positive integer", code="parameter_invalid_integer")
            if amount > refundable:
                raise StripeError(
                    400,
                    f"Refund amount ({amount / 100:.2f} €) is greater than unrefunded amount on charge "
                    f"({refundable / 100:.2f} €)",
                    code="amount_too_large",
                    param="amount",
                )
            reason = params.get("reason") or None
            if reason is not None and reason not in REFUND_REASONS:
                raise StripeError(
                    400,
                    "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
                    code="parameter_invalid",
                    param="reason",
                )
            refund = {
                "id": new_id("re_"),
                "object": "refund",
                "amount": amount,
                "balance_transaction": None,
                "charge": charge["id"],
                "created": now(),
                "currency": charge["currency"],
                "metadata": _metadata(params),
                "payment_intent": charge["payment_intent"],
                "reason": reason,
                "receipt_number": None,
                "status": "succeeded",
            }
            self._add(refund, ctx.account)
            refund["balance_transaction"] = self._balance(
                ctx.account, "refund", -amount, refund["id"], description="REFUND FOR CHARGE"
            )
            previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] == charge["amount"]
            self._emit("charge.refunded", charge, ctx, previous)
            self._emit("refund.created", refund, ctx)
            return self._render(refund, params, ctx)

    def refund_retrieve(self, params: dict, ctx: Ctx, refund_id: str) -> dict:
        with self.lock:
            return self._render(self._get("refund", refund_id, ctx), params, ctx)

    def refund_list(self, params: dict, ctx: Ctx) -> dict:
        with self.lock:
            refunds = [
                obj
                for obj in self.objects.values()
                if obj["object"] == "refund"
                and self.owner[obj["id"]] == ctx.account
                and params.get("payment_intent") in (None, obj["payment_intent"])
                and params.get("charge") in (None, obj["charge"])
            ]
            return self._list(refunds, params, "/v1/refunds")

    # ------------------------------------------------------------------ balance, transfers, payouts

    def _balance(
        self, account: str | None, type_: str, amount: int, source: str, *, fee: int = 0, description=None
    ) -> str:
        """A balance transaction on `account` (None: the platform), available at once in the double."""
        created = now()
        txn = {
            "id": new_id("txn_"),
            "object": "balance_transaction",
            "amount": amount,
            "available_on": created,
            "created": created,
            "currency": "eur",
            "description": description,
            "exchange_rate": None,
            "fee": fee,
            "fee_details": [
                {
                    "amount": fee,
                    "application": None,
                    "currency": "eur",
                    "description": "Stripe processing fees",
                    "type": "stripe_fee",
                }
            ]
            if fee
            else [],
            "net": amount - fee,
            "reporting_category": REPORTING_CATEGORIES.get(type_, type_),
            "source": source,
            "status": "available",
            "type": type_,
        }
        self._add(txn, account)
        return txn["id"]

    def _charge_balance(self, charge: dict, amount: int) -> str:
        fee = round(amount * FEE_PERCENT / 100) + FEE_FIXED
        return self._balance(
            self.owner[charge["id"]],
            "charge",
            amount,
            charge["id"],
            fee=fee,
            description=charge["description"],
        )

    def _available(self, account: str | None) -> int:
        return sum(
            obj["net"]
            for obj in self.objects.values()
            if obj["object"] == "balance_transaction" and self.owner[obj["id"]] == account
        )

    def balance_retrieve(self, params: dict, ctx: Ctx) -> dict:
        with self.lock:
            return {
                "object": "balance",
                "available": [{"amount": self._available(ctx.account), "currency": "eur"}],
                "livemode": False,
                "pending": [{"amount": 0, "currency": "eur"}],
            }

    def balance_transaction_retrieve(self, params: dict, ctx: Ctx, txn_id: str) -> dict:
        with self.lock:
            return self._render(self._get("balance_transaction", txn_id, ctx), params, ctx)

    def balance_transaction_list(self, params: dict, ctx: Ctx) -> dict:
        _reject_unknown(
            params,
            {
                "created",
                "currency",
                "ending_before",
                "expand",
                "limit",
                "payout",
                "source",
                "starting_after",
                "type",
            },
        )
        with self.lock:
            found = [
                obj
                for obj in self.objects.values()
                if obj["object"] == "balance_transaction"
                and self.owner[obj["id"]] == ctx.account
                and params.get("type") in (None, obj["type"])
                and params.get("source") in (None, obj["source"])
                and _created_matches(obj, params.get("created"))
            ]
            return self._list(found, params, "/v1/balance_transactions", ctx)

    def transfer_create(self, params: dict, ctx: Ctx) -> dict:
        with self.lock:
            _reject_unknown(
                params,
                {"amount", "currency", "description", "destination", "expand", "metadata",
                 "source_transaction", "source_type", "transfer_group"},
            )  # fmt: skip
            if ctx.account:
                raise StripeError(
                    400,
                    "Transfers can only be made from the platform account: remove the Stripe-Account header.",
                )
            for name in ("amount", "currency", "destination"):
                if not params.get(name):
                    raise missing(name)
            amount = _integer(params, "amount")
            if amount is None or amount <= 0:
                raise invalid("amount", "Invalid positive integer", code="parameter_invalid_integer")
            destination = self.objects.get(params["destination"])
            if destination is None or destination["object"] != "account":
                raise StripeError(
                    400,
                    f"No such destination: '{params['destination']}'",
                    code="resource_missing",
                    param="destination",
                )
            if (destination.get("capabilities") or {}).get("transfers") != "active":
                raise StripeError(
                    400,
                    "Your destination account needs to have at least one of the following capabilities "
                    "enabled: transfers, crypto_transfers, legacy_payments",
                    code="insufficient_capabilities_for_transfer",
                    param="destination",
                )
            transfer_id = new_id("tr_")
            payment_id = new_id("py_")
            transfer = {
                "id": transfer_id,
                "object": "transfer",
                "amount": amount,
                "amount_reversed": 0,
                "balance_transaction": None,
                "created": now(),
                "currency": params["currency"].lower(),
                "description": params.get("description") or None,
                "destination": destination["id"],
                "destination_payment": payment_id,
                "livemode": False,
                "metadata": _metadata(params),
                "reversals": {
                    "object": "list",
                    "data": [],
                    "has_more": False,
                    "total_count": 0,
                    "url": f"/v1/transfers/{transfer_id}/reversals",
                },
                "reversed": False,
                "source_transaction": params.get("source_transaction") or None,
                "source_type": "card",
                "transfer_group": params.get("transfer_group") or None,
            }
            self._add(transfer, None)
            transfer["balance_transaction"] = self._balance(
                None, "transfer", -amount, transfer_id, description=transfer["description"]
            )
            self._balance(destination["id"], "payment", amount, payment_id)
            self._emit("transfer.created", transfer, ctx)
            return self._render(transfer, params, ctx)

    def transfer_retrieve(self, params: dict, ctx: Ctx, transfer_id: str) -> dict:
        with self.lock:
            return self._render(self._get("transfer", transfer_id, ctx), params, ctx)

    def transfer_list(self, params: dict, ctx: Ctx) -> dict:
        with self.lock:
            found = [
                obj
                for obj in self.objects.values()
                if obj["object"] == "transfer"
                and self.owner[obj["id"]] == ctx.account
                and params.get("transfer_group") in (None, obj["transfer_group"])
                and params.get("destination") in (None, obj["destination"])
            ]
            return self._list(found, params, "/v1/transfers", ctx)

    def reversal_create(self, params: dict, ctx: Ctx, transfer_id: str) -> dict:
        with self.lock:
            _reject_unknown(params, {"amount", "description", "expand", "metadata", "refund_application_fee"})
            transfer = self._get("transfer", transfer_id, ctx)
            left = transfer["amount"] - transfer["amount_reversed"]
            amount = _integer(params, "amount")
            amount = left if amount is None else amount
            if amount <= 0:
                raise invalid("amount", "Invalid positive integer", code="parameter_invalid_integer")
            if amount > left:
                raise StripeError(
                    400,
                    f"You have requested a reversal of {amount} cents, but only {left} cents are left to "
                    "reverse on this transfer.",
                    code="amount_too_large",
                    param="amount",
                )
            reversal = {
                "id": new_id("trr_"),
                "object": "transfer_reversal",
                "amount": amount,
                "balance_transaction": None,
                "created": now(),
                "currency": transfer["currency"],
                "destination_payment_refund": new_id("pyr_"),
                "metadata": _metadata(params),
                "source_refund": None,
                "transfer": transfer["id"],
            }
            self._add(reversal, None)
            reversal["balance_transaction"] = self._balance(None, "transfer_refund", amount, reversal["id"])
            self._balance(
                transfer["destination"], "payment_refund", -amount, reversal["destination_payment_refund"]
            )
            previous = {"amount_reversed": transfer["amount_reversed"], "reversed": transfer["reversed"]}
            transfer["amount_reversed"] += amount
            transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
            transfer["reversals"]["data"].insert(0, copy.deepcopy(reversal))
            transfer["reversals"]["total_count"] += 1
            self._emit("transfer.reversed", transfer, ctx, previous)
            return self._render(reversal, params, ctx)

    def reversal_list(self, params: dict, ctx: Ctx, transfer_id: str) -> dict:
        with self.lock:
            self._get("transfer", transfer_id, ctx)
            found = [
                obj
                for obj in self.objects.values()
                if obj["object"] == "transfer_reversal" and obj["transfer"] == transfer_id
            ]
            return self._list(found, params, f"/v1/transfers/{transfer_id}/reversals", ctx)

    def payout_create(self, params: dict, ctx: Ctx) -> dict:
        """A payout to the bank: the double pays it at once (`payout.created`, then `payout.paid`)."""
        with self.lock:
            _reject_unknown(
                params,
                {"amount", "currency", "description", "expand", "metadata", "method", "statement_descriptor"},
            )
            for name in ("amount", "currency"):
                if not params.get(name):
                    raise missing(name)
            amount = _integer(params, "amount")
            if amount is None or amount <= 0:
                raise invalid("amount", "Invalid positive integer", code="parameter_invalid_integer")
            available = self._available(ctx.account)
            if amount > available:
                raise StripeError(
                    400,
                    "You have insufficient funds in your Stripe account for this transfer. Your card "
                    f"balance is too low ({available / 100:.2f} € available).",
                    code="balance_insufficient",
                )
            created = now()
            payout = {
                "id": new_id("po_"),
                "object": "payout",
                "amount": amount,
                "arrival_date": created,
                "automatic": False,
                "balance_transaction": None,
                "created": created,
                "currency": params["currency"].lower(),
                "description": params.get("description") or None,
                "destination": new_id("ba_"),
                "failure_code": None,
                "failure_message": None,
                "livemode": False,
                "metadata": _metadata(params),
                "method": params.get("method") or "standard",
                "source_type": "card",
                "statement_descriptor": params.get("statement_descriptor") or None,
                "status": "pending",
                "type": "bank_account",
            }
            self._add(payout, ctx.account)
            payout["balance_transaction"] = self._balance(ctx.account, "payout", -amount, payout["id"])
            self._emit("payout.created", payout, ctx)
            payout["status"] = "paid"
            self._emit("payout.paid", payout, ctx, {"status": "pending"})
            return self._render(payout, params, ctx)

    def payout_all(self, account: str | None) -> dict | None:
        """Test helper: pay out everything available on an account, as Stripe's daily schedule would."""
        with self.lock:
            available = self._available(account)
            if available <= 0:
                return None
            return self.payout_create({"amount": str(available), "currency": "eur"}, Ctx(account=account))

    def payout_retrieve(self, params: dict, ctx: Ctx, payout_id: str) -> dict:
        with self.lock:
            return self._render(self._get("payout", payout_id, ctx), params, ctx)

    def payout_list(self, params: dict, ctx: Ctx) -> dict:
        with self.lock:
            found = [
                obj
                for obj in self.objects.values()
                if obj["object"] == "payout"
                and self.owner[obj["id"]] == ctx.account
                and _created_matches(obj, params.get("created"))
            ]
            return self._list(found, params, "/v1/payouts", ctx)

    # ------------------------------------------------------------------ events

    def event_retrieve(self, params: dict, ctx: Ctx, event_id: str) -> dict:
        with self.lock:
            return self._render(self._get("event", event_id, ctx), params, ctx)

    def event_list(self, params: dict, ctx: Ctx) -> dict:
        with self.lock:
            events = [
                event
                for event in self.events
                if self.owner[event["id"]] == ctx.account and params.get("type") in (None, event["type"])
            ]
            return self._list(events, params, "/v1/events")

    def _list(self, objects: list[dict], params: dict, url: str, ctx: Ctx | None = None) -> dict:
        """A Stripe list, newest first (creation order stands in for `created`, equal within a second),
        paged with `starting_after`, with `expand[]=data.<field>`."""
        limit = _integer(params, "limit") or 10
        if not 1 <= limit <= 100:
            raise invalid("limit", "This value must be between 1 and 100.", code="parameter_invalid_integer")
        newest_first = list(reversed(objects))
        after = params.get("starting_after")
        if after:
            ids = [obj["id"] for obj in newest_first]
            if after not in ids:
                raise StripeError(
                    400, f"No such object: '{after}'", code="resource_missing", param="starting_after"
                )
            newest_first = newest_first[ids.index(after) + 1 :]
        expand = params.get("expand") or []
        paths = [
            path[5:]
            for path in (expand if isinstance(expand, list) else [expand])
            if path.startswith("data.")
        ]
        data = []
        for obj in newest_first[:limit]:
            data.append(self._render(obj, {"expand": paths}, ctx or Ctx()) if paths else copy.deepcopy(obj))
        return {
            "object": "list",
            "data": data,
            "has_more": len(newest_first) > limit,
            "url": url,
        }
