"""Screenshots of the main pages at 360 px and 1280 px, as each role sees them, against a running `make dev`.

    .venv/bin/python scripts/screenshots.py [--base http://localhost:8000] [--out artifacts/screenshots]

Uses Debian's chromium (never a downloaded browser) through Playwright.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from marketplace.demo import DEMO_PASSWORD  # noqa: E402

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTHS = [360, 1280]

# (name, collective sub-domain or "" for the public site, account or None, path)
PAGES = [
    ("public-directory", "", None, "/"),
    ("public-search", "", None, "/?q=47"),
    ("public-signup", "", None, "/accounts/signup/"),
    ("public-point-proposal", "", None, "/proposer-un-point-de-retrait/"),
    ("public-create-collective", "", "membre@cagette47.demo", "/collectifs/nouveau/"),
    ("public-my-collectives", "", "claire@demo.etal", "/mes-collectifs/"),
    ("public-shared-catalogue", "", "claire@demo.etal", "/mon-catalogue/"),
    ("public-shared-product", "", "claire@demo.etal", "/mon-catalogue/1/"),
    ("public-sales-across", "", "claire@demo.etal", "/mes-ventes/"),
    ("unknown-collective", "inconnu", None, "/"),
    ("cagette47-home", "cagette47", None, "/"),
    ("cagette47-login", "cagette47", None, "/accounts/login/"),
    ("cagette47-home-member", "cagette47", "membre@cagette47.demo", "/"),
    ("cagette47-members", "cagette47", "coordination@cagette47.demo", "/membres/"),
    ("cagette47-invitations", "cagette47", "coordination@cagette47.demo", "/invitations/"),
    ("cagette47-settings", "cagette47", "coordination@cagette47.demo", "/reglages/"),
    ("cagette47-forbidden-for-member", "cagette47", "membre@cagette47.demo", "/membres/"),
    ("emplettes-home", "emplettes", None, "/"),
    ("emplettes-cooptation", "emplettes", "membre@emplettes.demo", "/cooptation/"),
    # Pickup points: the demo's first point and distribution have id 1 in each collective.
    ("cagette47-staff-points", "cagette47", "mairie@cagette47.demo", "/points/"),
    ("cagette47-staff-point-edit", "cagette47", "mairie@cagette47.demo", "/points/1/"),
    ("cagette47-staff-day", "cagette47", "mairie@cagette47.demo", "/points/1/distributions/1/"),
    ("cagette47-staff-slots", "cagette47", "mairie@cagette47.demo", "/points/1/distributions/1/creneaux/"),
    ("cagette47-coordinator-points", "cagette47", "coordination@cagette47.demo", "/points/"),
    ("cagette47-point-proposals", "cagette47", "coordination@cagette47.demo", "/points-proposes/"),
    ("cagette47-coordinator-team", "cagette47", "coordination@cagette47.demo", "/points/1/equipe/"),
    ("cagette47-coordinator-distributions", "cagette47", "coordination@cagette47.demo", "/distributions/"),
    ("cagette47-coordinator-distribution", "cagette47", "coordination@cagette47.demo", "/distributions/1/"),
    ("cagette47-member-pickup", "cagette47", "membre@cagette47.demo", "/retrait/"),
    ("cagette47-member-booked", "cagette47", "membre@cagette47.demo", "/retrait/1/"),
    ("emplettes-member-booking", "emplettes", "coordination@emplettes.demo", "/retrait/1/"),
    ("emplettes-staff-points", "emplettes", "centre-social@emplettes.demo", "/points/"),
    # Producers: in cagette47 the demo's first farm (id 1) is the producer account's, its first product id 1.
    ("cagette47-shop", "cagette47", None, "/boutique/"),
    ("cagette47-shop-search", "cagette47", "membre@cagette47.demo", "/boutique/?q=miel"),
    ("cagette47-shop-producer", "cagette47", None, "/boutique/producteurs/1/"),
    ("cagette47-producer-catalogue", "cagette47", "producteur@cagette47.demo", "/producteurs/1/"),
    ("cagette47-producer-product", "cagette47", "producteur@cagette47.demo", "/produits/1/"),
    ("cagette47-producer-stock", "cagette47", "producteur@cagette47.demo", "/producteurs/1/prix-et-stocks/"),
    ("cagette47-producer-import", "cagette47", "producteur@cagette47.demo", "/producteurs/1/importer/"),
    ("cagette47-coordinator-producers", "cagette47", "coordination@cagette47.demo", "/producteurs/"),
    ("cagette47-coordinator-accounts", "cagette47", "coordination@cagette47.demo", "/producteurs/1/comptes/"),
    ("cagette47-coordinator-categories", "cagette47", "coordination@cagette47.demo", "/categories/"),
    ("emplettes-shop", "emplettes", "membre@emplettes.demo", "/boutique/"),
    ("emplettes-supplier-catalogue", "emplettes", "fournisseur@emplettes.demo", "/producteurs/"),
    # Money: « Mes ventes » with the Stripe Connect state, « Mon solde », the Stripe reconciliation.
    ("cagette47-my-sales-connected", "cagette47", "claire@demo.etal", "/mes-ventes/"),
    ("cagette47-my-sales-to-connect", "cagette47", "producteur@cagette47.demo", "/mes-ventes/"),
    ("cagette47-my-balance", "cagette47", "membre@cagette47.demo", "/mon-solde/"),
    ("cagette47-stripe-reconciliation", "cagette47", "coordination@cagette47.demo", "/tresorerie/stripe/"),
    # Claire's farm is the buying group's fifth: her shared products, accepted or refused by the coordinator.
    ("emplettes-coordinator-shared", "emplettes", "coordination@emplettes.demo", "/producteurs/5/"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="http://localhost:8000")
    parser.add_argument("--out", default="artifacts/screenshots")
    parser.add_argument("--only", default="", help="only the pages whose name contains this")
    args = parser.parse_args()
    base = urlsplit(args.base)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("chromium not found: run `make system-deps`", file=sys.stderr)
        return 1
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for name, subdomain, account, path in PAGES:
            if args.only not in name:
                continue
            host = f"{subdomain}.{base.hostname}" if subdomain else base.hostname
            origin = f"{base.scheme}://{host}:{base.port}" if base.port else f"{base.scheme}://{host}"
            for width in WIDTHS:
                context = browser.new_context(viewport={"width": width, "height": 800}, locale="fr-FR")
                page = context.new_page()
                if account:
                    page.goto(f"{origin}/accounts/login/")
                    page.fill("input[name=login]", account)
                    page.fill("input[name=password]", DEMO_PASSWORD)
                    page.click("form button[type=submit]:not(.link)")
                page.goto(origin + path)
                target = out / f"{name}-{width}.png"
                page.screenshot(path=str(target), full_page=True)
                overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
                print(f"{target}{'  (horizontal scroll!)' if overflow else ''}")
                context.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
