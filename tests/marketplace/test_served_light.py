"""Pages travel compressed, static files and photos are cached for long (issue 16, « Servi léger »).

- Pages (text) are gzip-compressed when the browser accepts it (Django's GZipMiddleware, with its BREACH
  mitigation); photos are not compressed again.
- Static files get content-hashed names (CompressedManifestStaticFilesStorage, as in production: the tests'
  settings use the plain storage) and WhiteNoise sends the hashed ones with a year-long, immutable
  Cache-Control, pre-compressed; the unhashed name is cached only briefly.
- Uploaded photos and logos have a new random name per upload, so they are sent with a year-long
  Cache-Control too.
"""

from __future__ import annotations

import gzip
import re

import pytest
from django.core.management import call_command
from django.test import override_settings

from tests.conftest import HostClient

YEAR = 31536000
PHOTO = b"\xff\xd8\xff\xe0" + b"tomato " * 200


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_pages_are_gzipped_when_the_browser_accepts_it(browse, alpha):
    page = browse(alpha, alpha.member).get("/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert page.status_code == 200
    assert page["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in page["Vary"]
    html = gzip.decompress(page.content).decode()
    assert "<h1>" in html and alpha.collective.name in html
    assert int(page["Content-Length"]) == len(page.content) < len(html.encode())


def test_pages_are_plain_for_a_client_without_gzip(browse, alpha):
    page = browse(alpha, alpha.member).get("/")
    assert page.status_code == 200
    assert not page.has_header("Content-Encoding")
    assert alpha.collective.name in page.content.decode()


def test_photos_are_cached_a_year_and_not_compressed_again(browse, alpha, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "c_alpha" / "products").mkdir(parents=True)
    (tmp_path / "c_alpha" / "products" / "0123abcd-320.jpg").write_bytes(PHOTO)
    photo = browse(alpha).get("/media/c_alpha/products/0123abcd-320.jpg", HTTP_ACCEPT_ENCODING="gzip")
    assert photo.status_code == 200 and _body(photo) == PHOTO
    assert photo["Cache-Control"] == f"public, max-age={YEAR}, immutable"
    assert not photo.has_header("Content-Encoding")


@pytest.fixture
def collected_static(tmp_path):
    """The static files collected as the production image does (hashed names, .gz and .br copies)."""
    manifest = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "private": {"BACKEND": "marketplace.storage.PrivateFileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    with override_settings(STATIC_ROOT=tmp_path / "static", STORAGES=manifest, DEBUG=False):
        call_command("collectstatic", "--noinput", "--ignore", "admin", verbosity=0)
        yield tmp_path / "static"


def test_hashed_static_files_are_cached_for_good(alpha, collected_static):
    client = HostClient(alpha.host)  # a new client: its middleware (WhiteNoise) reads the collected files
    page = client.get("/").content.decode()
    stylesheet = re.search(r'href="(/static/css/etal\.[0-9a-f]{12}\.css)"', page)
    assert stylesheet, "the page does not link the hashed stylesheet"

    css = client.get(stylesheet[1], HTTP_ACCEPT_ENCODING="gzip, br")
    assert css.status_code == 200
    assert "immutable" in css["Cache-Control"] and "public" in css["Cache-Control"]
    assert int(re.search(r"max-age=(\d+)", css["Cache-Control"])[1]) >= YEAR
    assert css["Content-Encoding"] in {"br", "gzip"}

    plain = client.get("/static/css/etal.css")
    assert plain.status_code == 200
    assert "immutable" not in plain["Cache-Control"]
    assert int(re.search(r"max-age=(\d+)", plain["Cache-Control"])[1]) <= 3600


def test_the_phone_menu_holds_the_same_links_as_the_wide_navigation(browse, alpha):
    """The header's links are rendered once and shown twice (wide, and folded into « Menu » on a phone):
    both hold the signed-in member's own links, and a coordinator's differ from a member's."""
    import re

    def navs(who) -> list[str]:
        page = browse(alpha, who).get("/").content.decode()
        wide = re.search(r'<nav class="nav-wide"[^>]*>(.*?)</nav>', page, re.S).group(1)
        small = re.search(r'<details class="nav-small">.*?<nav[^>]*>(.*?)</nav>', page, re.S).group(1)
        token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')  # the links, not the form's token
        return [" ".join(token.sub("", wide).split()), " ".join(token.sub("", small).split())]

    member_wide, member_small = navs(alpha.member)
    assert member_wide == member_small and "Mes commandes" in member_wide and "Se déconnecter" in member_wide
    coordinator_wide, coordinator_small = navs(alpha.coordinator)
    assert coordinator_wide == coordinator_small and "Membres" in coordinator_wide
    assert "Membres" not in member_wide
    visitor_wide, visitor_small = navs(None)
    assert (
        visitor_wide == visitor_small
        and "Se connecter" in visitor_wide
        and "Mes commandes" not in visitor_wide
    )


def test_the_kept_navigation_carries_each_members_own_sign_out_token_and_follows_their_roles(browse, alpha):
    """The header's links of a signed-in account are kept once rendered (per collective kind, roles and
    language): each member still gets their own CSRF token in the sign-out form (signing out works), and a
    role given or a collective's option changed shows at the next page."""
    from marketplace.models import Membership, Role, User

    other = User.objects.create_user(email="second@alpha.test", password="x", first_name="Sam")
    Membership.objects.create(user=other, collective=alpha.collective, roles=[Role.MEMBER])

    def sign_out(user) -> int:
        client = browse(alpha, user)
        client.handler.enforce_csrf_checks = True
        page = client.get("/").content.decode()
        wide = re.search(r'<nav class="nav-wide"[^>]*>(.*?)</nav>', page, re.S).group(1)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', wide).group(1)
        response = client.post("/accounts/logout/", {"csrfmiddlewaretoken": token})
        assert "_auth_user_id" not in client.session
        return response.status_code

    assert sign_out(alpha.member) == 302
    assert sign_out(other) == 302  # the same links as Maud's, with Sam's own token

    def wide_links(user) -> str:
        page = browse(alpha, user).get("/").content.decode()
        return re.search(r'<nav class="nav-wide"[^>]*>(.*?)</nav>', page, re.S).group(1)

    assert "Membres" not in wide_links(other) and "Parrainer" not in wide_links(other)
    alpha.collective.allow_cooptation = True
    alpha.collective.save(update_fields=["allow_cooptation"])
    assert "Parrainer" in wide_links(other)
    Membership.objects.filter(user=other).update(roles=[Role.MEMBER, Role.COORDINATOR])
    assert "Membres" in wide_links(other) and "Parrainer" not in wide_links(other)
