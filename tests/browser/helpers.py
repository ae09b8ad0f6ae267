"""What the browser journeys share: things found on a page as a person names them, the clock's jobs."""

from __future__ import annotations

import re
import time
from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import Page

# In a page: fetch an address with the page's session, the body in base64 (Playwright's own request client
# does not resolve *.localhost as chromium does).
FETCH_FILE = """async (url) => {
    const response = await fetch(url);
    const bytes = new Uint8Array(await response.arrayBuffer());
    let binary = "";
    for (const byte of bytes) binary += String.fromCharCode(byte);
    return {
        status: response.status,
        type: response.headers.get("content-type"),
        disposition: response.headers.get("content-disposition") || "",
        body: btoa(binary),
    };
}"""


def label(text: str) -> re.Pattern:
    """A form label exactly, whatever follows it: Django ends French labels with « : »."""
    return re.compile(rf"^{re.escape(text)}\W*$")


def menu(page: Page, name: str):
    """A link of the site's main navigation."""
    return page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name=name, exact=True
    )


def flash(page: Page):
    """The confirmation messages shown at the top of the page."""
    return page.locator(".messages")


def euros(amount: str) -> re.Pattern:
    """« 31,70 € » whatever space the page puts before the euro sign (Django's is a no-break one)."""
    return re.compile(rf"{re.escape(amount)}\s€")


def fact(page: Page, term: str):
    """The value (<dd>) of a term (<dt>) in a list of facts."""
    return page.locator(f"dl.facts dt:text-is('{term}') + dd")


def wait_until(what: str, check, timeout: float = 20.0):
    """Poll `check()` until it returns something true (the worker runs in a thread of this process)."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"still waiting after {timeout} s for {what}"
        time.sleep(0.1)
    return result


def sale_closes_by_the_clock(*, schema_name: str, sale_id: int, kinds: set[str]) -> None:
    """The closing time passes: the clock's job (queued as beat does, run by the real worker) closes the
    sale and makes its PDF sheets; wait until those of `kinds` exist."""
    from orders import tasks
    from orders.models import Sale, Sheet

    with schema_context(schema_name):
        Sale.objects.filter(pk=sale_id).update(closes_at=timezone.now() - timedelta(minutes=1))
    tasks.sales_due_process.delay(schema_name=schema_name)

    def sheets_made() -> bool:
        with schema_context(schema_name):
            made = set(Sheet.objects.filter(sale_id=sale_id).values_list("kind", flat=True))
            return kinds <= made

    wait_until(f"the sheets {sorted(kinds)} of the closed sale", sheets_made)
