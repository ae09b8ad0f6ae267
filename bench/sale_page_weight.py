"""Weight of the member's sale page on the demo data: the HTML (raw and gzip-compressed) and the static
files and images it asks for (count and bytes, raw and gzip-compressed).

Loads the demo collectives (`seed_demo`) into a throw-away database, signs in the demo member of
La cagette collective 47 and renders the open sale's page through Django's test client, as the browser
would get it. The static files are read from the finders, the product thumbnails from the media storage.
Prints figures only: the issue asks that the page grow no heavier, which is compared by hand.
"""

from __future__ import annotations

import gzip
import os
import re
import sys
from pathlib import Path

import _setup

_setup.BENCH_DATABASE = "etal_bench_page_weight"  # its own database: other benchmarks drop theirs
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
_setup.django_for_bench()

from django.conf import settings  # noqa: E402
from django.contrib.staticfiles import finders  # noqa: E402
from django.core.files.storage import default_storage  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from marketplace.models import Collective, User  # noqa: E402
from orders.models import Sale  # noqa: E402

HOST = "cagette47.localhost"
MEMBER = "membre@cagette47.demo"
ASSET = re.compile(r"""<(?:link|script|img)\b[^>]*?\b(?:href|src)="([^"]+)\"""")


def _gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def _asset_bytes(url: str) -> bytes | None:
    if url.startswith(settings.STATIC_URL):
        path = finders.find(url.removeprefix(settings.STATIC_URL).split("?")[0])
        return open(path, "rb").read() if path else None  # noqa: SIM115 - read once, closed by GC
    if url.startswith(settings.MEDIA_URL):
        name = url.removeprefix(settings.MEDIA_URL)
        return default_storage.open(name).read() if default_storage.exists(name) else None
    return None


def main() -> None:
    call_command("seed_demo", "--quiet")
    collective = Collective.objects.get(domains__domain=HOST)
    with schema_context(collective.schema_name):
        now = timezone.now()
        sale = Sale.objects.filter(is_published=True, opens_at__lte=now, closes_at__gt=now).first()
        offers = sale.offers.count()
    client = Client(HTTP_HOST=HOST)
    client.force_login(User.objects.get(email=MEMBER))
    response = client.get(f"/ventes/{sale.pk}/")
    assert response.status_code == 200, response.status_code
    html = response.content
    if len(sys.argv) > 1:  # keep the page to look at: sale_page_weight.py page.html
        Path(sys.argv[1]).write_bytes(html)
    assets = sorted(set(ASSET.findall(html.decode())))
    static_raw = static_gz = found = 0
    for url in assets:
        data = _asset_bytes(url)
        if data is None:
            print(f"  (not found: {url})")
            continue
        found += 1
        static_raw += len(data)
        static_gz += _gz(data) if not url.endswith((".png", ".jpg", ".jpeg", ".webp")) else len(data)
    fields = html.count(b'class="qty"')
    print(f"sale page « {sale.title} », {offers} products, {fields} quantity fields, as {MEMBER}")
    print(f"HTML: {len(html)} bytes, {_gz(html)} bytes gzip-compressed")
    print(f"static files and images: {found} requests, {static_raw} bytes, {static_gz} bytes gzip-compressed")
    print(
        "  "
        + ", ".join(url for url in assets if url.startswith(settings.STATIC_URL))
        + ", and product thumbnails"
    )
    print(
        f"total: {1 + found} requests, {len(html) + static_raw} bytes, "
        f"{_gz(html) + static_gz} bytes compressed"
    )


main()
