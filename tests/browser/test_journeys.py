"""The journeys of a drive fermier, in a real browser, as the people who run it live them.

One test builds one live world in order, each step being a journey (or part of one) of a single person:

1. the coordinator signs up on the public site, creates « La Ferme du Lot » (a drive fermier), lands on it
   at its sub-domain, creates two pickup points and invites the town hall's staff member to one of them,
   creates a producer and invites its account, and — once the producer has a catalogue — schedules a sale;
2. the town hall's staff member follows the invitation e-mail, signs up, accepts, sets up the point
   (address, access, hours, slot length and capacity) and a closure, and sees only that point;
3. the producer follows the invitation e-mail, signs up, accepts, adds products (one sold by weight),
   edits prices and stocks on one screen, imports a CSV made by a French Excel, and finds them in the shop;
4. a member pays by card: the coordinator links the collective's Stripe account (the local Stripe double)
   and accepts cards; four households of the village fill the first slot; the member signs up, joins, fills
   a cart with a chicken sold by weight, books a slot at the town hall, pays on the double's page and gets
   an authorisation (estimate plus margin, captured after weighing); the sale closes by the clock job, which
   makes the PDF sheets; the producer downloads their delivery sheet; on distribution day, on the town
   hall's day page, the staff checks the member in, the producer weighs the chicken and the staff settles
   the final amount, captured from the card (never above the authorisation).

The world is shared because each journey needs the previous ones (a transactional test cannot pass its
database on to the next test).
"""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect
from pypdf import PdfReader

from marketplace.models import Collective
from tests.browser.helpers import FETCH_FILE, euros, fact, flash, label, menu, sale_closes_by_the_clock

PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


