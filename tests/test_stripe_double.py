"""The Stripe double, driven as Étal drives Stripe: through the official `stripe` library, plus HTTP for the
pages a member or a collective sees. Webhooks land on a small HTTP server of the test's own.
No database is involved."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from html import unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import stripe

from devtools.stripe_double import StripeDouble

SECRET = "whsec_test_double"
SUCCESS_URL = "https://alpha.etal.test/commande/payee/?session={CHECKOUT_SESSION_ID}"
CANCEL_URL = "https://alpha.etal.test/panier/"
PAID_EVENTS = [
    "payment_intent.created",
    "payment_intent.succeeded",
    "charge.succeeded",
    "checkout.session.completed",
]


class Receiver:
    """A webhook endpoint: keeps (body, headers) of each POST; answers 500 while `failures` > 0."""

    def __init__(self):
        self.received: list[tuple[bytes, dict]] = []
        self.failures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.failures > 0:
                    receiver.failures -= 1
                    self.send_response(500)
                else:
                    receiver.received.append((body, dict(self.headers)))
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stripe/webhook/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[stripe.Event]:
        return [
            stripe.Webhook.construct_event(body.decode(), headers["Stripe-Signature"], SECRET)
            for body, headers in self.received
        ]

    def types(self) -> list[str]:
        return [event.type for event in self.events()]


@pytest.fixture(scope="module")
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture(scope="module")
def running_double(receiver):
    double = StripeDouble(webhook_url=receiver.url, webhook_secret=SECRET).start()
    yield double
    double.stop()


@pytest.fixture
def double(running_double, receiver):
    running_double.reset()
    receiver.received.clear()
    receiver.failures = 0
    yield running_double
    running_double.wait_idle()


@pytest.fixture
def client(double):
    return stripe.StripeClient("sk_test_double", base_addresses={"api": double.url, "connect": double.url})


@pytest.fixture
def account(client, double, receiver) -> str:
    """A collective's connected account, onboarded (its account.updated event is left out of the tests)."""
    account = client.v1.accounts.create({"type": "standard", "country": "FR", "email": "alpha@etal.test"})
    double.onboard(account.id)
    double.wait_idle()
    receiver.received.clear()
    return account.id


def checkout(client, account, *, unit_amount=617, quantity=2, capture_method=None, **extra):
    params = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": unit_amount,
                    "product_data": {"name": "Panier de légumes"},
                },
                "quantity": quantity,
            }
        ],
        "payment_intent_data": {"metadata": {"order_id": "5"}, "description": "Commande 5"},
        "metadata": {"order_id": "5"},
        "client_reference_id": "order-5",
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
        **extra,
    }
    if capture_method:
        params["payment_intent_data"]["capture_method"] = capture_method
    return client.v1.checkout.sessions.create(params, options={"stripe_account": account})


