import io
import re

import pytest
from django.core.management import call_command
from PIL import Image

from marketplace import demo
from marketplace.models import Collective, Domain, Invitation, Membership, Role, User
from tests.conftest import text


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _counts() -> dict[str, int]:
    return {
        "collectives": Collective.objects.count(),
        "domains": Domain.objects.count(),
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "invitations": Invitation.objects.count(),
    }


def test_seed_demo_twice_creates_the_demo_once(db, media_root):
    before = _counts()
    output = io.StringIO()
    call_command("seed_demo", stdout=output)
    assert "Created La cagette collective 47 at http://cagette47.localhost/" in output.getvalue()
    assert "coordination@cagette47.demo" in output.getvalue()
    after_first = _counts()
    assert after_first["collectives"] == before["collectives"] + 2
    assert after_first["domains"] == before["domains"] + 2
    assert after_first["users"] == before["users"] + len(demo.ACCOUNTS)
    assert after_first["memberships"] == before["memberships"] + sum(
        len(roles) for *_, roles in demo.ACCOUNTS
    )

    output = io.StringIO()
    call_command("seed_demo", stdout=output)
    assert "Created" not in output.getvalue()
    assert _counts() == after_first


def test_demo_collectives_are_live_at_their_subdomains(browse, media_root):
    call_command("seed_demo", stdout=io.StringIO())

    cagette = Collective.objects.get(slug="cagette47")
    emplettes = Collective.objects.get(slug="emplettes")
    assert cagette.kind == Collective.Kind.DRIVE and cagette.join_mode == Collective.JoinMode.OPEN
    assert emplettes.kind == Collective.Kind.BUYING_GROUP and emplettes.allow_cooptation
    assert emplettes.join_mode == Collective.JoinMode.INVITATION
    assert Domain.objects.get(tenant=cagette).domain == "cagette47.localhost"
    assert Domain.objects.get(tenant=emplettes).domain == "emplettes.localhost"

    page = browse("cagette47.localhost").get("/")
    assert page.status_code == 200
    assert "<h1>La cagette collective 47</h1>" in text(page)
    assert "Drive fermier" in text(page)
    logo_url = re.search(r'src="(/media/c_cagette47/branding/logo-[\w-]+\.png)"', text(page))[1]
    logo = browse("cagette47.localhost").get(logo_url)
    assert Image.open(io.BytesIO(b"".join(logo.streaming_content))).format == "PNG"

    page = browse("emplettes.localhost").get("/")
    assert page.status_code == 200
    assert "<h1>Emplettes et Cagettes</h1>" in text(page)
    assert "Groupement d'achat" in text(page)
    assert "sur invitation uniquement" in text(page)

    directory = text(browse("localhost").get("/"))
    assert "La cagette collective 47" in directory and "Emplettes et Cagettes" in directory


def test_demo_accounts_sign_in_with_their_roles(browse, public_host, media_root):
    call_command("seed_demo", stdout=io.StringIO())
    claire = User.objects.get(email="claire@demo.etal")
    roles = {
        m.collective.slug: m.roles
        for m in Membership.objects.filter(user=claire).select_related("collective")
    }
    assert roles == {"cagette47": [Role.PRODUCER], "emplettes": [Role.MEMBER, Role.PRODUCER]}

    client = browse(public_host)
    response = client.post("/accounts/login/", {"login": "claire@demo.etal", "password": demo.DEMO_PASSWORD})
    assert response.status_code == 302
    page = text(client.get("/mes-collectifs/"))
    assert "La cagette collective 47" in page and "Emplettes et Cagettes" in page

    coordinator = browse("cagette47.localhost", User.objects.get(email="coordination@cagette47.demo"))
    members = text(coordinator.get("/membres/"))
    assert "Karim Benali" in members and "Claire Dubois" in members
    assert "Fatou Diallo" not in members
