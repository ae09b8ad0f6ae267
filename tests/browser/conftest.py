"""Harness of the browser journeys: the app on PostgreSQL, a real Celery worker, Debian's chromium.

What a journey gets (all fixtures are function-scoped unless said otherwise):

- ``site`` → :class:`Site`: the app served by pytest-django's ``live_server`` (a threaded server on the test
  database; every test using it is transactional, and tests/conftest.py rebuilds the ``alpha``/``beta``
  world afterwards). ``PUBLIC_PORT`` is set to the server's port for the test, so that the links the app
  prints (collective addresses, invitation e-mails) are the ones a person would follow.
  ``site.public_url`` is ``http://localhost:<port>``, ``site.collective_url("ferme-du-lot")``
  ``http://ferme-du-lot.localhost:<port>``: chromium resolves every ``*.localhost`` to the loopback.
- ``celery_worker``: a real Celery worker (solo pool, in a thread of this process) fed through the real
  Redis broker; tasks are no longer run eagerly, so e-mails go through Redis as in production.
- ``mailbox`` → :class:`Mailbox`: ``mailbox.wait_for(to=..., subject=...)`` waits for the worker's e-mail
  (locmem backend, same process: ``django.core.mail.outbox``); ``Mailbox.link(message)`` is its first link.
- ``browser`` (session): one chromium for the whole run.
- ``person`` → ``person(first_name, last_name, email)`` returns a :class:`Person` with a browser context
  of their own (sessions are per host, as for a real person), a ``page``, and ``sign_up()`` / ``log_in()``
  that fill allauth's forms on whichever host the page is. Any server error (HTTP 5xx), uncaught
  JavaScript error or Content-Security-Policy violation seen by a person fails the test at teardown.
- ``shoot`` → :class:`Shooter`: ``shoot(page, "name")`` writes ``<artifacts>/<journey>/name-360.png`` and
  ``name-1280.png`` (full page, 360×800 then 1280×900). The journey folder is the test's name;
  ``shoot.journey("2-mairie")`` gives a shooter for another folder. ``<artifacts>`` is ``artifacts/browser/``
  at the repository root, or ``$ETAL_ARTIFACTS``; the end of the run prints where the screenshots are.
- ``stripe_double`` → :class:`devtools.stripe_double.StripeDouble`: the local Stripe double, started for the
  test, with the settings of the live server pointed at it (``STRIPE_SECRET_KEY``, ``STRIPE_API_BASE``,
  ``STRIPE_WEBHOOK_SECRETS``) and its signed events sent to the public host's ``/stripe/webhook/``, as Stripe
  would. Its hosted pages (payment, 3-D Secure, Connect onboarding) are at ``double.url``.
- ``axe_check`` → ``axe_check(page)`` runs axe-core (``tests/browser/node_modules``, pinned in
  ``package.json``, installed by ``make test``) in the page and fails on any violation of impact serious
  or critical, listing the rules and the elements concerned.

To add a journey: write it as a function that takes the people and helpers it needs and drives the pages
through their labels and roles (``page.get_by_label``, ``page.get_by_role``), then call it from a test
that requests ``site`` and, if e-mails are involved, ``celery_worker`` (see test_journeys.py).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core import mail
from django.test import override_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "un-mot-de-passe-solide-2026"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
WIDTHS = [(360, 800), (1280, 900)]
MAIL_TIMEOUT_SECONDS = 20

# Screenshots written during this run, for the summary at the end.
_shots: list[Path] = []
_wide_pages: list[str] = []


def artifacts_dir() -> Path:
    return Path(os.environ.get("ETAL_ARTIFACTS") or REPO_ROOT / "artifacts" / "browser").resolve()


# ------------------------------------------------------------------------------------------------ browser


@pytest.fixture(scope="package")
def browser():
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.fail("chromium not found: run `make system-deps` (Debian's chromium package)")
    # Package scope: the browser (and its event loop) is gone once the journeys are done, so the tests
    # that run after them see no running loop (asgiref refuses async_to_sync under one: the operator's
    # health page). Playwright's synchronous API keeps an event loop running in this thread while it
    # lives; Django's ORM, used by the tests' fixtures (tests/conftest.py rebuilds the world around each
    # test), would take it for async code and refuse to run.
    unsafe_before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            yield launched
            launched.close()
    finally:
        if unsafe_before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = unsafe_before


@dataclass
class Site:
    port: int
    base_domain: str

    @property
    def public_url(self) -> str:
        return f"http://{self.base_domain}:{self.port}"

    def collective_url(self, slug: str) -> str:
        return f"http://{slug}.{self.base_domain}:{self.port}"


@pytest.fixture
def site(live_server, browser) -> Site:
    from django.conf import settings

    port = int(live_server.url.rsplit(":", 1)[1])
    with override_settings(PUBLIC_PORT=str(port)):
        yield Site(port=port, base_domain=settings.BASE_DOMAIN)


# ------------------------------------------------------------------------------------- worker and e-mails


@pytest.fixture
def celery_worker(real_worker):
    """The real worker of the root conftest (tests/conftest.py), under the journeys' name."""
    return real_worker


