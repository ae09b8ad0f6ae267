"""Every tap target is at least 44 px high on a 360 px wide phone, on each person's main pages.

The demo (`seed_demo`) is served by the live server; a member, a producer, the town hall's staff member and
the coordinator of « La cagette collective 47 » sign in through the log-in form, and anonymous visitors see
the public pages (tests/key_pages.py lists them all, shared with the Nu HTML check). On each page, at
360 × 740, every <details> is opened (the phone menu, help boxes) and the bounding box of every visible
interactive element is measured: links, buttons, inputs, selects, textareas, summaries, and checkboxes and
radios together with their labels (a tap on the label ticks the box, so the target is the box plus its
label). The test fails listing each offender: page, text, element and size.

The rule applied: WCAG 2.2 success criterion 2.5.5 « Target Size (Enhanced) » (44 × 44 CSS pixels), here
for the height (the width of a target is its text's), with that criterion's « Inline » exception: a link
inside a sentence, whose size is set by the line-height of the text around it, is not a target to
enlarge. A link counts as inline when it is displayed inline and its block holds other words than its
own (outside any link or button). Elements hidden from sight (display: none, visibility: hidden, the
1 px « visually-hidden » ones, the skip link moved off the screen until it is focused) are not measured.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from marketplace.demo import DEMO_PASSWORD
from tests.key_pages import key_pages

MIN_PX = 44
PHONE = {"width": 360, "height": 740}

MEASURE = """(minimum) => {
    const INTERACTIVE = "a[href], button, input:not([type=hidden]), select, textarea, summary";
    const isBlock = (el) => !getComputedStyle(el).display.startsWith("inline");
    const seen = (el) => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
    const tiny = (r) => r.width <= 2 || r.height <= 2;
    const offScreen = (r) => r.right <= 0 || r.bottom <= 0 || r.left >= document.documentElement.scrollWidth;
    const words = (el) => (el.innerText || el.value || el.getAttribute("aria-label") || "").trim()
        .replace(/\\s+/g, " ").slice(0, 60);
    const inSentence = (el) => {
        if (el.tagName !== "A" || isBlock(el)) return false;
        let block = el.parentElement;
        while (block && !isBlock(block)) block = block.parentElement;
        if (!block) return false;
        const clone = block.cloneNode(true);
        clone.querySelectorAll("a, button, input, select, textarea, label").forEach((n) => n.remove());
        return /[\\p{L}\\p{N}]{2,}/u.test(clone.textContent);
    };
    const union = (rects) => {
        const left = Math.min(...rects.map((r) => r.left)), top = Math.min(...rects.map((r) => r.top));
        const right = Math.max(...rects.map((r) => r.right));
        const bottom = Math.max(...rects.map((r) => r.bottom));
        return {width: right - left, height: bottom - top};
    };
    const offenders = [];
    for (const el of document.querySelectorAll(INTERACTIVE)) {
        if (!seen(el)) continue;
        let rect = el.getBoundingClientRect();
        let text = words(el);
        const kind = el.tagName.toLowerCase() + (el.type && el.tagName === "INPUT" ? `[${el.type}]` : "");
        if (el.type === "checkbox" || el.type === "radio") {
            const labels = [...(el.labels || [])].filter(seen);
            const rects = labels.map((l) => l.getBoundingClientRect()).filter((r) => !tiny(r));
            if (!tiny(rect)) rects.push(rect);
            if (!rects.length) continue;
            rect = union(rects);
            text = labels.map(words).join(" ") || el.name;
        } else if (tiny(rect) || offScreen(rect)) {
            continue;
        }
        if (rect.height + 0.5 >= minimum) continue;
        if (inSentence(el)) continue;
        offenders.push({kind, text, width: Math.round(rect.width), height: Math.round(rect.height)});
    }
    return offenders;
}"""


def _counted(pages: list[str]) -> str:
    """« page a; page b (×3) »: each page once, in the order met."""
    return "; ".join(
        f"{page} (×{pages.count(page)})" if pages.count(page) > 1 else page for page in dict.fromkeys(pages)
    )


def _log_in(page, url: str, email: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.get_by_label(re.compile(r"^Courriel\W*$")).fill(email)
    page.get_by_label(re.compile(r"^Mot de passe\W*$")).fill(DEMO_PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url, f"{email} could not sign in"


def test_every_tap_target_is_44_px_high_on_a_phone(site, browser, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", stdout=io.StringIO())
    # (text, element, width, height) → the pages where it is found: a header link too small is one line.
    offenders: dict[tuple[str, str, int, int], list[str]] = {}
    measured = 0
    for visit in key_pages():
        context = browser.new_context(viewport=PHONE, locale="fr-FR", timezone_id="Europe/Paris")
        context.set_default_timeout(15_000)
        page = context.new_page()
        url = site.collective_url(visit.slug) if visit.slug else site.public_url
        if visit.user is not None:
            _log_in(page, url, visit.who)
        for name, path in visit.pages.items():
            response = page.goto(f"{url}{path}")
            assert response is not None and response.ok, f"{name} ({visit.who}, {path}): {response}"
            page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
            measured += 1
            for found in page.evaluate(MEASURE, MIN_PX):
                key = (found["text"], found["kind"], found["width"], found["height"])
                offenders.setdefault(key, []).append(f"{name} ({visit.who}, {path})")
        context.close()
    assert measured >= 20
    lines = [
        f"« {text} » <{kind}> {width}×{height} px, {len(pages)} time(s), on: {_counted(pages)}"
        for (text, kind, width, height), pages in sorted(offenders.items(), key=lambda item: -len(item[1]))
    ]
    if offenders:
        heading = f"{len(offenders)} tap targets under {MIN_PX} px high at 360 px:"
        pytest.fail("\n".join([heading, *lines]), pytrace=False)
