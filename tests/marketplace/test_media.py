"""Public media cannot be walked: every spelling of a way out of a folder gets a 404, on every host.

Files are laid out as an older version left them: a delivery sheet under MEDIA_ROOT next to the logos and
photos, so that a walk that works would show its bytes.
"""

from __future__ import annotations

import pytest

SHEET = b"%PDF-1.4 Fatou Diallo 06 20 00 00 03"
LOGO = b"\x89PNG\r\n\x1a\n alpha logo"
BETA_LOGO = b"\x89PNG\r\n\x1a\n beta logo"
PHOTO = b"\xff\xd8\xff\xe0 tomato"
FARM = b"\xff\xd8\xff\xe0 farm"

FILES = {
    "c_alpha/branding/logo-abc.png": LOGO,
    "c_alpha/products/tomate.jpg": PHOTO,
    "c_alpha/producers/ferme.jpg": FARM,
    "c_alpha/sheets/sale-1/point-salle-des-fetes-20250101120000.pdf": SHEET,
    "c_beta/branding/logo-def.png": BETA_LOGO,
    "c_beta/sheets/sale-1/summary-vente-20250101120000.pdf": SHEET,
}
ALPHA_SHEET = "sheets/sale-1/point-salle-des-fetes-20250101120000.pdf"

# Ways to write "the parent folder" and "/" that a server or the browser may decode to `..` and `/`.
UP = ["..", "%2e%2e", "%2E%2E", ".%2e", "%2e.", "%252e%252e", "%2e%2e%2f..", "...."]
SEP = ["/", "%2f", "%2F", "\\", "%5c", "%5C", "//", "/./"]


def walks(start: str, target: str) -> list[str]:
    """Every spelling of /media/<start>/../<target> (which a normalising server reads as <parent>/<target>),
    and the other tricks: empty and `.` segments, null bytes, double encoding."""
    parent = start.rsplit("/", 1)[0] if "/" in start else ""
    paths = [f"/media/{start}{sep}{up}{sep}{target}" for up in UP for sep in SEP]
    paths += [f"/media/{start}/..%2f{target}", f"/media/{start}/%2e%2e%2f{target}"]
    paths += [f"/media/{start}/{up}/./{target}" for up in ["..", "%2e%2e"]]
    paths += [f"/media/{start}/..%00/{target}", f"/media/{start}%00/../{target}"]
    if parent:
        paths += [
            f"/media/{parent}//{target}",
            f"/media/{parent}/./{target}",
            f"/media/{parent}/%2e/{target}",
            f"/media/{parent}/.%2f{target}",
            f"/media/{parent}%2f{target}",
            f"/media/{parent}/{target}%00.png",
            f"/media/{parent}\\{target}",
            f"/media/{parent}/{target}/",
        ]
    return paths


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    for name, content in FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(content)
    return tmp_path


def _served(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _leaks(client, paths: list[str]) -> list[tuple[str, int]]:
    """The paths that did not get a plain 404 (or showed a private byte)."""
    found = []
    for path in paths:
        response = client.get(path)
        body = _served(response)
        if response.status_code != 404 or any(secret in body for secret in FILES.values()):
            found.append((path, response.status_code))
    return found


def _people(request, which: str):
    cast, role = which.split(":")
    if cast == "public":
        return None if role == "anonymous" else request.getfixturevalue("outsider")
    people = request.getfixturevalue(cast)
    return None if role == "anonymous" else getattr(people, role)


@pytest.mark.parametrize("which", ["alpha:anonymous", "alpha:member", "alpha:coordinator"])
def test_a_collective_s_own_host_cannot_be_walked(request, browse, alpha, media_root, which):
    client = browse(alpha, _people(request, which))
    paths = walks("c_alpha/branding", ALPHA_SHEET) + walks("c_alpha", "c_beta/branding/logo-def.png")
    paths += walks("c_alpha/products", "../c_beta/sheets/sale-1/summary-vente-20250101120000.pdf")
    assert len(paths) > 150
    assert _leaks(client, paths) == []
    # Straight: its own sheets are not media either.
    assert client.get(f"/media/c_alpha/{ALPHA_SHEET}").status_code == 404


@pytest.mark.parametrize("which", ["beta:anonymous", "beta:member", "beta:coordinator"])
def test_another_collective_s_host_cannot_reach_alpha(request, browse, beta, media_root, which):
    client = browse(beta, _people(request, which))
    paths = walks("c_beta", f"c_alpha/{ALPHA_SHEET}") + walks("c_beta", "c_alpha/branding/logo-abc.png")
    paths += walks("c_beta/branding", f"../c_alpha/{ALPHA_SHEET}")
    assert _leaks(client, paths) == []
    assert client.get("/media/c_alpha/branding/logo-abc.png").status_code == 404
    assert client.get(f"/media/c_alpha/{ALPHA_SHEET}").status_code == 404


@pytest.mark.parametrize("which", ["public:anonymous", "public:outsider"])
def test_the_public_host_serves_logos_and_nothing_else(request, browse, public_host, media_root, which):
    client = browse(public_host, _people(request, which))
    paths = walks("c_alpha/branding", ALPHA_SHEET) + walks("c_alpha/branding", "products/tomate.jpg")
    paths += walks("c_beta/branding", f"../c_alpha/{ALPHA_SHEET}")
    assert _leaks(client, paths) == []
    for straight in [f"/media/c_alpha/{ALPHA_SHEET}", "/media/c_alpha/products/tomate.jpg"]:
        assert client.get(straight).status_code == 404
    logo = client.get("/media/c_alpha/branding/logo-abc.png")
    assert logo.status_code == 200 and logo["Content-Type"] == "image/png" and _served(logo) == LOGO
    assert _served(client.get("/media/c_beta/branding/logo-def.png")) == BETA_LOGO


@pytest.mark.parametrize("who", [None, "member"])
def test_a_collective_s_host_serves_its_own_logo_and_photos(browse, alpha, media_root, who):
    client = browse(alpha, getattr(alpha, who) if who else None)
    for path, content, content_type in [
        ("/media/c_alpha/branding/logo-abc.png", LOGO, "image/png"),
        ("/media/c_alpha/products/tomate.jpg", PHOTO, "image/jpeg"),
        ("/media/c_alpha/producers/ferme.jpg", FARM, "image/jpeg"),
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Content-Type"] == content_type and _served(response) == content
        assert response["X-Content-Type-Options"] == "nosniff"


def test_only_images_are_served_from_public_folders(browse, alpha, media_root):
    """A file that is not an image (a logo uploaded as logo.pdf by an older version) is not sent."""
    (media_root / "c_alpha" / "branding" / "logo.pdf").write_bytes(LOGO + b"%PDF-1.4")
    (media_root / "c_alpha" / "branding" / ".hidden.png").write_bytes(LOGO)
    client = browse(alpha)
    assert client.get("/media/c_alpha/branding/logo.pdf").status_code == 404
    assert client.get("/media/c_alpha/branding/.hidden.png").status_code == 404
    assert client.get("/media/c_alpha/branding/").status_code == 404
