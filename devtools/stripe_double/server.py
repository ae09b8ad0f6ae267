"""The HTTP side of the Stripe double: the /v1 API, the hosted pages, the /_double control endpoints."""

from __future__ import annotations

import base64
import json
import os
import re
import sys
import threading
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from . import pages
from .store import Ctx, PayOutcome, Store, StripeError, new_id
from .webhooks import Dispatcher

API_ROUTES: list[tuple[str, re.Pattern, str]] = [
    (method, re.compile(f"^{pattern}$"), name)
    for method, pattern, name in [
        ("POST", r"/v1/accounts", "account_create"),
        ("GET", r"/v1/accounts/(acct_\w+)", "account_retrieve"),
        ("POST", r"/v1/account_links", "account_link_create"),
        ("POST", r"/v1/checkout/sessions", "session_create"),
        ("GET", r"/v1/checkout/sessions/(cs_\w+)", "session_retrieve"),
        ("GET", r"/v1/checkout/sessions/(cs_\w+)/line_items", "session_line_items"),
        ("POST", r"/v1/checkout/sessions/(cs_\w+)/expire", "session_expire"),
        ("GET", r"/v1/payment_intents/(pi_\w+)", "intent_retrieve"),
        ("POST", r"/v1/payment_intents/(pi_\w+)/capture", "intent_capture"),
        ("POST", r"/v1/payment_intents/(pi_\w+)/cancel", "intent_cancel"),
        ("GET", r"/v1/charges/(ch_\w+)", "charge_retrieve"),
        ("POST", r"/v1/refunds", "refund_create"),
        ("GET", r"/v1/refunds", "refund_list"),
        ("GET", r"/v1/refunds/(re_\w+)", "refund_retrieve"),
        ("GET", r"/v1/balance", "balance_retrieve"),
        ("GET", r"/v1/balance_transactions", "balance_transaction_list"),
        ("GET", r"/v1/balance_transactions/(txn_\w+)", "balance_transaction_retrieve"),
        ("POST", r"/v1/transfers", "transfer_create"),
        ("GET", r"/v1/transfers", "transfer_list"),
        ("GET", r"/v1/transfers/(tr_\w+)", "transfer_retrieve"),
        ("POST", r"/v1/transfers/(tr_\w+)/reversals", "reversal_create"),
        ("GET", r"/v1/transfers/(tr_\w+)/reversals", "reversal_list"),
        ("POST", r"/v1/payouts", "payout_create"),
        ("GET", r"/v1/payouts", "payout_list"),
        ("GET", r"/v1/payouts/(po_\w+)", "payout_retrieve"),
        ("GET", r"/v1/events", "event_list"),
        ("GET", r"/v1/events/(evt_\w+)", "event_retrieve"),
    ]
]

PAGE_ROUTES: list[tuple[str, re.Pattern, str]] = [
    (method, re.compile(f"^{pattern}$"), name)
    for method, pattern, name in [
        ("GET", r"/c/pay/(cs_\w+)", "page_checkout"),
        ("POST", r"/c/pay/(cs_\w+)", "page_checkout_submit"),
        ("GET", r"/c/pay/(cs_\w+)/3ds", "page_authenticate"),
        ("POST", r"/c/pay/(cs_\w+)/3ds", "page_authenticate_submit"),
        ("GET", r"/connect/onboarding/(\w+)", "page_onboarding"),
        ("POST", r"/connect/onboarding/(\w+)", "page_onboarding_submit"),
        ("POST", r"/_double/delivery", "control_delivery"),
        ("POST", r"/_double/flush", "control_flush"),
        ("POST", r"/_double/reset", "control_reset"),
        ("GET", r"/_double/events", "control_events"),
        ("POST", r"/_double/sessions/(cs_\w+)/expire", "control_expire"),
        ("POST", r"/_double/accounts/(acct_\w+)/onboard", "control_onboard"),
        ("POST", r"/_double/payouts", "control_payout"),
    ]
]