class Mailbox:
    """The e-mails sent during the test (locmem backend; the worker runs in this process)."""

    def wait_for(self, *, to: str, subject: str = "", timeout: float = MAIL_TIMEOUT_SECONDS):
        deadline = time.monotonic() + timeout
        while True:
            for message in mail.outbox:
                if to in message.to and subject in message.subject:
                    return message
            if time.monotonic() > deadline:
                sent = [(message.to, message.subject) for message in mail.outbox]
                pytest.fail(f"no e-mail to {to} with « {subject} » after {timeout} s; sent: {sent}")
            time.sleep(0.05)

    @staticmethod
    def link(message) -> str:
        found = re.search(r"https?://\S+", message.body)
        assert found, f"no link in the e-mail « {message.subject} »:\n{message.body}"
        return found.group(0)


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


# ------------------------------------------------------------------------------------------------ Stripe

STRIPE_TEST_KEY = "sk_test_etal_browser"
STRIPE_WEBHOOK_SECRET = "whsec_etal_browser"


@pytest.fixture
def stripe_double(site, settings):
    """The Stripe double for this test; the live server (same process) and the worker talk to it."""
    from devtools.stripe_double import StripeDouble

    double = StripeDouble(
        webhook_url=f"{site.public_url}/stripe/webhook/", webhook_secret=STRIPE_WEBHOOK_SECRET
    ).start()
    settings.STRIPE_SECRET_KEY = STRIPE_TEST_KEY
    settings.STRIPE_API_BASE = double.url
    settings.STRIPE_WEBHOOK_SECRETS = [STRIPE_WEBHOOK_SECRET]
    try:
        yield double
    finally:
        double.wait_idle(5)  # no event left in flight towards a server that is going away
        double.stop()


# ------------------------------------------------------------------------------------------------ people

# allauth's labels end with « : » (French typography, with a no-break space).
LABEL_EMAIL = re.compile(r"^Courriel\W*$")
LABEL_PASSWORD = re.compile(r"^Mot de passe\W*$")


@dataclass
class Person:
    first_name: str
    last_name: str
    email: str
    context: object
    page: object
    password: str = PASSWORD
    problems: list[str] = field(default_factory=list)

    def sign_up(self) -> None:
        """Fill allauth's sign-up form (the page must show it) and send it."""
        page = self.page
        page.get_by_label(LABEL_EMAIL).fill(self.email)
        page.get_by_label("Prénom").fill(self.first_name)
        page.get_by_label(re.compile(r"^Nom\W*$")).fill(self.last_name)
        page.get_by_label(LABEL_PASSWORD).fill(self.password)
        page.get_by_label("Mot de passe (confirmation)").fill(self.password)
        page.get_by_role("main").get_by_role("button", name="Créer un compte").click()

    def log_in(self) -> None:
        """Fill allauth's log-in form (the page must show it) and send it."""
        page = self.page
        page.get_by_label(LABEL_EMAIL).fill(self.email)
        page.get_by_label(LABEL_PASSWORD).fill(self.password)
        page.get_by_role("main").get_by_role("button", name="Se connecter").click()


