"""The living lab of the demo buying group, in a real browser: a member proposes (JavaScript off), the
coordinator puts the proposal on the table of a session and decides, the member reads the decision and why.

The world is the demo's (``seed_demo``): « Emplettes et Cagettes » has two lab groups; Fatou Diallo (member)
and Nadia Roussel (coordinator) are in « Les Izards », whose past session adopted « Farine de pois chiches »,
now a product of the Coopérative du Lauragais.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.helpers import flash, label, menu

DEMO_PASSWORD = "etal-demo-2026"
TITLE = "Huile de tournesol"
REASON = "Pour la cuisine de tous les jours, en bidon de 1 litre."
DECISION = "Le Lauragais en presse : on la demande à la coopérative."


def _demo_person(person, first_name, last_name, email, **kwargs):
    someone = person(first_name, last_name, email, **kwargs)
    someone.password = DEMO_PASSWORD
    return someone


def test_member_proposes_coordinator_decides_member_reads_why(site, person, shoot, axe_check):
    call_command("seed_demo", "--quiet")
    url = site.collective_url("emplettes")
    member = _demo_person(person, "Fatou", "Diallo", "membre@emplettes.demo", javascript=False)
    coordinator = _demo_person(person, "Nadia", "Roussel", "coordination@emplettes.demo")
    shots = shoot.journey("6-labo")

    page = member.page
    page.goto(url + "/accounts/login/")
    member.log_in()
    menu(page, "Le labo").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Le labo du groupe « Les Izards »")
    expect(page.locator("main")).to_contain_text("Devenu un produit : « Farine de pois chiches (1 kg) »")
    axe_check(page)
    shots(page, "01-le-labo")
    page.get_by_role("link", name="Proposer un produit").click()
    page.get_by_label(label("Quel produit ?")).fill(TITLE)
    page.get_by_label(label("Pourquoi ?")).fill(REASON)
    page.get_by_label(label("Prix visé (€)")).fill("2,40")
    page.get_by_label(label("Pour quelle quantité ?")).fill("le litre")
    axe_check(page)
    shots(page, "02-proposer")
    page.get_by_role("button", name="Envoyer ma proposition").click()
    expect(flash(page)).to_contain_text("Votre proposition est sur la table du labo.")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)

    page = coordinator.page
    page.goto(url + "/accounts/login/")
    coordinator.log_in()
    menu(page, "Le labo").click()
    page.get_by_role("link", name="Ouvrir une séance du labo").click()
    page.get_by_label(label("Groupe")).select_option(label="Les Izards")
    # The session met two hours ago: the coordinator records what it decided.
    moment = timezone.localtime() - timedelta(hours=2)
    page.get_by_label(label("Date et heure")).fill(moment.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label(label("Lieu")).fill("Centre socio-culturel des Izards")
    page.get_by_label(f"{TITLE} (Les Izards)").check()
    axe_check(page)
    shots(page, "03-ouvrir-une-seance")
    page.get_by_role("button", name="Ouvrir la séance").click()
    expect(flash(page)).to_contain_text("La séance du labo est ouverte.")
    item = page.get_by_role("region", name=TITLE)
    item.get_by_label("adoptée", exact=True).check()
    item.get_by_label(label("Pourquoi (les membres le liront)")).fill(DECISION)
    item.get_by_label(label("Fournisseur à qui demander le produit (si adoptée)")).select_option(
        label="Coopérative du Lauragais"
    )
    axe_check(page)
    shots(page, "04-decider")
    item.get_by_role("button", name="Enregistrer la décision").click()
    expect(flash(page)).to_contain_text("Décision enregistrée")
    expect(page.get_by_role("region", name=TITLE)).to_contain_text(f"Décision : adoptée. {DECISION}")

    page = member.page
    menu(page, "Le labo").click()
    expect(page.locator("main")).to_contain_text(f"{TITLE} : adoptée. {DECISION}")
    page.get_by_role("link", name=TITLE).click()
    expect(page.locator("main")).to_contain_text(DECISION)
    expect(page.locator("main")).to_contain_text("Le produit est demandé à Coopérative du Lauragais.")
    axe_check(page)
    shots(page, "05-la-decision")
