"""How heavy the pages are on the wire: bytes of HTML as sent without and with gzip, and of the stylesheet.

Seeds the demo, renders a few pages as their person sees them (the test client, through every middleware)
and prints, for each, the HTML's raw size and the size sent to a browser that accepts gzip; then the
stylesheet's raw size and its pre-compressed copies (what WhiteNoise sends: brotli, else gzip). A hashed
static file is then cached for a year, so the stylesheet travels once per version.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import brotli
from _setup import django_for_bench

django_for_bench()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from marketplace import tenancy  # noqa: E402
from tests.key_pages import key_pages  # noqa: E402

PAGES = {
    "accueil du collectif (membre)",
    "page de la vente",
    "commander",
    "prix et stocks",
    "création de compte",
}


def kib(size: int) -> str:
    return f"{size / 1024:6.1f} KiB"


def main() -> None:
    tenancy.public_tenant_ensure()
    tenancy.template_tenant_ensure()
    call_command("seed_demo", stdout=io.StringIO())
    print(f"{'page':34} {'HTML':>10} {'gzip sent':>10}  gain")
    for visit in key_pages():
        client = Client(HTTP_HOST=visit.host)
        if visit.user is not None:
            client.force_login(visit.user)
        for name, path in visit.pages.items():
            if name not in PAGES:
                continue
            sent = client.get(path, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
            assert sent.get("Content-Encoding") == "gzip", f"{name} is not compressed"
            plain, size = gzip.decompress(sent.content), len(sent.content)
            print(f"{name:34} {kib(len(plain))} {kib(size)}  {100 - 100 * size / len(plain):.0f} %")
    css = (Path(settings.BASE_DIR) / "static" / "css" / "etal.css").read_bytes()
    print(
        f"{'stylesheet etal.css':34} {kib(len(css))} {kib(len(gzip.compress(css, 9)))} (gzip), "
        f"{kib(len(brotli.compress(css)))} (brotli)"
    )


main()
