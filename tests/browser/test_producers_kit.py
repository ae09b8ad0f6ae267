"""The producers' kit in a real browser, without JavaScript: a farmer launches a drive in one page (a mistake
first, nothing typed lost), a neighbouring farm applies to join it, the founder accepts the application."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.helpers import flash, menu

DRIVE = {
    "id_name": "Le Drive du Confluent",
    "id_slug": "drive-confluent",
    "id_town": "Aiguillon",
    "id_department": "99",  # a mistake, corrected below
    "id_contact_email": "contact@confluent.test",
    "id_farm_name": "Ferme de Lagarrigue",
    "id_point_name": "Salle des fêtes d'Aiguillon",
    "id_point_address": "Place du 14-Juillet",
    "id_point_postcode": "47190",
    "id_point_town": "Aiguillon",
    "id_access_instructions": "Entrée par le parking, côté halle.",
    "id_slot_minutes": "20",
    "id_slot_capacity": "5",
}


def test_launch_a_drive_then_a_farm_applies_and_is_accepted(site, person, shoot, axe_check):
    founder = person("Lucie", "Lagarrigue", "lucie@confluent.test", javascript=False)
    page = founder.page
    page.goto(site.public_url + "/")
    menu(page, "Créer un compte").click()
    founder.sign_up()
    page.goto(site.public_url + "/")
    page.get_by_role("link", name="Lancer un drive").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lancer un drive fermier")
    for field, value in DRIVE.items():
        page.locator(f"#{field}").fill(value)
    shoot(page, "01-launch-form")
    page.get_by_role("button", name="Lancer le drive").click()

    expect(page.get_by_role("main")).to_contain_text("Numéro de département")
    expect(page.locator("#id_point_name")).to_have_value("Salle des fêtes d'Aiguillon")
    shoot(page, "02-launch-form-error")
    page.locator("#id_department").fill("47")
    page.get_by_role("button", name="Lancer le drive").click()

    drive_url = site.collective_url("drive-confluent")
    expect(page).to_have_url(drive_url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Le Drive du Confluent")
    expect(flash(page)).to_contain_text("est en ligne")
    expect(page.get_by_role("region", name="Ventes")).to_contain_text("Drive de Le Drive du Confluent")
    axe_check(page)
    shoot(page, "03-drive-home-founder")

    farmer = person("Marc", "Vidal", "marc@vidal.test", javascript=False)
    farm_page = farmer.page
    farm_page.goto(drive_url + "/")
    farm_page.get_by_role("link", name="Rejoindre comme producteur").click()
    farm_page.get_by_label("Nom de la ferme ou de l'entreprise").fill("Les Vergers Vidal")
    farm_page.get_by_label("Commune").fill("Port-Sainte-Marie")
    farm_page.get_by_label("Département").fill("47")
    farm_page.get_by_label("Votre nom").fill("Marc Vidal")
    farm_page.get_by_label("Adresse e-mail").fill("marc@vidal.test")
    farm_page.get_by_label("fruits", exact=True).check()
    farm_page.get_by_label("Vos produits, en quelques mots").fill("Pommes, poires, jus de pomme.")
    farm_page.get_by_label("Haute valeur environnementale (HVE)").check()
    axe_check(farm_page)
    shoot(farm_page, "04-apply-form")
    farm_page.get_by_role("button", name="Envoyer ma candidature").click()
    expect(farm_page.get_by_role("heading", level=1)).to_have_text("Candidature envoyée")
    shoot(farm_page, "05-apply-sent")

    page.goto(drive_url + "/candidatures/")
    expect(page.get_by_role("main")).to_contain_text("Les Vergers Vidal")
    shoot(page, "06-applications")
    page.get_by_role("link", name="Les Vergers Vidal").click()
    page.get_by_role("button", name="Accepter la candidature").click()
    expect(flash(page)).to_contain_text("Les Vergers Vidal est maintenant producteur du collectif")
    shoot(page, "07-application-accepted")