def browse(method: str, url: str, form: dict | None = None) -> tuple[int, str | None, str]:
    """A browser that does not follow redirects: (status, Location, page text)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    body = "&".join(f"{key}={value}" for key, value in (form or {}).items()) if form is not None else None
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    result = response.status, response.getheader("Location"), unescape(response.read().decode())
    connection.close()
    return result


def absolute(double, location: str) -> str:
    return location if location.startswith("http") else double.url + location


def test_paying_with_the_success_card_redirects_and_delivers_signed_events_in_order(
    client, double, receiver, account
):
    session = checkout(client, account)
    assert session.id.startswith("cs_test_")
    assert (session.status, session.payment_status, session.payment_intent) == ("open", "unpaid", None)
    assert (session.amount_total, session.currency, session.metadata["order_id"]) == (1234, "eur", "5")
    assert session.url == f"{double.url}/c/pay/{session.id}"

    status, _, page = browse("GET", session.url)
    assert status == 200
    assert "Panier de légumes" in page and "12,34 €" in page
    assert '<label for="card">Numéro de carte</label>' in page and CANCEL_URL in page

    status, location, _ = browse(
        "POST", session.url, {"email": "maud%40alpha.test", "card": "4242+4242+4242+4242"}
    )
    assert status == 303
    assert location == SUCCESS_URL.replace("{CHECKOUT_SESSION_ID}", session.id)

    assert double.wait_idle()
    assert receiver.types() == PAID_EVENTS
    events = receiver.events()
    assert all(event.account == account and event.api_version == stripe.api_version for event in events)
    assert events[0].data.object.status == "requires_payment_method"  # a snapshot at creation time
    assert events[-1].data.object.payment_status == "paid"

    body, headers = receiver.received[-1]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            body.decode().replace("paid", "free"), headers["Stripe-Signature"], SECRET
        )

    session = client.v1.checkout.sessions.retrieve(
        session.id, {"expand": ["payment_intent"]}, options={"stripe_account": account}
    )
    intent = session.payment_intent
    assert (session.status, session.payment_status, session.url) == ("complete", "paid", None)
    assert (intent.status, intent.amount_received, intent.metadata["order_id"]) == ("succeeded", 1234, "5")
    event = client.v1.events.retrieve(events[-1].id, options={"stripe_account": account})
    assert event.type == "checkout.session.completed"

    status, _, page = browse("GET", absolute(double, f"/c/pay/{session.id}"))
    assert "déjà été effectué" in page


def test_a_declined_card_leaves_the_session_open_and_the_member_can_try_again(
    client, double, receiver, account
):
    session = checkout(client, account)
    status, location, page = browse("POST", session.url, {"card": "4000000000000002"})
    assert (status, location) == (200, None)
    assert "Votre carte a été refusée." in page

    assert double.wait_idle()
    assert receiver.types() == ["payment_intent.created", "charge.failed", "payment_intent.payment_failed"]
    session = client.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": account})
    assert session.status == "open"
    intent = client.v1.payment_intents.retrieve(session.payment_intent, options={"stripe_account": account})
    assert intent.status == "requires_payment_method"
    error = intent.last_payment_error
    assert (error.code, error.decline_code, error.message) == (
        "card_declined",
        "generic_decline",
        "Your card was declined.",
    )

    assert browse("POST", session.url, {"card": "1234 5678"})[2].count("Numéro de carte invalide") == 1
    assert double.pay(session.id) == SUCCESS_URL.replace("{CHECKOUT_SESSION_ID}", session.id)
    intent = client.v1.payment_intents.retrieve(intent.id, options={"stripe_account": account})
    assert (intent.status, intent.last_payment_error) == ("succeeded", None)


def test_three_d_secure_can_fail_then_succeed(client, double, receiver, account):
    session = checkout(client, account)
    status, location, _ = browse("POST", session.url, {"card": "4000 0025 0000 3155"})
    assert (status, location) == (303, f"/c/pay/{session.id}/3ds")
    page = browse("GET", absolute(double, location))[2]
    assert "Authentification 3-D Secure (démonstration)" in page and "Valider" in page and "Échouer" in page

    status, location, _ = browse("POST", absolute(double, f"/c/pay/{session.id}/3ds"), {"action": "echouer"})
    assert (status, location) == (303, f"/c/pay/{session.id}?echec=3ds")
    assert "L'authentification de la carte a échoué." in browse("GET", absolute(double, location))[2]
    assert double.wait_idle()
    failed = receiver.events()[-1]
    assert failed.type == "payment_intent.payment_failed"
    assert failed.data.object.last_payment_error.code == "payment_intent_authentication_failure"

    assert double.pay(session.id, card="4000002500003155") is None
    assert double.authenticate(session.id, succeed=True) == SUCCESS_URL.replace(
        "{CHECKOUT_SESSION_ID}", session.id
    )
    session = client.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": account})
    assert (session.status, session.payment_status) == ("complete", "paid")


def test_manual_capture_of_a_lower_amount(client, double, receiver, account):
    session = checkout(client, account, capture_method="manual")
    double.pay(session.id)
    session = client.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": account})
    assert (session.status, session.payment_status) == ("complete", "unpaid")
    intent = client.v1.payment_intents.retrieve(session.payment_intent, options={"stripe_account": account})
    assert (intent.status, intent.amount_capturable, intent.amount_received) == ("requires_capture", 1234, 0)

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.payment_intents.capture(
            intent.id, {"amount_to_capture": 1300}, options={"stripe_account": account}
        )
    assert too_much.value.param == "amount_to_capture"

    intent = client.v1.payment_intents.capture(
        intent.id,
        {"amount_to_capture": 1000, "expand": ["latest_charge"]},
        options={"stripe_account": account},
    )
    assert (intent.status, intent.amount_received, intent.amount_capturable) == ("succeeded", 1000, 0)
    charge = intent.latest_charge
    assert (charge.amount_captured, charge.amount_refunded, charge.captured, charge.refunded) == (
        1000,
        234,
        True,
        False,
    )

    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.payment_intents.capture(intent.id, options={"stripe_account": account})
    assert again.value.code == "payment_intent_unexpected_state"
    assert double.wait_idle()
    assert receiver.types() == [
        "payment_intent.created",
        "payment_intent.amount_capturable_updated",
        "charge.succeeded",
        "checkout.session.completed",
        "payment_intent.succeeded",
        "charge.captured",
    ]


def test_refund_part_then_the_rest_and_no_more(client, double, receiver, account):
    session = checkout(client, account)
    double.pay(session.id)
    intent_id = client.v1.checkout.sessions.retrieve(
        session.id, options={"stripe_account": account}
    ).payment_intent
    options = {"stripe_account": account}

    first = client.v1.refunds.create(
        {
            "payment_intent": intent_id,
            "amount": 500,
            "reason": "requested_by_customer",
            "metadata": {"line": "3"},
        },
        options=options,
    )
    assert (first.status, first.amount, first.payment_intent, first.metadata["line"]) == (
        "succeeded",
        500,
        intent_id,
        "3",
    )
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.refunds.create({"payment_intent": intent_id, "amount": 800}, options=options)
    assert too_much.value.code == "amount_too_large"

    rest = client.v1.refunds.create({"payment_intent": intent_id}, options=options)
    assert rest.amount == 734
    charge = client.v1.charges.retrieve(rest.charge, options=options)
    assert (charge.amount_refunded, charge.refunded) == (1234, True)
    with pytest.raises(stripe.InvalidRequestError) as nothing_left:
        client.v1.refunds.create({"payment_intent": intent_id, "amount": 1}, options=options)
    assert nothing_left.value.code == "charge_already_refunded"

    listed = client.v1.refunds.list({"payment_intent": intent_id}, options=options)
    assert [refund.id for refund in listed.data] == [rest.id, first.id]
    assert client.v1.refunds.retrieve(first.id, options=options).amount == 500
    assert double.wait_idle()
    assert receiver.types()[-4:] == ["charge.refunded", "refund.created", "charge.refunded", "refund.created"]


def test_a_refund_before_payment_is_refused(client, double, account):
    session = checkout(client, account)
    double.pay(session.id, card="4000000000000002")
    intent_id = client.v1.checkout.sessions.retrieve(
        session.id, options={"stripe_account": account}
    ).payment_intent
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create({"payment_intent": intent_id}, options={"stripe_account": account})


def test_idempotency_replays_the_same_request_and_refuses_other_parameters(client, double, account):
    options = {"stripe_account": account, "idempotency_key": "order-5-attempt-1"}
    params = {
        "mode": "payment",
        "success_url": SUCCESS_URL,
        "line_items": [
            {
                "price_data": {"currency": "eur", "unit_amount": 900, "product_data": {"name": "Œufs"}},
                "quantity": 1,
            }
        ],
    }
    first = client.v1.checkout.sessions.create(params, options=options)
    second = client.v1.checkout.sessions.create(params, options=options)
    assert first.id == second.id
    assert second.last_response.headers["Idempotent-Replayed"] == "true"
    assert sum(obj["object"] == "checkout.session" for obj in double.store.objects.values()) == 1

    params["line_items"][0]["quantity"] = 2
    with pytest.raises(stripe.IdempotencyError):
        client.v1.checkout.sessions.create(params, options=options)


def test_objects_of_one_account_are_invisible_to_another(client, double, account):
    other = client.v1.accounts.create({"type": "standard", "country": "FR"}).id
    session = checkout(client, account)
    for options in ({"stripe_account": other}, {}):
        with pytest.raises(stripe.InvalidRequestError) as missing:
            client.v1.checkout.sessions.retrieve(session.id, options=options)
        assert missing.value.http_status == 404 and missing.value.code == "resource_missing"
    with pytest.raises(stripe.PermissionError):
        client.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": "acct_unknown"})


def test_sessions_are_validated_like_stripe(client, account):
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.checkout.sessions.create(
            {"mode": "payment", "success_url": SUCCESS_URL}, options={"stripe_account": account}
        )
    assert (missing.value.code, missing.value.param) == ("parameter_missing", "line_items")
    with pytest.raises(stripe.InvalidRequestError) as too_small:
        checkout(client, account, unit_amount=20)
    assert too_small.value.code == "amount_too_small"
    with pytest.raises(stripe.InvalidRequestError) as too_soon:
        checkout(client, account, expires_at=int(time.time()) + 600)
    assert too_soon.value.param == "expires_at"
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        checkout(client, account, succes_url=SUCCESS_URL)
    assert unknown.value.code == "parameter_unknown"


def test_an_expired_session_cannot_be_paid(client, double, receiver, account):
    session = checkout(client, account, expires_at=int(time.time()) + 3600)
    expired = client.v1.checkout.sessions.expire(session.id, options={"stripe_account": account})
    assert (expired.status, expired.url) == ("expired", None)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(session.id, options={"stripe_account": account})
    page = browse("GET", session.url)[2]
    assert "expiré" in page and CANCEL_URL in page
    assert double.pay(session.id) is None

    helper_expired = checkout(client, account)
    double.expire(helper_expired.id)
    assert double.wait_idle()
    assert receiver.types() == ["checkout.session.expired", "checkout.session.expired"]


def test_delivery_twice_reverse_and_hold(client, double, receiver, account):
    double.set_delivery(mode="twice")
    double.pay(checkout(client, account).id)
    assert double.wait_idle()
    assert receiver.types() == [kind for kind in PAID_EVENTS for _ in range(2)]

    receiver.received.clear()
    double.set_delivery(mode="reverse")
    double.pay(checkout(client, account).id)
    assert receiver.received == []
    assert double.flush() == 4
    assert receiver.types() == PAID_EVENTS[::-1]

    receiver.received.clear()
    double.set_delivery(mode="hold", delay=0.01)
    double.pay(checkout(client, account).id)
    assert receiver.received == []
    assert double.flush() == 4
    assert receiver.types() == PAID_EVENTS


def test_failed_deliveries_are_retried(client, double, receiver, account):
    receiver.failures = 2
    double.expire(checkout(client, account).id)
    assert double.wait_idle()
    event_id = double.events[-1]["id"]
    assert double.deliveries[-3:] == [(event_id, 500), (event_id, 500), (event_id, 200)]
    assert receiver.types() == ["checkout.session.expired"]


def test_requests_without_a_test_secret_key_are_refused(double):
    for key in ("pk_test_double", "sk_live_double"):
        client = stripe.StripeClient(key, base_addresses={"api": double.url})
        with pytest.raises(stripe.AuthenticationError):
            client.v1.events.list()
    status, _, body = browse("GET", f"{double.url}/v1/events")
    assert status == 401 and json.loads(body)["error"]["type"] == "invalid_request_error"


def test_a_collective_activates_payments_through_the_onboarding_page(client, double, receiver):
    account = client.v1.accounts.create(
        {"type": "standard", "country": "FR", "email": "beta@etal.test", "metadata": {"collective": "beta"}}
    )
    assert (account.charges_enabled, account.details_submitted, account.payouts_enabled) == (
        False,
        False,
        False,
    )
    with pytest.raises(stripe.InvalidRequestError):
        checkout(client, account.id)

    link = client.v1.account_links.create(
        {
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": "https://beta.etal.test/stripe/refresh/",
            "return_url": "https://beta.etal.test/stripe/retour/",
        }
    )
    status, _, page = browse("GET", link.url)
    assert status == 200 and "Compte Stripe de démonstration — activer les paiements" in page
    assert "https://beta.etal.test/stripe/refresh/" in page
    assert browse("POST", link.url, {})[:2] == (303, "https://beta.etal.test/stripe/retour/")
    assert browse("POST", link.url, {})[:2] == (303, "https://beta.etal.test/stripe/refresh/")  # used once

    account = client.v1.accounts.retrieve(account.id)
    assert (account.charges_enabled, account.details_submitted, account.payouts_enabled) == (True, True, True)
    assert double.wait_idle()
    (event,) = receiver.events()
    assert (event.type, event.account, event.data.object.charges_enabled) == (
        "account.updated",
        account.id,
        True,
    )
    assert checkout(client, account.id).status == "open"


def test_control_endpoints_switch_an_out_of_process_double(client, double, receiver, account):
    def control(path, payload=None):
        connection = http.client.HTTPConnection(urlsplit(double.url).netloc, timeout=10)
        connection.request(
            "POST" if path != "/_double/events" else "GET", path, body=json.dumps(payload or {})
        )
        data = json.loads(connection.getresponse().read())
        connection.close()
        return data

    assert control("/_double/delivery", {"mode": "hold"}) == {"mode": "hold", "delay": 0.0}
    session = checkout(client, account)
    assert control(f"/_double/sessions/{session.id}/expire")["status"] == "expired"
    assert [event["type"] for event in control("/_double/events")][-1] == "checkout.session.expired"
    assert control("/_double/flush") == {"delivered": 1}
    assert control("/_double/reset") == {"reset": True}
    assert control("/_double/events") == []


def test_the_command_line_serves_until_terminated(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.stripe_double", "--port", "0"],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("Stripe double listening on http://127.0.0.1:")
        url = line.split()[4]
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": url})
        assert client.v1.accounts.create({"country": "FR"}).object == "account"
    finally:
        process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0


def test_sessions_expire_by_themselves_at_expires_at(client, double, receiver, account, monkeypatch):
    # At least 30 minutes after the creation as the double's clock reads it, which may be a second later.
    expires_at = int(time.time()) + 1800 + 60
    session = checkout(client, account, expires_at=expires_at)
    from devtools.stripe_double import store

    later = expires_at + 1
    monkeypatch.setattr(store, "now", lambda: later)
    deadline = time.monotonic() + 5
    while (
        client.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": account}).status == "open"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert double.wait_idle()
    assert receiver.types() == ["checkout.session.expired"]


def test_what_the_double_knows_survives_a_restart_with_a_state_file(tmp_path):
    """`make dev` keeps the double's state in .local/: payments of a previous run stay readable."""
    state = tmp_path / "stripe-double.json"
    first = StripeDouble(webhook_secret=SECRET, state_file=str(state)).start()
    client = stripe.StripeClient("sk_test_double", base_addresses={"api": first.url, "connect": first.url})
    account = client.v1.accounts.create({"type": "standard", "country": "FR"}, {"idempotency_key": "acct-1"})
    first.onboard(account.id)
    first.stop()
    second = StripeDouble(webhook_secret=SECRET, state_file=str(state)).start()
    try:
        client = stripe.StripeClient(
            "sk_test_double", base_addresses={"api": second.url, "connect": second.url}
        )
        assert client.v1.accounts.retrieve(account.id).charges_enabled is True
        replay = client.v1.accounts.create(
            {"type": "standard", "country": "FR"}, {"idempotency_key": "acct-1"}
        )
        assert replay.id == account.id
    finally:
        second.stop()
