"""The demo buying group's waiting list, as its members see it (issue 18, item 5): Fatou (membre@) finds the
place freed in the full first slot held for her, takes it in one click, and her order moves there; Nadia,
next in line, sees that she is first now; the same for a sold-out product (its 2 freed units go into Fatou's
order), and Claire, without JavaScript, joins that product's list from the sale page. Screenshots at 360 px
and 1280 px; axe-core on the member pages."""

from __future__ import annotations

import io
import re

from django.core.management import call_command
from playwright.sync_api import expect

from marketplace.demo import DEMO_PASSWORD
from tests.browser.helpers import flash


def _log_in(person, url: str) -> None:
    page = person.page
    page.goto(f"{url}/accounts/login/")
    person.password = DEMO_PASSWORD
    person.log_in()
    page.wait_for_load_state()


def test_a_freed_place_held_for_the_first_member_is_taken_in_one_click(
    site, person, shoot, axe_check, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", stdout=io.StringIO())
    url = site.collective_url("emplettes")
    fatou = person("Fatou", "Diallo", "membre@emplettes.demo", javascript=False)
    _log_in(fatou, url)
    page = fatou.page
    page.goto(f"{url}/commandes/")
    page.get_by_role("link", name="Mes listes d'attente").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes listes d'attente")
    expect(
        page.get_by_text(re.compile(r"Une place s'est libérée : elle vous est réservée jusqu'au"))
    ).to_be_visible()
    axe_check(page)
    shoot(page, "01-mes-listes-attente")
    page.get_by_role("button", name="Prendre cette place").click()
    expect(flash(page)).to_contain_text("C'est fait : votre commande passe sur ce créneau.")
    shoot(page, "02-commande-sur-le-creneau")

    # The sold-out product Claire let go: its 2 units are held for Fatou, added to her order in one click.
    page.goto(f"{url}/mes-listes-attente/")
    expect(page.get_by_text(re.compile(r"Il s'est libéré : 2 vous sont réservés jusqu'au"))).to_be_visible()
    page.get_by_role("button", name="Les ajouter à ma commande").click()
    expect(flash(page)).to_contain_text("C'est fait : ils sont ajoutés à votre commande.")
    shoot(page, "04-produit-ajoute-a-la-commande")

    nadia = person("Nadia", "Roussel", "coordination@emplettes.demo")
    _log_in(nadia, url)
    nadia.page.goto(f"{url}/mes-listes-attente/")
    expect(nadia.page.get_by_text("Vous êtes le premier de la liste.")).to_have_count(2)  # a slot, a product
    expect(nadia.page.get_by_role("main")).not_to_contain_text("Fatou")
    axe_check(nadia.page)
    shoot(nadia.page, "03-suivante-sur-la-liste")

    # Claire, without JavaScript, finds the product sold out on the sale page and joins its list there.
    claire = person("Claire", "Dubois", "claire@demo.etal", javascript=False)
    _log_in(claire, url)
    claire.page.goto(f"{url}/")
    claire.page.get_by_role("listitem").filter(has_text="Bon de commande du mois").get_by_role(
        "link", name="Commander"
    ).click()
    sold_out = claire.page.locator(".is-sold-out")
    expect(sold_out).to_have_count(1)
    expect(sold_out).to_contain_text("Épuisé")
    sold_out.get_by_label(re.compile("Quantité souhaitée")).fill("1")
    shoot(claire.page, "05-produit-epuise-liste-attente")
    sold_out.get_by_role("button", name="M'inscrire sur la liste d'attente").click()
    expect(flash(claire.page)).to_contain_text("Vous êtes sur la liste d'attente : si ce produit se libère")
    expect(claire.page.locator(".is-sold-out")).to_contain_text("Vous êtes sur la liste d'attente")
    axe_check(claire.page)