@pytest.fixture
def person(browser):
    """person(first_name, last_name, email, javascript=True) → a Person with their own browser context and
    page (javascript=False: a browser with JavaScript off)."""
    people: list[Person] = []

    def make(first_name: str, last_name: str, email: str, *, javascript: bool = True) -> Person:
        context = browser.new_context(
            viewport={"width": 1280, "height": 900},
            locale="fr-FR",
            timezone_id="Europe/Paris",
            java_script_enabled=javascript,
        )
        context.set_default_timeout(10_000)
        context.etal_javascript = javascript  # axe_check reads it: axe cannot run where scripts are off
        page = context.new_page()
        someone = Person(first_name, last_name, email, context, page)
        page.on(
            "response",
            lambda response: (
                response.status >= 500
                and someone.problems.append(f"HTTP {response.status} on {response.url}")
            ),
        )
        page.on("pageerror", lambda error: someone.problems.append(f"JavaScript error: {error}"))
        # Whatever the Content-Security-Policy blocks (a script, a style, a form's destination) is a problem.
        page.on(
            "console",
            lambda message: (
                "Content Security Policy" in message.text
                and someone.problems.append(f"CSP on {page.url}: {message.text}")
            ),
        )
        people.append(someone)
        return someone

    yield make
    problems = [f"{someone.email}: {problem}" for someone in people for problem in someone.problems]
    for someone in people:
        someone.context.close()
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------------------- screenshots


class Shooter:
    """shoot(page, name): full-page screenshots at 360 px and 1280 px in <artifacts>/<journey>/."""

    _cleared: set[Path] = set()

    def __init__(self, root: Path, journey: str):
        self.folder = root / journey

    def journey(self, journey: str) -> Shooter:
        return Shooter(self.folder.parent, journey)

    def __call__(self, page, name: str) -> list[Path]:
        if self.folder not in Shooter._cleared:  # no stale pictures from an earlier run
            shutil.rmtree(self.folder, ignore_errors=True)
            Shooter._cleared.add(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        before = page.viewport_size
        paths = []
        for width, height in WIDTHS:
            page.set_viewport_size({"width": width, "height": height})
            path = self.folder / f"{name}-{width}.png"
            page.screenshot(path=str(path), full_page=True, animations="disabled")
            if page.evaluate("document.documentElement.scrollWidth > window.innerWidth"):
                _wide_pages.append(f"{path.relative_to(self.folder.parent)} (scrolls sideways)")
            paths.append(path)
        if before:
            page.set_viewport_size(before)
        _shots.extend(paths)
        return paths


@pytest.fixture
def shoot(request) -> Shooter:
    return Shooter(artifacts_dir(), request.node.name.removeprefix("test_"))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Pages wider than the screen, when the journeys ran in this process (the screenshot count is printed
    by tests/conftest.py, which also sees the journeys of pytest -n's workers)."""
    for page in _wide_pages:
        terminalreporter.write_line(f"  wider than the screen: {page}")


# ------------------------------------------------------------------------------------------ accessibility

AXE_SEVERE = {"serious", "critical"}


def _axe_report(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']} — {violation['helpUrl']}"
        )
        for node in violation["nodes"][:10]:
            lines.append(f"    {' '.join(str(part) for part in node['target'])}: {node['html'][:160]}")
    return "\n".join(lines)


@pytest.fixture
def axe_check(browser):
    """axe_check(page): no accessibility violation of impact serious or critical on the page as it is.

    A page seen with JavaScript off is checked as a copy of its document (same address, so the same
    stylesheets) in a page with JavaScript on: axe is a script, and its promises never settle where
    scripts are off (the journey would hang)."""
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `make test` or `npm ci --prefix tests/browser`")

    def run(page) -> None:
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            # Evaluated through the DevTools protocol, which the pages' Content-Security-Policy does not
            # govern: an added <script> tag would be inline code, blocked (and the policy stays on).
            page.evaluate(AXE_JS.read_text() + "\n;undefined")
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        severe = [violation for violation in result["violations"] if violation["impact"] in AXE_SEVERE]
        assert not severe, f"accessibility violations on {page.url}:\n{_axe_report(severe)}"

    def check(page) -> None:
        if getattr(page.context, "etal_javascript", True):
            run(page)
            return
        document = re.sub(r"<head([^>]*)>", rf'<head\1><base href="{page.url}">', page.content(), count=1)
        twin_context = browser.new_context(viewport=page.viewport_size, locale="fr-FR")
        try:
            twin = twin_context.new_page()
            twin.set_content(document)
            run(twin)
        finally:
            twin_context.close()

    return check
