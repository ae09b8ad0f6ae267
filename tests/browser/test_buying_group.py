"""A buying group's monthly order form, paid on site with food vouchers, in a real browser.

The world is the demo's (``seed_demo``): « Emplettes et Cagettes » has an open « Bon de commande du mois »
with distributions at three places (a social centre among them) and accepts cash and food vouchers on site.

1. a member (Claire Dubois: the demo's other member, Fatou Diallo, already has an order in this form) signs
   in, orders lentils and eggs, picks a slot at the social centre and food vouchers, and gets an order
   number and a basket number;
2. the order form closes by the clock's job (the real worker), which makes the PDF sheets;
3. on distribution day, the social centre's staff checks the member in and records the food vouchers on
   the day page of their point; the member's order is then « payée ».
"""

from __future__ import annotations

import re

from django.core.management import call_command
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from marketplace.models import Collective
from tests.browser.helpers import euros, fact, flash, label, menu, sale_closes_by_the_clock

DEMO_PASSWORD = "etal-demo-2026"
SLUG = "emplettes"
FORM_TITLE = "Bon de commande du mois"
CENTRE = "Centre socio-culturel des Izards"
FOOD_VOUCHERS = "Chèques alimentaires / titres-restaurant, sur place"
CART = {"Lentilles vertes (1 kg)": 2, "Œufs frais": 1}  # 2 × 2,90 (the quarter's agreed price) + 3,60
TOTAL = "9,40"


def demo_person(person, first_name: str, last_name: str, email: str):
    someone = person(first_name, last_name, email)
    someone.password = DEMO_PASSWORD
    return someone


