"""The journeys of a drive fermier, in a real browser, as the people who run it live them.

One test builds one live world in order, each step being a journey (or part of one) of a single person:

1. the coordinator signs up on the public site, creates « La Ferme du Lot » (a drive fermier), lands on it
   at its sub-domain, creates two pickup points and invites the town hall's staff member to one of them,
   creates a producer and invites its account, and — once the producer has a catalogue — schedules a sale;
2. the town hall's staff member follows the invitation e-mail, signs up, accepts, sets up the point
   (address, access, hours, slot length and capacity) and a closure, and sees only that point;
3. the producer follows the invitation e-mail, signs up, accepts, adds products (one sold by weight),
   edits prices and stocks on one screen, imports a CSV made by a French Excel, and finds them in the shop.

The world is shared because each journey needs the previous ones (a transactional test cannot pass its
database on to the next test). A later journey — a member ordering from the sale — is one more step at the
end of ``test_drive_fermier_journeys``: the sale it scheduled is open, with slots at the town hall.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]


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

    # The collective is live at its own address at once.
    expect(page).to_have_url(drive.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text(drive.name)
    axe_check(page)
    shoot(page, "03-collective-home-visitor")
    # Sessions are per host in development: the coordinator signs in on the collective's address.
    menu(page, "Se connecter").click()
    coordinator.log_in()
    expect(flash(page)).to_contain_text("Connexion avec Colette Lagarde réussie.")
    expect(page.get_by_role("main")).to_contain_text(re.compile(r"en tant que\W.*Coordinateur·rice"))
    shoot(page, "04-collective-home-coordinator")


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
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Équipe de {drive.point}")
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
    page.get_by_label("Adresse").fill("1 place de la Mairie, salle des fêtes")
    page.get_by_label("Comment accéder au lieu").fill("Entrée par la cour, à gauche de la mairie. Parking.")
    page.get_by_label("Règles à respecter").fill("Venez avec vos sacs ; un foyer à la fois dans la salle.")
    first_range = page.get_by_role("group", name="Plage horaire 1")
    first_range.get_by_label("Jour").select_option(label=WEEKDAYS[drive.distribution_day.weekday()])
    first_range.get_by_label("De").fill("16:30")
    first_range.get_by_label("À").fill("19:30")
    page.get_by_label("Durée d'un créneau (minutes)").fill("20")
    page.get_by_label("Foyers par créneau").fill("4")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(flash(page)).to_contain_text("Point de retrait enregistré.")
    expect(page.get_by_label("Durée d'un créneau (minutes)")).to_have_value("20")
    expect(first_range.get_by_label("De")).to_have_value("16:30")

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
    expect(shop).to_contain_text(re.compile(r"≈ 22,50\s€ la pièce"))
    axe_check(page)
    shoot(page, "06-shop")


# ---------------------------------------------------------------------------------------------- the world


def test_drive_fermier_journeys(site, celery_worker, person, mailbox, shoot, axe_check, tmp_path):
    drive = Drive(url=site.collective_url(Drive.slug))
    drive.distribution_day = datetime.now(PARIS).date() + timedelta(days=3)
    coordinator = person("Colette", "Lagarde", "colette@ferme-du-lot.test")
    staff = person("Samia", "Benali", "accueil@mairie-montayral.test")
    producer = person("Pierre", "Delmas", "pierre@ferme-du-pech.test")
    shots = {
        "coordinator": shoot.journey("1-coordinateur"),
        "staff": shoot.journey("2-mairie"),
        "producer": shoot.journey("3-producteur"),
    }

    coordinator_creates_collective(coordinator, site, drive, shots["coordinator"], axe_check)
    coordinator_creates_points_and_invites_staff(coordinator, staff, drive, shots["coordinator"])
    coordinator_creates_producer_and_invites_account(coordinator, producer, drive, shots["coordinator"])
    staff_sets_up_point(staff, mailbox, drive, shots["staff"])
    producer_builds_catalogue(producer, mailbox, drive, tmp_path, shots["producer"], axe_check)
    coordinator_schedules_sale(coordinator, drive, shots["coordinator"], axe_check)
