"""Security headers read off real responses (issue 13, part 4): Content-Security-Policy, Permissions-Policy,
Referrer-Policy, X-Content-Type-Options, framing; on the public site, a collective's site and error pages."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings

from tests.conftest import HostClient, text
from tests.orders.conftest import (  # noqa: F401 - fixtures of the card flow
    card_market,
    in_alpha,
    market,
    stripe_double,
    stripe_on,
)

HTTPS = {"HTTP_X_FORWARDED_PROTO": "https"}  # what the reverse proxy adds in front of production


@pytest.fixture
def production(settings):
    """What config/settings/production.py changes that matters to the headers, over the test settings."""
    settings.DEBUG = False
    settings.SITE_SCHEME = "https"
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.STRIPE_API_BASE = ""  # the real Stripe
    return settings


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def allows(sources: list[str], url: str, *, page: str) -> bool:
    """Whether a CSP source list lets `url` through, for a page at `page` ('self' is the page's origin)."""
    target = urlsplit(url)
    origin = f"{target.scheme}://{target.netloc}"
    for source in sources:
        if source == "'self'" and origin == f"{urlsplit(page).scheme}://{urlsplit(page).netloc}":
            return True
        if source == origin:
            return True
        wildcard = re.fullmatch(r"(\w+)://\*\.([^/]+)", source)
        if wildcard and target.scheme == wildcard.group(1):
            suffix = wildcard.group(2)
            if target.netloc.endswith("." + suffix) and target.netloc != suffix:
                return True
    return False


def assert_locked_down(response) -> None:
    csp = policy(response)
    # Scripts and styles only from the site's own files: no inline code, no eval, no CDN.
    for directive in ["default-src", "script-src", "style-src"]:
        assert csp[directive] == ["'self'"], (directive, csp[directive])
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"

    features = dict(
        re.fullmatch(r"([\w-]+)=\((.*)\)", item.strip()).groups()
        for item in response["Permissions-Policy"].split(",")
    )
    assert features["camera"] == "self"
    for feature in ["geolocation", "microphone", "payment", "usb", "display-capture"]:
        assert features[feature] == "", feature

    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_public_site_sends_the_security_headers(production, public_host, db):
    response = HostClient(public_host).get("/", **HTTPS)
    assert response.status_code == 200

    assert_locked_down(response)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    # Creating a collective leads from the public site to the collective's own sub-domain.
    sources = policy(response)["form-action"]
    assert allows(sources, f"https://nouveau.{public_host}/", page=f"https://{public_host}/")
    assert allows(sources, "https://checkout.stripe.com/c/pay/cs_live_a1", page=f"https://{public_host}/")
    assert not allows(sources, "https://evil.example/", page=f"https://{public_host}/")


def test_a_collective_s_pages_send_them_to_visitors_and_members(production, alpha):
    for user in [None, alpha.member]:
        response = HostClient(alpha.host, user).get("/", **HTTPS)
        assert response.status_code == 200
        assert_locked_down(response)
        assert "Strict-Transport-Security" in response


def test_error_pages_send_them_too(production, alpha):
    missing = HostClient(alpha.host).get("/pas-une-page/", **HTTPS)
    assert missing.status_code == 404 and "Page introuvable" in text(missing)
    assert_locked_down(missing)

    unknown = HostClient(f"inconnu.{django_settings.BASE_DOMAIN}").get("/", **HTTPS)
    assert unknown.status_code == 404
    assert_locked_down(unknown)


def test_plain_http_is_sent_to_https_before_anything(production, alpha):
    response = HostClient(alpha.host).get("/")
    assert response.status_code == 301
    assert response["Location"] == f"https://{alpha.host}/"


def test_the_checkout_form_may_lead_to_the_payment_page(browse, alpha, card_market, stripe_on):  # noqa: F811
    # The member's browser applies the checkout page's form-action to the redirect that follows the POST:
    # if the payment page's address were not in it, the « Commander » button would lead nowhere.
    client = browse(alpha, alpha.member)
    client.post(f"/ventes/{card_market.sale.pk}/", {f"qty_{card_market.cheese.pk}": 1})
    page = client.get(f"/ventes/{card_market.sale.pk}/commander/")
    assert "Carte bancaire en ligne" in text(page)

    sent = client.post(
        f"/ventes/{card_market.sale.pk}/commander/",
        {"slot": card_market.slots[0].pk, "payment_method": "card"},
    )
    assert sent.status_code in (302, 303)
    assert sent["Location"].startswith(stripe_on.url + "/c/pay/")
    here = f"http://{alpha.host}/ventes/{card_market.sale.pk}/commander/"
    assert allows(policy(page)["form-action"], sent["Location"], page=here)


# The pages must keep to what the policy lets through: the browser silently drops the rest.
INLINE = [
    (
        re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
        "inline <script>",
    ),
    (re.compile(r"\sstyle=[\"']", re.I), "style= attribute"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\son[a-z]+=[\"']", re.I), "on…= event handler"),
    (re.compile(r"javascript:", re.I), "javascript: address"),
]


def _inline(html: str) -> list[str]:
    return [what for pattern, what in INLINE if pattern.search(html)]


def test_no_page_template_relies_on_inline_script_or_style():
    # Templates under a « sheets » folder are PDF (delivery sheets, the town-hall kit: WeasyPrint reads
    # their <style>), never pages sent to a browser.
    root = Path(django_settings.BASE_DIR) / "templates"
    found = {
        str(path.relative_to(root)): _inline(path.read_text())
        for path in root.rglob("*.html")
        if "sheets" not in path.relative_to(root).parts
    }
    assert not {name: what for name, what in found.items() if what}


def test_pages_as_sent_carry_no_inline_script_or_style(browse, alpha, public_host):
    pages = [
        (browse(public_host), "/"),
        (browse(public_host), "/accounts/login/"),
        (browse(public_host), "/accounts/signup/"),
        (browse(alpha), "/"),
        (browse(alpha, alpha.member), "/"),
        (browse(alpha, alpha.coordinator), "/membres/"),
        (browse(alpha, alpha.coordinator), "/reglages/"),
    ]
    for client, path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert not _inline(response.content.decode()), (path, _inline(response.content.decode()))