def member_orders_with_food_vouchers(member, mailbox, url: str, shoot, axe_check) -> dict:
    page = member.page
    page.goto(url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Emplettes et Cagettes")
    menu(page, "Se connecter").click()
    member.log_in()
    expect(flash(page)).to_contain_text("Connexion avec Claire Dubois réussie.")
    forms = page.get_by_role("region", name="Bons de commande")
    expect(forms.get_by_role("heading", name=FORM_TITLE)).to_be_visible()
    forms.get_by_role("listitem").filter(has_text=FORM_TITLE).get_by_role("link", name="Commander").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(FORM_TITLE)
    sale_id = int(re.search(r"/ventes/(\d+)/$", page.url)[1])
    for product, quantity in CART.items():
        page.get_by_role("spinbutton", name=f"Quantité : {product}").fill(str(quantity))
    axe_check(page)
    shoot(page, "01-order-form")
    page.get_by_role("button", name="Continuer : choisir mon créneau").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Valider ma commande")
    expect(page.locator(".cart-table tfoot")).to_contain_text(euros(TOTAL))
    slots = page.get_by_role("group", name="Créneau de retrait")
    expect(slots.get_by_role("heading", level=3)).to_contain_text([CENTRE])
    centre = slots.get_by_role("heading", name=CENTRE).locator("xpath=following-sibling::ul[1]")
    chosen = centre.locator("label", has=page.locator("input:enabled")).first
    slot_text = chosen.inner_text().split("\n")[0].strip()
    chosen.get_by_role("radio").check()
    payment = page.get_by_role("group", name="Paiement")
    expect(payment.get_by_role("radio")).to_have_count(2)  # cash and food vouchers: no card here
    payment.get_by_role("radio", name=FOOD_VOUCHERS).check()
    axe_check(page)
    shoot(page, "02-checkout")
    page.get_by_role("button", name="Commander").click()

    expect(flash(page)).to_contain_text(re.compile(r"Merci ! Votre commande \S+ est enregistrée\."))
    number = re.search(r"Votre commande (\S+) est", flash(page).inner_text())[1]
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Commande {number}")
    basket = fact(page, "Panier n°").inner_text().strip()
    assert basket.isdigit(), basket
    expect(fact(page, "Retrait")).to_contain_text(CENTRE)
    expect(fact(page, "Retrait")).to_contain_text(slot_text)
    assert re.match(r"\w+ \d+ \w+, \d\d:\d\d – \d\d:\d\d", slot_text), slot_text  # the slot says its day
    day = re.search(r"(\w+ \d+ \w+), \d\d:\d\d", fact(page, "Retrait").inner_text())[1]  # « mercredi 25 … »
    expect(fact(page, "Paiement").first).to_contain_text(FOOD_VOUCHERS)
    expect(fact(page, "Paiement").first).to_contain_text("à régler")
    expect(fact(page, "Reste à régler")).to_have_text(euros(TOTAL))
    axe_check(page)
    shoot(page, "03-order-placed")
    mailbox.wait_for(to=member.email, subject=number)
    return {"sale_id": sale_id, "number": number, "basket": basket, "day": day, "url": page.url}


def staff_checks_in_and_takes_vouchers(staff, member, order: dict, url: str, shoot, axe_check) -> None:
    """The social centre's day page: check-in, then the food vouchers."""
    page = staff.page
    page.goto(url + "/")
    menu(page, "Se connecter").click()
    staff.log_in()
    menu(page, "Mes points de retrait").click()
    expect(page.get_by_role("heading", level=2)).to_have_text([CENTRE])
    page.locator(".point-cards .card").get_by_role(
        "link", name=f"{order['day'].capitalize()} · {FORM_TITLE}"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(CENTRE)
    number = order["basket"]
    basket = page.locator(f"#panier-{number}")
    name = f"{member.first_name} {member.last_name}"
    expect(basket).to_contain_text(name)
    shoot(page, "10-day-page")
    basket.get_by_role("button", name=f"Retiré : {name}", exact=True).click()
    expect(basket.locator(".checkin-status")).to_contain_text("✓ retiré")
    expect(basket.locator(".basket-payment")).to_contain_text(FOOD_VOUCHERS)
    basket.get_by_text("Enregistrer un paiement sur place").click()  # opens the form
    expect(basket.get_by_label(label("Moyen de paiement"))).to_have_value("food_voucher")
    expect(basket.get_by_label(label("Montant reçu (€)"))).to_have_value(TOTAL)
    basket.get_by_label(re.compile(r"^Émetteur des bons")).select_option(label="CCAS de Toulouse")
    basket.get_by_label(re.compile(r"^Précision")).fill("Titres n° 4471 et 4472")
    axe_check(page)
    shoot(page, "11-day-page-payment")
    basket.get_by_role("button", name=f"Enregistrer le paiement : panier n° {number}").click()
    expect(flash(page)).to_contain_text(
        re.compile(rf"Panier n° {number} : paiement de {TOTAL}\s€ enregistré\.")
    )
    expect(basket.locator(".basket-payment")).to_contain_text("payée")
    axe_check(page)
    shoot(page, "12-day-page-paid")
    # The centre's cash box: the vouchers are counted for their issuer, for the treasurer to claim.
    page.get_by_role("link", name="Caisse de la distribution").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Caisse : {CENTRE}")
    expect(page.locator("main")).to_contain_text(re.compile(rf"CCAS de Toulouse : {TOTAL}\s€"))
    axe_check(page)
    shoot(page, "13-cash-box")


def member_sees_paid(member, order: dict, shoot, axe_check) -> None:
    page = member.page
    page.goto(order["url"])
    expect(fact(page, "Paiement").first).to_contain_text("payée")
    expect(fact(page, "Payé")).to_have_text(euros(TOTAL))
    expect(page.locator("ul.payments")).to_contain_text(FOOD_VOUCHERS)
    expect(page.locator("ul.payments")).to_contain_text(re.compile(rf"{TOTAL}\s€ reçus le"))
    axe_check(page)
    shoot(page, "04-order-paid")


def test_buying_group_food_vouchers(site, celery_worker, person, mailbox, shoot, axe_check):
    call_command("seed_demo", "--quiet")
    url = site.collective_url(SLUG)
    member = demo_person(person, "Claire", "Dubois", "claire@demo.etal")
    staff = demo_person(person, "Inès", "Centre-social", "centre-social@emplettes.demo")
    shots = {"member": shoot.journey("5-groupement-membre"), "staff": shoot.journey("5-groupement-centre")}

    order = member_orders_with_food_vouchers(member, mailbox, url, shots["member"], axe_check)
    schema_name = Collective.objects.get(slug=SLUG).schema_name
    sale_closes_by_the_clock(
        schema_name=schema_name, sale_id=order["sale_id"], kinds={"point", "summary", "purchase_order"}
    )
    with schema_context(schema_name):
        from orders.models import Sale

        assert Sale.objects.get(pk=order["sale_id"]).closed_at is not None
    staff_checks_in_and_takes_vouchers(staff, member, order, url, shots["staff"], axe_check)
    member_sees_paid(member, order, shots["member"], axe_check)
