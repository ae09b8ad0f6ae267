"""Creating a collective lands its creator signed in on the new sub-domain, through a one-time sign-in
link: used once, short-lived, for that collective and that person only (sessions are per host in
development, so the public site's session does not reach the sub-domain)."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.utils import timezone

from marketplace import services
from marketplace.models import Collective, SignInHandoff
from tests.conftest import text

HOST = "paniers-albret.localhost"
FORM = {
    "name": "Les Paniers d'Albret",
    "kind": Collective.Kind.DRIVE,
    "slug": "paniers-albret",
    "town": "Nérac",
    "department": "47",
    "description": "Des paniers.",
    "contact_email": "contact@paniers.test",
    "contact_phone": "05 53 11 22 33",
    "join_mode": Collective.JoinMode.APPROVAL,
}


@pytest.fixture
def landing(browse, public_host, outsider) -> str:
    """The path the creation redirects to, on the new sub-domain."""
    response = browse(public_host, outsider).post("/collectifs/nouveau/", FORM)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.netloc == HOST
    return location.path


def _signed_in_as(client):
    return client.session.get("_auth_user_id")


def test_the_creator_lands_signed_in_on_the_new_collective(browse, landing, outsider):
    browser = browse(HOST)  # no session on this host yet
    response = browser.get(landing)
    assert response.status_code == 302 and response["Location"] == "/"
    page = text(browser.get("/"))
    assert "Demander à rejoindre" not in page
    assert "Coordinateur·rice" in page
    assert "Premiers pas" in page
    assert _signed_in_as(browser) == str(outsider.pk)


def test_the_link_cannot_be_replayed(browse, landing):
    assert browse(HOST).get(landing).status_code == 302
    replay = browse(HOST)
    response = replay.get(landing)
    assert response.status_code == 404
    assert "Ce lien de connexion n'est plus valable." in text(response)
    assert _signed_in_as(replay) is None


def test_someone_else_signed_in_there_is_not_switched_and_the_link_is_spent(browse, landing, alpha, outsider):
    other = browse(HOST, alpha.member)
    response = other.get(landing)
    assert response.status_code == 404
    assert "Vous êtes connecté·e ici avec un autre compte" in text(response)
    assert _signed_in_as(other) == str(alpha.member.pk)
    assert browse(HOST).get(landing).status_code == 404  # spent: not even the creator may use it now


def test_the_link_expires_after_two_minutes(browse, landing):
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        browser = browse(HOST)
        assert browser.get(landing).status_code == 404
        assert _signed_in_as(browser) is None


def test_the_link_works_on_its_own_collective_only(browse, landing, alpha):
    browser = browse(alpha)
    assert browser.get(landing).status_code == 404
    assert _signed_in_as(browser) is None
    assert browse(HOST).get(landing).status_code == 302  # still good where it belongs


def test_a_made_up_token_signs_nobody_in(browse, landing):
    browser = browse(HOST)
    assert browser.get("/bienvenue/" + "x" * 43 + "/").status_code == 404
    assert _signed_in_as(browser) is None


def test_only_a_hash_of_the_token_is_kept(landing, outsider):
    token = landing.rstrip("/").rsplit("/", 1)[-1]
    handoff = SignInHandoff.objects.get(user=outsider)
    assert token not in handoff.token_hash and len(handoff.token_hash) == 64


def test_a_creator_who_no_longer_coordinates_is_not_signed_in(alpha):
    token = services.signin_handoff_create(user=alpha.member, collective=alpha.collective)
    with pytest.raises(services.SignInHandoffInvalid):
        services.signin_handoff_use(collective=alpha.collective, token=token, signed_in=None)