def decode_params(pairs: list[tuple[str, str]]) -> dict:
    """Stripe's bracket notation (`a[b][0][c]=1`, `expand[]=x`) into nested dicts and lists."""
    root: dict = {}
    for key, value in pairs:
        head, _, rest = key.partition("[")
        parts = [head] + re.findall(r"\[([^\]]*)\]", "[" + rest if rest else "")
        node = root
        for position, part in enumerate(parts):
            part = part or str(len(node))  # `[]` appends
            if position == len(parts) - 1:
                node[part] = value
            else:
                if not isinstance(node.get(part), dict):
                    node[part] = {}
                node = node[part]
    return _listify(root)


def _listify(value, keep_dict: bool = False):
    """Dicts keyed 0, 1, 2… become lists; metadata stays a dict whatever its keys look like."""
    if not isinstance(value, dict):
        return value
    items = {key: _listify(item, key == "metadata") for key, item in value.items()}
    if items and not keep_dict and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items


class Handler(BaseHTTPRequestHandler):
    server_version = "StripeDouble/1.0"
    server: _Server

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's signature
        if self.server.double.verbose:
            super().log_message(format, *args)

    @property
    def double(self) -> StripeDouble:
        return self.server.double

    @property
    def store(self) -> Store:
        return self.server.double.store

    # ------------------------------------------------------------------ dispatch

    def _dispatch(self, method: str) -> None:
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        self.raw_body = body
        try:
            if path.startswith("/v1/"):
                self._api(method, path, query, body)
                return
            for route_method, pattern, name in PAGE_ROUTES:
                match = pattern.match(path)
                if match and route_method == method:
                    getattr(self, name)(
                        dict(parse_qsl(body or query, keep_blank_values=True)), *match.groups()
                    )
                    return
            self._html(404, pages.not_found())
        except Exception:  # a bug of the double: say so in Stripe's shape rather than drop the connection
            traceback.print_exc()
            error = {"type": "api_error", "message": "The Stripe double failed: see its standard error."}
            self._send(500, json.dumps({"error": error}).encode(), "application/json")

    def _api(self, method: str, path: str, query: str, body: str) -> None:
        request_id = new_id("req_", 14)
        idempotency_key = self.headers.get("Idempotency-Key") if method == "POST" else None
        account = self.headers.get("Stripe-Account") or None
        ctx = Ctx(account=account, request_id=request_id, idempotency_key=idempotency_key)
        headers = {"Request-Id": request_id}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if account:
            headers["Stripe-Account"] = account
        try:
            self._authenticate()
            params = decode_params(parse_qsl(body if method == "POST" else query, keep_blank_values=True))
            handler, groups = self._api_route(method, path)
            with self.store.lock:
                if account and not self.store.account_exists(account):
                    raise StripeError(
                        403,
                        f"The provided key does not have access to account '{account}' (or that account "
                        "does not exist). Application access may have been revoked.",
                        code="account_invalid",
                    )
                slot = (account, idempotency_key)
                fingerprint = json.dumps([method, path, params], sort_keys=True)
                saved = self.store.idempotency.get(slot) if idempotency_key else None
                if saved is not None:
                    if saved[0] != fingerprint:
                        raise StripeError(
                            400,
                            "Keys for idempotent requests can only be used with the same parameters they "
                            f"were first used with. Try using a key other than '{idempotency_key}' if you "
                            "meant to execute a different request.",
                            type="idempotency_error",
                        )
                    headers.update({"Idempotent-Replayed": "true", "Original-Request": saved[3]})
                    self._send(saved[1], saved[2], "application/json", headers)
                    return
                payload = json.dumps(handler(params, ctx, *groups), indent=2).encode()
                if idempotency_key:
                    self.store.idempotency[slot] = (fingerprint, 200, payload, request_id)
        except StripeError as error:
            self._send(error.status, json.dumps(error.body(), indent=2).encode(), "application/json", headers)
            return
        self._send(200, payload, "application/json", headers)

    def _authenticate(self) -> None:
        header = self.headers.get("Authorization") or ""
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "basic":
            credentials = base64.b64decode(credentials).decode(errors="replace").partition(":")[0]
        elif scheme.lower() != "bearer":
            credentials = ""
        if not credentials:
            raise StripeError(
                401,
                "You did not provide an API key. You need to provide your API key in the Authorization "
                "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            )
        if not credentials.startswith("sk_test_"):
            raise StripeError(
                401, f"Invalid API Key provided: {credentials[:8]}{'*' * 12}", code="api_key_invalid"
            )

    def _api_route(self, method: str, path: str) -> tuple[Callable, tuple]:
        for route_method, pattern, name in API_ROUTES:
            match = pattern.match(path)
            if match and route_method == method:
                return getattr(self.store, name), match.groups()
        raise StripeError(
            404,
            f"Unrecognized request URL ({method}: {path}). The Stripe double only knows the part of the "
            "API that Étal uses.",
        )

    # ------------------------------------------------------------------ responses

    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _html(self, status: int, html: str) -> None:
        self._send(status, html.encode(), "text/html; charset=utf-8", {"Cache-Control": "no-store"})

    def _redirect(self, location: str) -> None:
        self._send(303, b"", "text/plain", {"Location": location})

    def _json(self, status: int, data) -> None:
        self._send(status, json.dumps(data, indent=2).encode(), "application/json")

    # ------------------------------------------------------------------ the hosted pages

    def page_checkout(self, form: dict, session_id: str) -> None:
        view = self.store.page_view(session_id)
        if view is None:
            self._html(404, pages.not_found())
        elif view[0]["status"] != "open":
            self._html(200, pages.closed(view[0]))
        elif self.store.awaiting_authentication(session_id):
            self._redirect(f"/c/pay/{session_id}/3ds")
        else:
            error = "L'authentification de la carte a échoué." if form.get("echec") == "3ds" else None
            self._html(200, pages.checkout(*view, error=error))

    def page_checkout_submit(self, form: dict, session_id: str) -> None:
        if self.store.page_view(session_id) is None:
            self._html(404, pages.not_found())
            return
        email, name = form.get("email", ""), form.get("name", "")
        outcome = self.store.session_pay(session_id, form.get("card", ""), email, name)
        self._page_outcome(session_id, outcome, email=email, name=name)

    def page_authenticate(self, form: dict, session_id: str) -> None:
        view = self.store.page_view(session_id)
        if view is None:
            self._html(404, pages.not_found())
        elif view[0]["status"] != "open":
            self._html(200, pages.closed(view[0]))
        elif not self.store.awaiting_authentication(session_id):
            self._redirect(f"/c/pay/{session_id}")
        else:
            self._html(200, pages.authenticate(view[0]))

    def page_authenticate_submit(self, form: dict, session_id: str) -> None:
        if self.store.page_view(session_id) is None:
            self._html(404, pages.not_found())
            return
        outcome = self.store.session_authenticate(session_id, succeed=form.get("action") == "valider")
        if outcome.result == "declined":
            self._redirect(f"/c/pay/{session_id}?echec=3ds")
        else:
            self._page_outcome(session_id, outcome)

    def _page_outcome(self, session_id: str, outcome: PayOutcome, email: str = "", name: str = "") -> None:
        if outcome.result == "paid":
            self._redirect(outcome.redirect)
        elif outcome.result == "authenticate":
            self._redirect(f"/c/pay/{session_id}/3ds")
        else:
            session, items = self.store.page_view(session_id)
            if outcome.result == "closed":
                self._html(200, pages.closed(session))
            else:
                self._html(200, pages.checkout(session, items, error=outcome.message, email=email, name=name))

    def page_onboarding(self, form: dict, token: str) -> None:
        link = self.store.link(token)
        if link is None:
            self._html(404, pages.not_found())
        else:
            self._html(200, pages.onboarding(link["account_object"], token, link["refresh_url"]))

    def page_onboarding_submit(self, form: dict, token: str) -> None:
        location = self.store.onboarding_complete(token)
        if location is None:
            self._html(404, pages.not_found())
        else:
            self._redirect(location)

    # ------------------------------------------------------------------ control endpoints

    def control_delivery(self, form: dict) -> None:
        try:
            settings = json.loads(self.raw_body or "{}")
            self.double.set_delivery(mode=settings.get("mode", "normal"), delay=settings.get("delay", 0.0))
        except (ValueError, TypeError) as error:
            self._json(400, {"error": str(error)})
            return
        self._json(200, {"mode": self.double.dispatcher.mode, "delay": self.double.dispatcher.delay})

    def control_flush(self, form: dict) -> None:
        self._json(200, {"delivered": self.double.flush()})

    def control_reset(self, form: dict) -> None:
        self.double.reset()
        self._json(200, {"reset": True})

    def control_events(self, form: dict) -> None:
        self._json(200, self.double.events)

    def control_onboard(self, form: dict, account_id: str) -> None:
        try:
            self._json(200, self.double.onboard(account_id))
        except StripeError as error:
            self._json(error.status, error.body())

    def control_payout(self, form: dict) -> None:
        """Pay out everything available (`account=acct_…`, or the platform without it)."""
        self._json(200, {"payout": self.double.payout(form.get("account") or None)})

    def control_expire(self, form: dict, session_id: str) -> None:
        try:
            self._json(200, self.double.expire(session_id))
        except StripeError as error:
            self._json(error.status, error.body())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    double: StripeDouble


class StripeDouble:
    """A local stand-in for Stripe: start() it, point the `stripe` library's base addresses at .url."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_url: str | None = None,
        webhook_secret: str = "whsec_double",  # noqa: S107 - a test secret, as public as the double
        public_url: str | None = None,
        verbose: bool = False,
        state_file: str | None = None,
    ):
        """`state_file`: where the double keeps what it knows between runs (read at start, saved at stop)."""
        self.verbose = verbose
        self.state_file = state_file
        self.dispatcher = Dispatcher(webhook_url, webhook_secret)
        self.store = Store(emit=self.dispatcher.submit, public_url=lambda: self.public_url)
        self._server = _Server((host, port), Handler)
        self._server.double = self
        bound_host = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 - a reachable name
        self.url = f"http://{bound_host}:{self._server.server_address[1]}"
        self.public_url = (public_url or self.url).rstrip("/")
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> StripeDouble:
        if self.state_file and os.path.exists(self.state_file):
            with open(self.state_file) as saved:
                self.store.restore(json.load(saved))
        self.dispatcher.start()
        for target, name in [(self._server.serve_forever, "http"), (self._expire_loop, "expiry")]:
            thread = threading.Thread(target=target, name=f"stripe-double-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self.dispatcher.stop()
        for thread in self._threads:
            thread.join(timeout=5)
        if self.state_file:
            with open(self.state_file, "w") as saved:
                json.dump(self.store.state(), saved)

    def _expire_loop(self) -> None:
        while not self._stopping.wait(1.0):
            try:
                self.store.expire_due()
            except Exception as error:  # noqa: BLE001 - keep the clock running whatever happens
                print(f"stripe double: session expiry failed: {error!r}", file=sys.stderr)

    # ------------------------------------------------------------------ for tests and testers

    @property
    def events(self) -> list[dict]:
        with self.store.lock:
            return list(self.store.events)

    @property
    def deliveries(self) -> list[tuple[str, int]]:
        return list(self.dispatcher.deliveries)

    def set_delivery(self, mode: str = "normal", delay: float = 0.0) -> None:
        self.dispatcher.set_mode(mode, delay)

    def flush(self) -> int:
        return self.dispatcher.flush()

    def wait_idle(self, timeout: float = 10) -> bool:
        return self.dispatcher.wait_idle(timeout)

    def pay(
        self, session_id: str, card: str = "4242424242424242", email: str = "", name: str = ""
    ) -> str | None:
        """Submit the hosted page: the success URL, or None when the payment failed or awaits 3-D Secure."""
        return self.store.session_pay(session_id, card, email, name).redirect

    def authenticate(self, session_id: str, succeed: bool = True) -> str | None:
        return self.store.session_authenticate(session_id, succeed).redirect

    def expire(self, session_id: str) -> dict:
        return self.store.session_expire_now(session_id)

    def onboard(self, account_id: str) -> dict:
        """What the onboarding page's button does, without the page."""
        return self.store.account_activate(account_id)

    def payout(self, account: str | None = None) -> dict | None:
        """Pay out an account's available balance to its bank (None: the platform's)."""
        return self.store.payout_all(account)

    def reset(self) -> None:
        with self.store.lock:
            self.dispatcher.reset()
            self.store.reset()