def day_words(day: date) -> str:
    """« vendredi 18 décembre »: how every slot says its day."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]}"


@dataclass
class Drive:
    """What the journeys share: where the collective lives and the names people gave to things."""

    url: str
    name: str = "La Ferme du Lot"
    slug: str = "ferme-du-lot"
    point: str = "Mairie de Montayral"
    other_point: str = "Ferme des Granges"
    producer: str = "Ferme du Pech"
    distribution_day: date | None = None
    sale_title: str = ""
    sale_id: int = 0

    @property
    def schema_name(self) -> str:
        return Collective.objects.get(slug=self.slug).schema_name


# ---------------------------------------------------------------------------------------- 1. coordinator


def coordinator_creates_collective(coordinator, site, drive: Drive, shoot, axe_check) -> None:
    page = coordinator.page
    page.goto(site.public_url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Des produits locaux, commandés ensemble")
    axe_check(page)
    shoot(page, "01-public-directory")

    menu(page, "Créer un compte").click()
    coordinator.sign_up()
    page.get_by_role("link", name="Créer un collectif").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Créer un collectif")
    page.get_by_label(label("Nom")).fill(drive.name)
    page.get_by_label("Drive fermier").check()
    page.get_by_label("Sous-domaine").fill(drive.slug)
    page.get_by_label("Commune").fill("Fumel")
    page.get_by_label("Département").fill("47")
    page.get_by_label("Description").fill(
        "Les fermes de la vallée du Lot, en drive à la mairie de Montayral."
    )
    page.get_by_label("E-mail de contact").fill(coordinator.email)
    page.get_by_label("Ouvert : chacun peut rejoindre").check()
    shoot(page, "02-create-collective")
    page.get_by_role("button", name="Créer le collectif").click()

    # The collective is live at its own address at once, and its creator lands there signed in (sessions
    # are per host in development: a one-time sign-in link carries them over).
    expect(page).to_have_url(drive.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text(drive.name)
    expect(flash(page)).to_contain_text("est en ligne. Voici vos premiers pas.")
    expect(page.get_by_role("main")).to_contain_text(re.compile(r"en tant que\W.*Coordinateur·rice"))
    expect(page.get_by_role("button", name="Demander à rejoindre")).to_have_count(0)
    first_steps = page.get_by_role("region", name="Premiers pas")
    expect(first_steps).to_contain_text("Fait : 0 sur 5.")
    expect(first_steps.get_by_role("link", name="Ajouter un producteur")).to_be_visible()
    axe_check(page)
    shoot(page, "03-collective-home-coordinator")


def coordinator_creates_points_and_invites_staff(coordinator, staff, drive: Drive, shoot) -> None:
    page = coordinator.page
    for name, address, postcode, town in [
        (drive.point, "1 place de la Mairie", "47500", "Montayral"),
        (drive.other_point, "Lieu-dit Les Granges", "47500", "Fumel"),
    ]:
        menu(page, "Points de retrait").click()
        page.get_by_role("link", name="Créer un point de retrait").click()
        page.get_by_label("Nom du point de retrait").fill(name)
        page.get_by_label("Adresse").fill(address)
        page.get_by_label("Code postal").fill(postcode)
        page.get_by_label("Commune").fill(town)
        if name == drive.point:
            shoot(page, "05-point-create")
        page.get_by_role("button", name="Créer le point de retrait").click()
        expect(flash(page)).to_contain_text(f"Point de retrait « {name} » créé")
        expect(page.get_by_role("heading", level=1)).to_have_text(name)

    menu(page, "Points de retrait").click()
    expect(page.get_by_role("heading", level=2)).to_have_text([drive.other_point, drive.point])  # by name
    page.get_by_role("link", name=f"Équipe de {drive.point}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(drive.point)
    expect(
        page.get_by_role("navigation", name="Réglages du point de retrait").get_by_role("link", name="Équipe")
    ).to_have_attribute("aria-current", "page")
    page.get_by_label("Adresse e-mail").fill(staff.email)
    page.get_by_role("button", name="Envoyer l'invitation").click()
    expect(flash(page)).to_contain_text(f"Invitation envoyée à {staff.email}")
    shoot(page, "06-point-team-invited")


def coordinator_creates_producer_and_invites_account(coordinator, producer, drive: Drive, shoot) -> None:
    page = coordinator.page
    menu(page, "Producteurs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Producteurs du collectif")
    page.get_by_role("link", name="Nouveau producteur").click()
    page.get_by_label("Nom de la ferme ou de l'entreprise").fill(drive.producer)
    page.get_by_label("Commune").fill("Cuzorn")
    page.get_by_label("Présentation").fill("Volailles fermières, œufs et vergers sur les coteaux du Lot.")
    page.get_by_label("Labels").fill("AB")
    page.get_by_role("button", name="Créer").click()
    expect(flash(page)).to_contain_text(f"{drive.producer} est créé")
    page.get_by_label("Adresse e-mail").fill(producer.email)
    page.get_by_role("button", name="Inviter").click()
    expect(flash(page)).to_contain_text(f"Invitation envoyée à {producer.email}")
    expect(page.get_by_role("heading", name="Invitations en attente")).to_be_visible()
    shoot(page, "07-producer-accounts-invited")


def coordinator_schedules_sale(coordinator, drive: Drive, shoot, axe_check) -> None:
    """A one-off sale, open from now, with the producer and the town hall (not the farm's point)."""
    page = coordinator.page
    now = datetime.now(PARIS)
    day = drive.distribution_day
    drive.sale_title = f"Drive du {WEEKDAYS[day.weekday()]} {day.day}"
    menu(page, "Ventes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ventes")
    page.get_by_role("link", name="Nouvelle vente").click()
    page.get_by_label("Intitulé").fill(drive.sale_title)
    page.get_by_label("Ouverture des commandes").fill((now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Clôture des commandes").fill(f"{day - timedelta(days=1):%Y-%m-%d}T20:00")
    page.get_by_label("Date de la distribution").fill(f"{day:%Y-%m-%d}")
    page.get_by_label("Début de la distribution").fill("17:00")
    page.get_by_label("Fin de la distribution").fill("19:00")
    points = page.get_by_role("group", name="Points de retrait")
    expect(points.get_by_label(drive.point)).to_be_checked()
    points.get_by_label(drive.other_point).uncheck()
    expect(page.get_by_role("group", name="Producteurs").get_by_label(drive.producer)).to_be_checked()
    page.get_by_label("Publier la vente").check()
    shoot(page, "20-sale-create")
    page.get_by_role("button", name="Créer la vente").click()

    expect(flash(page)).to_contain_text(f"Vente « {drive.sale_title} » créée")
    expect(page.get_by_role("heading", level=1)).to_contain_text(drive.sale_title)
    offers = page.locator(".offer-rows")
    for product in ["Poulet fermier", "Œufs plein air", "Pommes Chantecler", "Miel de châtaignier"]:
        expect(offers.get_by_role("checkbox", name=product)).to_be_checked()
    # Each offer starts from the catalogue's stock, as the producer left it.
    expect(offers.get_by_label("Quantité Poulet fermier")).to_have_value("8")
    expect(offers.get_by_label("Quantité Miel de châtaignier")).to_have_value("")
    shoot(page, "21-sale-offers")

    page.get_by_role("banner").get_by_role("link", name=drive.name).click()
    sales = page.get_by_role("region", name="Ventes")
    expect(sales.get_by_role("heading", name=drive.sale_title)).to_be_visible()
    expect(sales.get_by_role("link", name="Commander")).to_be_visible()
    axe_check(page)
    shoot(page, "22-collective-home-with-sale")


# ------------------------------------------------------------------------------------- 2. pickup point staff


def staff_sets_up_point(staff, mailbox, drive: Drive, shoot) -> None:
    page = staff.page
    message = mailbox.wait_for(to=staff.email, subject=f"Invitation à rejoindre {drive.name}")
    page.goto(mailbox.link(message))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Rejoindre {drive.name}")
    expect(page.get_by_role("main")).to_contain_text(drive.point)
    shoot(page, "01-invitation")
    page.get_by_role("main").get_by_role("link", name="Créer un compte").click()
    staff.sign_up()
    page.get_by_role("button", name="Accepter l'invitation").click()
    expect(flash(page)).to_contain_text(
        "Invitation acceptée : vous êtes maintenant « Équipe d'un point de retrait »"
    )

    menu(page, "Mes points de retrait").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes points de retrait")
    # Only their point: not the farm's, nor anything of the collective's back office.
    expect(page.get_by_role("heading", level=2)).to_have_text([drive.point])
    expect(page.get_by_text(drive.other_point)).to_have_count(0)
    expect(menu(page, "Ventes")).to_have_count(0)
    shoot(page, "02-my-points")

    page.get_by_role("link", name=f"Horaires et réglages de {drive.point}").click()
    settings = page.get_by_role("navigation", name="Réglages du point de retrait")
    page.get_by_label("Adresse").fill("1 place de la Mairie, salle des fêtes")
    page.get_by_label("Comment accéder au lieu").fill("Entrée par la cour, à gauche de la mairie. Parking.")
    page.get_by_label("Règles à respecter").fill("Venez avec vos sacs ; un foyer à la fois dans la salle.")
    page.get_by_role("button", name="Enregistrer le lieu").click()
    expect(flash(page)).to_contain_text("Le lieu est enregistré.")
    shoot(page, "03-point-place")

    settings.get_by_role("link", name="Horaires").click()
    rows = page.locator(".hours-row")
    before = rows.count()
    url = page.url
    page.get_by_role("button", name="Ajouter une ligne").click()  # in the page, no round trip
    expect(rows).to_have_count(before + 1)
    assert page.url == url
    expect(page.get_by_role("group", name=f"Plage horaire {before + 1}")).to_be_visible()
    first_range = page.get_by_role("group", name="Plage horaire 1")
    first_range.get_by_label("Jour").select_option(label=WEEKDAYS[drive.distribution_day.weekday()])
    first_range.get_by_label("De").fill("16:30")
    first_range.get_by_label("À").fill("19:30")
    page.get_by_role("button", name="Enregistrer les horaires").click()
    expect(flash(page)).to_contain_text("Les horaires sont enregistrés.")
    expect(first_range.get_by_label("De")).to_have_value("16:30")
    shoot(page, "03-point-hours")

    settings.get_by_role("link", name="Créneaux et foyers par créneau").click()
    page.get_by_label("Durée d'un créneau (minutes)").fill("20")
    page.get_by_label("Foyers par créneau").fill("4")
    page.get_by_role("button", name="Enregistrer les créneaux").click()
    expect(flash(page)).to_contain_text("Les créneaux et les foyers par créneau sont enregistrés.")
    expect(page.get_by_label("Durée d'un créneau (minutes)")).to_have_value("20")

    settings.get_by_role("link", name="Fermetures").click()
    closed = drive.distribution_day + timedelta(days=35)
    page.get_by_label("Fermé du").fill(f"{closed:%Y-%m-%d}")
    page.get_by_label("au (inclus)").fill(f"{closed:%Y-%m-%d}")
    page.get_by_label("Motif").fill("Élections")
    page.get_by_role("button", name="Ajouter la fermeture").click()
    expect(flash(page)).to_contain_text("Fermeture enregistrée.")
    expect(page.locator(".closures")).to_contain_text("Élections")
    shoot(page, "03-point-settings")

    menu(page, "Mes points de retrait").click()
    card = page.locator(".point-cards .card")
    expect(card).to_contain_text(f"{WEEKDAYS[drive.distribution_day.weekday()].capitalize()} 16:30–19:30")
    expect(card).to_contain_text("Créneaux de 20 min, 4 foyers par créneau")
    shoot(page, "04-my-points-set-up")


# ---------------------------------------------------------------------------------------------- 3. producer

CSV_FROM_EXCEL = (
    "nom;unité;prix TTC (€);TVA (%);en vente;vendu au poids;poids estimé (kg);stock (vide = illimité)\r\n"
    "Pommes Chantecler;kg;3,20;5,5;oui;non;;40\r\n"
    "Miel de châtaignier;pot;8,50;5,5;oui;non;;\r\n"
    "Œufs plein air;douzaine;4,60;5,5;oui;non;;24\r\n"
)


def producer_builds_catalogue(producer, mailbox, drive: Drive, tmp_path, shoot, axe_check) -> None:
    page = producer.page
    message = mailbox.wait_for(to=producer.email, subject=f"Invitation à rejoindre {drive.name}")
    page.goto(mailbox.link(message))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Rejoindre {drive.name}")
    page.get_by_role("main").get_by_role("link", name="Créer un compte").click()
    producer.sign_up()
    page.get_by_role("button", name="Accepter l'invitation").click()
    expect(flash(page)).to_contain_text("Invitation acceptée")

    menu(page, "Mon catalogue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(drive.producer)
    tabs = page.get_by_role("navigation", name="Gestion du producteur")
    page.get_by_role("link", name="Ajouter un produit").click()
    page.get_by_label(label("Nom")).fill("Poulet fermier")
    page.get_by_label("Unité").select_option(label="kg")
    page.get_by_label("Prix TTC (€)").fill("12,50")
    page.get_by_label("Vendu au poids").check()
    page.get_by_label("Poids estimé d'une pièce (kg)").fill("1,800")
    page.get_by_label(label("Stock")).fill("10")
    shoot(page, "01-product-by-weight")
    page.get_by_role("button", name="Enregistrer et en ajouter un autre").click()
    expect(flash(page)).to_contain_text("« Poulet fermier » est ajouté au catalogue.")
    page.get_by_label(label("Nom")).fill("Œufs plein air")
    page.get_by_label("Unité").select_option(label="douzaine")
    page.get_by_label("Prix TTC (€)").fill("4,20")
    page.get_by_label(label("Stock")).fill("30")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(flash(page)).to_contain_text("« Œufs plein air » est ajouté au catalogue.")
    products = page.locator(".product-rows")
    # Listed by name; where « Œ » sorts depends on the database's collation.
    expect(products.get_by_role("heading", level=2)).to_have_count(2)
    for product in ["Poulet fermier", "Œufs plein air"]:
        expect(products.get_by_role("heading", name=product)).to_be_visible()
    expect(products).to_contain_text("≈ 22,50 € la pièce")
    shoot(page, "02-catalogue")

    tabs.get_by_role("link", name="Prix et stocks").click()
    expect(page.get_by_role("heading", level=2)).to_have_text("Prix et stocks")
    page.get_by_label("Stock Poulet fermier").fill("8")
    page.get_by_label("Prix (€) Œufs plein air").fill("4,40")
    page.get_by_label("Stock Œufs plein air").fill("36")
    shoot(page, "03-prices-and-stocks")
    page.get_by_role("button", name="Enregistrer tout").click()
    expect(flash(page)).to_contain_text("2 produits mis à jour.")
    # « Prix et stocks » stays on itself; typing a number unticked « illimité » (they exclude each other).
    expect(page.get_by_role("heading", level=2)).to_have_text("Prix et stocks")
    expect(page.get_by_label("Stock Poulet fermier")).to_have_value("8")
    expect(page.get_by_label("illimité Poulet fermier")).not_to_be_checked()
    tabs.get_by_role("link", name="Produits").click()
    expect(products).to_contain_text("Stock : 8")
    expect(products).to_contain_text("Stock : 36")

    csv_file = tmp_path / "catalogue-ferme-du-pech.csv"
    csv_file.write_bytes(CSV_FROM_EXCEL.encode("cp1252"))  # what Excel saves as « CSV (séparateur : ;) »
    tabs.get_by_role("link", name="Importer / exporter").click()
    page.get_by_label("Fichier du catalogue").set_input_files(csv_file)
    page.get_by_role("button", name="Vérifier le fichier").click()
    expect(page.get_by_role("heading", level=2)).to_have_text(f"Vérification de « {csv_file.name} »")
    summary = page.locator(".import-summary")
    expect(summary).to_contain_text("2 nouveaux produits")
    expect(summary).to_contain_text("1 produit modifié")
    rows = page.locator(".import-rows")
    expect(rows.locator(".import-new")).to_contain_text(["Pommes Chantecler", "Miel de châtaignier"])
    expect(rows.locator(".import-update")).to_contain_text("Œufs plein air")
    shoot(page, "04-import-preview")
    page.get_by_role("button", name="Confirmer l'import").click()
    expect(flash(page)).to_contain_text("Import terminé : 2 produit(s) ajouté(s), 1 modifié(s)")
    expect(products.get_by_role("heading", level=2)).to_have_count(4)
    expect(products).to_contain_text("4,60 €")
    shoot(page, "05-catalogue-imported")

    menu(page, "Boutique").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Boutique")
    shop = page.get_by_role("region", name=drive.producer)
    for product in ["Poulet fermier", "Œufs plein air", "Pommes Chantecler", "Miel de châtaignier"]:
        expect(shop.get_by_role("heading", name=product)).to_be_visible()
    expect(shop).to_contain_text(re.compile(r"1 pièce ≈ 1,8\skg ≈ 22,50\s€"))
    axe_check(page)
    shoot(page, "06-shop")


# ------------------------------------------------------------------------------------------------ 4. member

MEMBER_CART = {"Poulet fermier": 1, "Œufs plein air": 2}  # a chicken sold by weight (≈ 1,8 kg), two dozens
ESTIMATE, CARD_CAP = "31,70", "35,08"  # 22,50 + 9,20; the chicken's 22,50 + 15 % margin = 25,88, + 9,20
WEIGHED_KG, WEIGHED_AMOUNT, FINAL = "1,940", "24,25", "33,45"  # 12,50 €/kg × 1,940 kg, + 9,20


def coordinator_links_stripe(coordinator, drive: Drive, stripe_double, shoot, axe_check) -> None:
    page = coordinator.page
    menu(page, "Ventes").click()
    page.get_by_role("link", name="Moyens de paiement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Paiements")
    card = page.get_by_role("checkbox", name=re.compile(r"^Carte bancaire en ligne"))
    expect(card).to_be_disabled()  # not before the account is linked
    shoot(page, "30-payments-before-stripe")
    page.get_by_role("button", name="Relier un compte Stripe").click()

    # Stripe's onboarding (the double's page): identity and bank account at Stripe, a button here.
    expect(page).to_have_url(re.compile(rf"^{re.escape(stripe_double.url)}/connect/onboarding/"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("activer les paiements")
    shoot(page, "31-stripe-onboarding")
    page.get_by_role("button", name="Activer les paiements et revenir").click()

    expect(page).to_have_url(drive.url + "/reglages/paiements/")
    expect(flash(page)).to_contain_text("Compte Stripe relié")
    expect(page.get_by_role("region", name="Paiement par carte (Stripe)")).to_contain_text("est relié")
    expect(card).to_be_enabled()
    card.check()
    expect(page.get_by_role("checkbox", name=re.compile(r"^Espèces"))).to_be_checked()  # kept as well
    expect(page.get_by_label("Marge sur les produits au poids payés par carte (%)")).to_have_value("15")
    page.get_by_role("button", name="Enregistrer").click()
    expect(flash(page)).to_contain_text("Réglages des paiements enregistrés.")
    expect(card).to_be_checked()
    axe_check(page)
    shoot(page, "32-payments-card-on")


def neighbours_fill_first_slot(drive: Drive) -> str:
    """Four households of the village already ordered eggs for the first slot at the town hall, which is
    now full (4 households a slot). Built with the services, as their own orders would have been."""
    from marketplace import services as marketplace_services
    from marketplace.models import User
    from orders.checkout import services as checkout_services
    from orders.models import PaymentMethod, Sale

    collective = Collective.objects.get(slug=drive.slug)
    with schema_context(collective.schema_name):
        sale = Sale.objects.get(title=drive.sale_title)
        drive.sale_id = sale.pk
        first = sale.distribution.slots.order_by("starts_at").first()
        eggs = sale.offers.get(product__name="Œufs plein air")
        for number in range(1, 5):
            neighbour = User.objects.create_user(
                email=f"voisin{number}@montayral.test", first_name="Voisin", last_name=str(number)
            )
            marketplace_services.membership_join(collective=collective, user=neighbour)
            checkout_services.order_place(
                sale_id=sale.pk,
                user=neighbour,
                quantities={eggs.pk: 1},
                slot_id=first.pk,
                payment_method=PaymentMethod.CASH,
            )
        return f"{timezone.localtime(first.starts_at):%H:%M}"


def member_orders_and_pays_by_card(
    member, mailbox, drive: Drive, full_slot: str, stripe_double, shoot, axe_check
) -> dict:
    page = member.page
    page.goto(drive.url + "/")
    menu(page, "Créer un compte").click()
    member.sign_up()
    expect(page).to_have_url(drive.url + "/")
    expect(page.get_by_role("main")).to_contain_text("Ce collectif est ouvert à tous.")
    page.get_by_role("button", name="Rejoindre le collectif").click()
    expect(flash(page)).to_contain_text("Bienvenue ! Vous êtes membre du collectif.")
    shoot(page, "01-joined")

    page.get_by_role("region", name="Ventes").get_by_role("link", name="Commander").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(drive.sale_title)
    expect(page).to_have_url(f"{drive.url}/ventes/{drive.sale_id}/")
    chicken = page.locator(".shop-item", has=page.get_by_role("heading", name="Poulet fermier"))
    expect(chicken).to_contain_text(re.compile(r"12,50\s€\s*/ kg"))
    expect(chicken).to_contain_text(re.compile(r"1 pièce ≈ 1,8\skg ≈ 22,50\s€"))
    for product, quantity in MEMBER_CART.items():
        page.get_by_role(
            "spinbutton", name=re.compile(f"^(Quantité|Nombre de pièces) : {re.escape(product)}$")
        ).fill(str(quantity))
    axe_check(page)
    shoot(page, "02-sale-shop")
    page.get_by_role("button", name="Continuer : choisir mon créneau").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Valider ma commande")
    cart = page.locator(".cart-table")
    expect(cart.locator("tbody tr")).to_have_count(2)
    expect(cart.locator("tfoot")).to_contain_text(euros(f"≈ {ESTIMATE}"))
    slots = page.get_by_role("group", name="Créneau de retrait")
    expect(slots.get_by_role("heading", level=3)).to_have_text([drive.point])
    day = day_words(drive.distribution_day)
    full = slots.locator("label", has=page.get_by_role("radio", name=re.compile(rf"^{day}, {full_slot} – ")))
    expect(full).to_contain_text("Complet")
    expect(full.get_by_role("radio")).to_be_disabled()
    chosen = slots.locator("label", has=page.locator("input:enabled")).first
    expect(chosen).to_contain_text("4 places")
    slot_text = chosen.inner_text().split("\n")[0].strip()
    assert slot_text.startswith(f"{day}, "), slot_text  # every slot says its day
    chosen.get_by_role("radio").check()
    payment = page.get_by_role("group", name="Paiement")
    payment.get_by_role("radio", name="Carte bancaire en ligne").check()
    # Before paying: what the card will be asked for (the estimate plus the margin on weighed goods), and why.
    expect(payment.locator(".card-notice")).to_have_text(
        re.compile(
            rf"^Votre carte sera autorisée pour {CARD_CAP}\s€ au plus : les produits pesés sont estimés, "
            r"vous ne serez débité·e que du poids réel après la pesée\.$"
        )
    )
    axe_check(page)
    shoot(page, "03-checkout")
    page.get_by_role("button", name="Commander").click()

    # Stripe Checkout (the double's hosted page), for the card cap: the estimate plus the margin.
    expect(page).to_have_url(re.compile(rf"^{re.escape(stripe_double.url)}/c/pay/cs_"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Paiement de votre commande")
    expect(page.locator("tr.total")).to_contain_text(euros(CARD_CAP))
    page.get_by_label("Numéro de carte").fill("4242 4242 4242 4242")
    page.get_by_label("Nom sur la carte").fill(f"{member.first_name} {member.last_name}")
    shoot(page, "04-stripe-payment-page")
    page.get_by_role("button", name=re.compile(r"^Payer")).click()

    expect(page).to_have_url(re.compile(rf"^{re.escape(drive.url)}/commandes/\d+/paiement/\?session_id="))
    expect(page.get_by_role("heading", level=1)).to_have_text("Merci, votre carte est autorisée")
    main = page.get_by_role("main")
    expect(main).to_contain_text(re.compile(rf"Autorisé, débité après la pesée : au plus {CARD_CAP}\s€"))
    expect(main).to_contain_text("Rien n'est encore débité")
    expect(main).to_contain_text("jamais davantage")
    number = re.search(r"Commande (\S+), panier n° (\d+)", main.inner_text())
    assert number, main.inner_text()
    axe_check(page)
    shoot(page, "05-payment-received")

    menu(page, "Mes commandes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes commandes")
    mine = page.locator(".card", has=page.get_by_role("link", name=f"Commande {number[1]}"))
    expect(mine).to_contain_text(re.compile(rf"Autorisé, débité après la pesée : au plus {CARD_CAP}\s€"))
    expect(mine).to_contain_text(slot_text)
    page.get_by_role("link", name=f"Commande {number[1]}").click()
    expect(fact(page, "Panier n°")).to_have_text(number[2])
    expect(fact(page, "Retrait")).to_contain_text(drive.point)
    expect(fact(page, "Retrait")).to_contain_text(slot_text)
    expect(fact(page, "Paiement").first).to_contain_text("Carte bancaire en ligne")
    expect(fact(page, "Paiement").first).to_contain_text("carte autorisée, débit après pesée")
    expect(fact(page, "Estimation")).to_have_text(euros(ESTIMATE))
    expect(fact(page, "Montant final")).to_have_text("après la pesée")
    # Authorised, not paid: never « Payé 0,00 € ».
    expect(fact(page, "Carte bancaire")).to_have_text(
        re.compile(rf"^Autorisé, débité après la pesée : au plus {CARD_CAP}\s€$")
    )
    expect(fact(page, "Payé")).to_have_count(0)
    expect(page.locator("ul.payments")).to_contain_text("autorisés sur la carte, débités après la pesée")
    axe_check(page)
    shoot(page, "06-order-authorised")
    mailbox.wait_for(to=member.email, subject=number[1])
    return {"number": number[1], "basket": number[2], "order_url": page.url}


def producer_downloads_delivery_sheet(producer, mailbox, drive: Drive, member, order: dict, shoot) -> None:
    mailbox.wait_for(to=producer.email, subject=drive.producer)  # the sheet, e-mailed by the worker
    page = producer.page
    page.goto(drive.url + "/")
    menu(page, "Mes feuilles").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes feuilles")
    expect(page.get_by_role("heading", level=2)).to_have_text([drive.sale_title])
    link = page.get_by_role("link", name=f"Bon de livraison producteur : {drive.producer}")
    expect(page.locator(".cards").get_by_role("link")).to_have_count(1)  # only their own sheet
    shoot(page, "10-my-sheets")
    # The sheet opens in the browser's PDF viewer (served inline): fetch it from the page, with the
    # producer's session (Playwright's own request client does not resolve *.localhost as chromium does).
    response = page.evaluate(FETCH_FILE, link.get_attribute("href"))
    assert response["status"] == 200, response["status"]
    assert response["type"] == "application/pdf"
    assert f'filename="{drive.producer}.pdf"' in response["disposition"]
    body = base64.b64decode(response["body"])
    assert body.startswith(b"%PDF-")
    text = " ".join(sheet.extract_text() for sheet in PdfReader(io.BytesIO(body)).pages)
    text = re.sub(r"\s+", " ", text)
    assert "Poulet fermier" in text, text
    assert member.last_name in text, text  # the member's basket is on the producer's sheet


def staff_checks_member_in(staff, drive: Drive, member, order: dict, shoot, axe_check) -> None:
    """The town hall's day page: the member collects their basket."""
    page = staff.page
    page.goto(drive.url + "/")
    menu(page, "Mes points de retrait").click()
    day = drive.distribution_day
    page.get_by_role("link", name=re.compile(rf"^{WEEKDAYS[day.weekday()].capitalize()} {day.day} ")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(drive.point)
    expect(page).to_have_url(re.compile(rf"^{re.escape(drive.url)}/points/\d+/distributions/\d+/$"))
    summary = page.locator(".day-summary")
    expect(summary).to_contain_text(re.compile(r"Foyers attendus :\s*5"))
    basket = page.locator(f"#panier-{order['basket']}")
    name = f"{member.first_name} {member.last_name}"
    expect(basket).to_contain_text(name)
    expect(basket.locator(".checkin-status")).to_have_text("attendu")
    shoot(page, "10-day-page")
    basket.get_by_role("button", name=f"Retiré : {name}", exact=True).click()
    expect(basket.locator(".checkin-status")).to_contain_text("✓ retiré")
    expect(basket.get_by_role("button", name=f"Retiré : {name}", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(summary).to_contain_text(re.compile(r"Retirés :\s*1"))
    axe_check(page)
    shoot(page, "11-day-page-checked-in")


def weigh_and_settle_on_day_page(producer, staff, drive: Drive, order: dict, shots: dict, axe_check) -> None:
    """The producer weighs their chicken on the day page; the town hall's staff settles the final amount."""
    day_url = staff.page.url.split("#")[0]
    number = order["basket"]
    page = producer.page
    menu(page, "Mes feuilles").click()
    page.get_by_role("main").get_by_role("paragraph").filter(has_text="pesez vos produits").get_by_role(
        "link", name=drive.point
    ).click()
    expect(page).to_have_url(day_url)
    expect(page.get_by_role("heading", level=1)).to_contain_text(drive.point)
    basket = page.locator(f"#panier-{number}")
    expect(basket.locator(".basket-lines")).to_contain_text("à peser")
    expect(basket.get_by_role("button", name=re.compile(r"Retiré"))).to_have_count(0)  # producers only weigh
    expect(basket.get_by_text("Enregistrer un paiement sur place")).to_have_count(0)
    basket.get_by_label(re.compile(r"^Poids pesé \(kg\)")).fill(WEIGHED_KG)
    basket.get_by_role("button", name="Enregistrer le poids : Poulet fermier").click()
    expect(flash(page)).to_contain_text(f"Panier n° {number} : Poulet fermier pesé")
    expect(flash(page)).to_contain_text(euros(WEIGHED_AMOUNT))
    expect(basket.locator(".basket-lines")).to_contain_text(
        re.compile(r"Poulet fermier : 1 pièce, 1,94\skg : 24,25\s€")
    )
    axe_check(page)
    shots["producer"](page, "11-day-page-weighed")

    page = staff.page
    page.goto(day_url)
    basket = page.locator(f"#panier-{number}")
    expect(basket.locator(".basket-payment")).to_contain_text("carte autorisée, débit après pesée")
    expect(basket.locator(".basket-balance")).to_contain_text(euros(CARD_CAP))
    basket.get_by_role("button", name=f"Régler le montant final : panier n° {number}").click()
    expect(flash(page)).to_contain_text(
        re.compile(rf"Montant final réglé : {FINAL}\s€ débités, 0,00\s€ remboursés, 0,00\s€ restent dus\.")
    )
    expect(basket.locator(".basket-payment")).to_contain_text("payée")
    axe_check(page)
    shots["staff"](page, "12-day-page-settled")


def member_sees_final_amount(member, order: dict, shoot, axe_check) -> None:
    page = member.page
    page.goto(order["order_url"])
    expect(fact(page, "Paiement").first).to_contain_text("payée")
    expect(fact(page, "Montant final")).to_have_text(euros(FINAL))
    expect(fact(page, "Payé")).to_have_text(re.compile(rf"^{FINAL}\s€, débités de votre carte$"))
    expect(fact(page, "Carte bancaire")).to_have_count(0)
    expect(page.locator("ul.payments")).to_contain_text(re.compile(rf"{FINAL}\s€ reçus le"))
    axe_check(page)
    shoot(page, "07-order-paid")


# ---------------------------------------------------------------------------------------------- the world


def test_drive_fermier_journeys(
    site, celery_worker, stripe_double, person, mailbox, shoot, axe_check, tmp_path
):
    drive = Drive(url=site.collective_url(Drive.slug))
    drive.distribution_day = datetime.now(PARIS).date() + timedelta(days=3)
    coordinator = person("Colette", "Lagarde", "colette@ferme-du-lot.test")
    staff = person("Samia", "Benali", "accueil@mairie-montayral.test")
    producer = person("Pierre", "Delmas", "pierre@ferme-du-pech.test")
    member = person("Lucie", "Garric", "lucie.garric@montayral.test")
    shots = {
        "coordinator": shoot.journey("1-coordinateur"),
        "staff": shoot.journey("2-mairie"),
        "producer": shoot.journey("3-producteur"),
        "member": shoot.journey("4-membre"),
    }

    coordinator_creates_collective(coordinator, site, drive, shots["coordinator"], axe_check)
    coordinator_creates_points_and_invites_staff(coordinator, staff, drive, shots["coordinator"])
    coordinator_creates_producer_and_invites_account(coordinator, producer, drive, shots["coordinator"])
    staff_sets_up_point(staff, mailbox, drive, shots["staff"])
    producer_builds_catalogue(producer, mailbox, drive, tmp_path, shots["producer"], axe_check)
    coordinator_schedules_sale(coordinator, drive, shots["coordinator"], axe_check)

    # 4. A member pays by card; the sale closes; distribution day.
    coordinator_links_stripe(coordinator, drive, stripe_double, shots["coordinator"], axe_check)
    full_slot = neighbours_fill_first_slot(drive)
    order = member_orders_and_pays_by_card(
        member, mailbox, drive, full_slot, stripe_double, shots["member"], axe_check
    )
    order["order_id"] = int(order["order_url"].rstrip("/").rsplit("/", 1)[1])
    sale_closes_by_the_clock(
        schema_name=drive.schema_name, sale_id=drive.sale_id, kinds={"producer", "point", "summary"}
    )
    producer_downloads_delivery_sheet(producer, mailbox, drive, member, order, shots["producer"])
    staff_checks_member_in(staff, drive, member, order, shots["staff"], axe_check)
    weigh_and_settle_on_day_page(producer, staff, drive, order, shots, axe_check)
    member_sees_final_amount(member, order, shots["member"], axe_check)
