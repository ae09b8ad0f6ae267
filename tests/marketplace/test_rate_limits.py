"""Sign-in rate limits behind the reverse proxy (issue 13, part 5).

In production every request reaches Django from the proxy's address (REMOTE_ADDR); the member's own address
is the last entry of X-Forwarded-For, which the proxy appends. allauth only believes that header when
ALLAUTH_TRUSTED_PROXY_COUNT (TRUSTED_PROXY_COUNT in the environment) says how many proxies are ours.
"""

from __future__ import annotations

import re
import runpy
from uuid import uuid4

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache

from marketplace.models import User
from tests.conftest import PASSWORD, HostClient, text

PROXY = "10.0.0.2"  # the reverse proxy, as the application sees it
WRONG = "L’adresse e-mail ou le mot de passe sont incorrects."
TOO_MANY_FAILURES = "Trop de tentatives de connexion échouées."
TOO_MANY_REQUESTS = "Trop de demandes"


@pytest.fixture(autouse=True)
def _empty_cache():
    """The limits live in the (real Redis) cache, which outlives the test transaction."""
    cache.clear()
    yield
    cache.clear()


def _deployed_settings(monkeypatch) -> dict:
    """The settings as config/settings/base.py makes them from docker-compose.yml's environment."""
    compose = (django_settings.BASE_DIR / "docker-compose.yml").read_text()
    found = re.search(r"TRUSTED_PROXY_COUNT: \$\{TRUSTED_PROXY_COUNT:-(\d+)\}", compose)
    monkeypatch.setenv("TRUSTED_PROXY_COUNT", found.group(1) if found else "0")
    return runpy.run_path(str(django_settings.BASE_DIR / "config" / "settings" / "base.py"))


@pytest.fixture
def behind_proxy(settings, monkeypatch):
    """As deployed: the reverse proxy on the host, in front of docker-compose's web service."""
    deployed = _deployed_settings(monkeypatch)
    allauth_defaults = {"ALLAUTH_TRUSTED_PROXY_COUNT": 0, "ALLAUTH_TRUSTED_CLIENT_IP_HEADER": None}
    for name, allauth_default in allauth_defaults.items():
        setattr(settings, name, deployed.get(name, allauth_default))


def _members(count: int) -> list[User]:
    run = uuid4().hex[:8]
    return [
        User.objects.create_user(
            email=f"membre-{n}-{run}@exemple.test", password=PASSWORD, first_name=f"M{n}", last_name="Test"
        )
        for n in range(count)
    ]


def _sign_in(client: HostClient, email: str, password: str, *, forwarded_for: str | None):
    extra = {"REMOTE_ADDR": PROXY}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client.post("/accounts/login/", {"login": email, "password": password}, **extra)


def _signed_in(client: HostClient) -> bool:
    return "Se déconnecter" in text(client.get("/", REMOTE_ADDR=PROXY))


def _refused(response) -> bool:
    """What a member sees when the platform stops listening: a 429 page or allauth's French error."""
    return response.status_code == 429 or TOO_MANY_FAILURES in text(response)


def _saturday_morning(alpha, members, address_of) -> list[bool]:
    """Each member mistypes their password once, then signs in, all within the same minute."""
    results = []
    for n, member in enumerate(members):
        client = HostClient(alpha.host)
        _sign_in(client, member.email, "pas-le-bon", forwarded_for=address_of(n))
        _sign_in(client, member.email, PASSWORD, forwarded_for=address_of(n))
        results.append(_signed_in(client))
    return results


def test_thirty_members_behind_the_proxy_all_sign_in_within_a_minute(behind_proxy, alpha):
    members = _members(30)

    results = _saturday_morning(alpha, members, lambda n: f"203.0.113.{n + 1}")

    assert all(results), f"{results.count(False)} of 30 members could not sign in"


def test_a_spoofed_forwarded_for_does_not_bypass_the_limit_without_a_trusted_proxy(settings, alpha):
    # No trusted proxy: the header comes from the client itself, here one attacker rotating it.
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    members = _members(30)

    results = _saturday_morning(alpha, members, lambda n: f"203.0.113.{n + 1}")

    assert not all(results), "60 sign-in attempts from one address went through: the header was believed"
    # What the refused members read: a page in French.
    refused = _sign_in(HostClient(alpha.host), members[0].email, PASSWORD, forwarded_for="203.0.113.99")
    assert refused.status_code == 429
    assert TOO_MANY_REQUESTS in text(refused)


def test_addresses_a_client_puts_in_front_of_the_proxy_s_entry_do_not_help(behind_proxy, alpha):
    # The proxy appends the address it sees; whatever the client wrote before it is the client's own say.
    victim = _members(1)[0]
    client = HostClient(alpha.host)
    responses = [
        _sign_in(client, victim.email, f"essai-{n}", forwarded_for=f"192.0.2.{n}, 198.51.100.7")
        for n in range(12)
    ]
    assert _refused(responses[-1])


def test_a_stranger_s_failures_do_not_lock_a_member_out_of_their_own_address(behind_proxy, alpha):
    member = alpha.member
    stranger = HostClient(alpha.host)
    for n in range(12):
        _sign_in(stranger, member.email, f"devine-{n}", forwarded_for="198.51.100.7")

    client = HostClient(alpha.host)
    response = _sign_in(client, member.email, PASSWORD, forwarded_for="203.0.113.5")

    assert TOO_MANY_FAILURES not in text(response)
    assert response.status_code == 302
    assert _signed_in(client)


def test_the_stranger_s_own_address_gets_limited(behind_proxy, alpha, beta):
    stranger = HostClient(alpha.host)
    first = _sign_in(stranger, alpha.member.email, "devine-0", forwarded_for="198.51.100.7")
    assert WRONG in text(first)
    for n in range(1, 5):
        _sign_in(stranger, alpha.member.email, f"devine-{n}", forwarded_for="198.51.100.7")

    # Five failures on one account from one address: that address may not try that account any more,
    # not even with the right password...
    sixth = _sign_in(stranger, alpha.member.email, PASSWORD, forwarded_for="198.51.100.7")
    assert _refused(sixth)
    assert not _signed_in(stranger)

    # ...and moving on to other accounts from the same address is stopped too (per-address limit).
    others = [alpha.coordinator, alpha.producer, alpha.staff, beta.member, beta.producer, beta.staff]
    responses = [
        _sign_in(stranger, account.email, "devine", forwarded_for="198.51.100.7") for account in others
    ]
    assert _refused(responses[-1])
