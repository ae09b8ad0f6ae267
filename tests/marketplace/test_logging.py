"""Logs and errors: every line carries the collective and the request id, production writes JSON, no e-mail
or phone reaches a log line, and errors reach Sentry (a local catcher here) tagged, without personal data."""

from __future__ import annotations

import gzip
import io
import json
import logging
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from marketplace.observability import ContextFilter, JsonFormatter
from orders.models import Order, PaymentMethod

pytestmark = pytest.mark.django_db

APP_LOGGERS = ["", "marketplace", "orders", "pickup_points", "producers", "django", "allauth", "celery"]


@pytest.fixture
def json_lines():
    """What production's console handler writes: one JSON object per line, through the context filter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def test_a_request_id_is_honoured_or_made_and_echoed(browse, alpha):
    given = browse(alpha).get("/", HTTP_X_REQUEST_ID="lb-1234abcd-5678")
    assert given["X-Request-ID"] == "lb-1234abcd-5678"
    for bad in ["court", "a b c d e f g h", "x" * 200, "<script>alert(1)</script>"]:
        made = browse(alpha).get("/", HTTP_X_REQUEST_ID=bad)
        assert made["X-Request-ID"] != bad
        assert len(made["X-Request-ID"]) == 32
    assert browse(alpha).get("/")["X-Request-ID"] != browse(alpha).get("/")["X-Request-ID"]


def test_log_lines_carry_the_collective_and_the_request_id(browse, alpha, json_lines):
    response = browse(alpha).get("/page-qui-n-existe-pas/", HTTP_X_REQUEST_ID="req-0000-abcd")
    assert response.status_code == 404
    lines = [line for line in json_lines() if line["logger"] == "django.request"]
    assert lines, json_lines()
    assert lines[-1]["schema"] == alpha.collective.schema_name
    assert lines[-1]["request_id"] == "req-0000-abcd"
    assert lines[-1]["level"] == "WARNING"


def test_a_checkout_logs_neither_the_members_email_nor_phone(browse, alpha, market, caplog, json_lines):
    alpha.member.phone = "06 98 76 54 32"
    alpha.member.save(update_fields=["phone"])
    for name in APP_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    client = browse(alpha, alpha.member)
    client.post(f"/ventes/{market.sale.pk}/", {f"qty_{market.tomatoes.pk}": 2})
    response = client.post(
        f"/ventes/{market.sale.pk}/commander/",
        {"slot": market.slots[0].pk, "payment_method": PaymentMethod.CASH},
    )
    assert response.status_code == 302
    assert Order.objects.filter(user=alpha.member, sale=market.sale).exists()
    assert caplog.records  # the checkout's queries and requests were logged at DEBUG
    written = "\n".join(
        [f"{record.getMessage()} {record.args!r} {record.__dict__!r}" for record in caplog.records]
        + [json.dumps(line) for line in json_lines()]
    )
    for secret in [alpha.member.email, "06 98 76 54 32", "0698765432"]:
        assert secret not in written


def test_allauth_and_django_say_nothing_at_info(settings):
    from django.utils.log import configure_logging

    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
    assert logging.getLogger("allauth.account").getEffectiveLevel() >= logging.WARNING
    assert logging.getLogger("django.request").getEffectiveLevel() >= logging.WARNING


class _Catcher(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            import brotli

            body = brotli.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_catcher():
    import sentry_sdk

    from marketplace.observability import sentry_init

    _Catcher.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Catcher)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sentry_init(dsn=f"http://publickey@127.0.0.1:{server.server_port}/1", environment="test")
    yield _Catcher.received
    sentry_sdk.flush(timeout=2)
    sentry_sdk.init(dsn=None)  # nothing sent by the next tests
    server.shutdown()


def test_an_error_in_a_view_reaches_sentry_tagged_and_without_personal_data(
    browse, alpha, settings, sentry_catcher
):
    import sentry_sdk

    settings.ROOT_URLCONF = "tests.marketplace.urls_boom"
    client = browse(alpha, alpha.member)
    client.raise_request_exception = False
    response = client.get("/boom/", HTTP_X_REQUEST_ID="req-boom-0001")
    assert response.status_code == 500
    sentry_sdk.flush(timeout=5)
    envelopes = b"\n".join(sentry_catcher).decode()
    events = [
        json.loads(line) for line in envelopes.splitlines() if line.startswith("{") and '"exception"' in line
    ]
    assert len(events) == 1
    event = events[0]
    assert event["tags"]["schema"] == alpha.collective.schema_name
    assert event["tags"]["request_id"] == "req-boom-0001"
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert alpha.member.email not in envelopes
    assert "Maud" not in envelopes  # nor the member's name
