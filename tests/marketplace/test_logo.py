"""A collective's logo: re-encoded from its pixels, under a random name, within a pixel limit."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from marketplace.models import Collective
from tests.conftest import text
from tests.marketplace.test_isolation import SETTINGS_FORM
from tests.producers.factories import png, png_header_only


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _image(format_: str, size=(64, 48), mode="RGB", name="logo.png") -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new(mode, size, (10, 120, 40) if mode == "RGB" else (10, 120, 40, 128)).save(buffer, format=format_)
    buffer.seek(0)
    buffer.name = name
    return buffer


def _logo(alpha) -> str:
    return Collective.objects.get(pk=alpha.collective.pk).logo.name


def _served(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_logo_keeps_only_its_pixels_whatever_its_name(browse, alpha, public_host, media_root):
    """PNG bytes followed by a PDF and named logo.pdf: stored and served as a PNG, on every page."""
    trick = io.BytesIO(png(size=(64, 48)).getvalue() + b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF")
    trick.name = "logo.pdf"
    response = browse(alpha, alpha.coordinator).post("/reglages/", {**SETTINGS_FORM, "logo": trick})
    assert response.status_code == 302
    name = _logo(alpha)
    assert name.startswith("c_alpha/branding/logo-") and name.endswith(".png")
    for host in [alpha, public_host]:
        served = browse(host).get(f"/media/{name}")
        assert served.status_code == 200 and served["Content-Type"] == "image/png"
        body = _served(served)
        assert b"%PDF" not in body and Image.open(io.BytesIO(body)).size == (64, 48)
    assert browse(alpha).get(f"/media/{name[:-4]}.pdf").status_code == 404


@pytest.mark.parametrize(
    ("format_", "mode", "extension", "content_type"),
    [
        ("JPEG", "RGB", "jpg", "image/jpeg"),
        ("WEBP", "RGB", "webp", "image/webp"),
        ("PNG", "RGBA", "png", "image/png"),
    ],
)
def test_a_logo_is_stored_in_its_own_format(
    browse, alpha, media_root, format_, mode, extension, content_type
):
    upload = _image(format_, mode=mode, name="mon logo.gif")
    assert (
        browse(alpha, alpha.coordinator).post("/reglages/", {**SETTINGS_FORM, "logo": upload}).status_code
        == 302
    )
    name = _logo(alpha)
    assert name.endswith(f".{extension}")
    served = browse(alpha).get(f"/media/{name}")
    assert served["Content-Type"] == content_type
    assert Image.open(io.BytesIO(_served(served))).format == format_


def test_a_large_logo_is_brought_down_to_800_pixels(browse, alpha, media_root):
    response = browse(alpha, alpha.coordinator).post(
        "/reglages/", {**SETTINGS_FORM, "logo": png(size=(3000, 1500))}
    )
    assert response.status_code == 302
    with Image.open(media_root / _logo(alpha)) as stored:
        assert stored.size == (800, 400)


@pytest.mark.parametrize("size", [(12_500, 12_000), (7_000, 7_000)])
def test_a_logo_of_too_many_pixels_is_refused(browse, alpha, media_root, size):
    bomb = png_header_only(*size, name="logo.png")
    response = browse(alpha, alpha.coordinator).post("/reglages/", {**SETTINGS_FORM, "logo": bomb})
    assert response.status_code == 400
    assert "Cette image est trop grande : 40 mégapixels au plus." in text(response)
    assert not _logo(alpha) and not list(media_root.rglob("*.*"))


def test_a_replaced_or_removed_logo_is_deleted(browse, alpha, media_root, django_capture_on_commit_callbacks):
    client = browse(alpha, alpha.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/reglages/", {**SETTINGS_FORM, "logo": png(size=(32, 32))})
    first = _logo(alpha)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/reglages/", {**SETTINGS_FORM, "logo": png(size=(40, 40), colour=(1, 2, 3))})
    second = _logo(alpha)
    assert second != first and (media_root / second).exists() and not (media_root / first).exists()
    assert browse(alpha).get(f"/media/{first}").status_code == 404
    # Saving the other settings keeps the logo.
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/reglages/", {**SETTINGS_FORM, "description": "Autre description."})
    assert _logo(alpha) == second and (media_root / second).exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/reglages/", {**SETTINGS_FORM, "logo-clear": "on"})
    assert not _logo(alpha) and not list(media_root.rglob("*.*"))
