"""Paying a producer end to end, in a real browser, on the demo's drive « Cagette 47 »: the sale is closed,
weighed and its statements issued (services, as the clock would), then the coordinator opens the treasurer's
page, prepares the SEPA file, downloads it (it validates against pain.001.001.03), marks the transfer paid,
and the producer (Jean Laborde) sees « payé » in « Mes ventes » and downloads the statement's PDF."""

from __future__ import annotations

import base64
import io
import xml.etree.ElementTree as ET
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import sepaxml
import xmlschema
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect
from pypdf import PdfReader

from marketplace.models import Collective, User
from orders.closing import jobs
from orders.models import OrderLine, Sale, Statement
from orders.payments import services as payment_services
from orders.statements import services as statement_services
from producers.models import Producer
from tests.browser.helpers import FETCH_FILE, flash, menu

DEMO_PASSWORD = "etal-demo-2026"
SLUG = "cagette47"
PRODUCER_IBAN = "FR7630006000011234567890189"


def _prepare_statements() -> dict:
    """Close the demo's sale, weigh what is weighed, issue the statements; the demo producer's farm gets an
    IBAN, the other farms none (the page says why they are left out)."""
    collective = Collective.objects.get(slug=SLUG)
    producer_user = User.objects.get(email="producteur@cagette47.demo")
    with schema_context(collective.schema_name):
        sale = Sale.objects.filter(orders__isnull=False).distinct().get()
        assert jobs.sale_close(sale_id=sale.pk, now=sale.closes_at + timedelta(minutes=1))
        for line in OrderLine.objects.filter(order__sale=sale, is_variable_weight=True):
            payment_services.line_weigh(line_id=line.pk, weight_kg=Decimal("0.950") * line.quantity)
        statement_services.statement_settings_update(
            commission_percent=Decimal("8"),
            commission_vat_rate=Decimal("20"),
            bank_holder="Cagette 47",
            bank_iban="FR1420041010050500013M02606",
            bank_bic="PSSTFRPPBOR",
        )
        farm = Producer.objects.filter(accounts=producer_user).first()
        statement_services.statements_issue(sale_id=sale.pk)
        for statement in Statement.objects.all():
            statement_services.statement_pdf_make(statement_id=statement.pk)
        statement_services.bank_account_save(producer=farm, holder="Jean Laborde", iban=PRODUCER_IBAN, bic="")
        mine = Statement.objects.get(producer=farm)
        return {"farm": farm.name, "reference": mine.reference, "due": mine.due, "sale": sale.title}


def _euros(amount: Decimal) -> str:
    return f"{amount:.2f}".replace(".", ",") + "\u00a0€"


def test_statements_pay_a_producer(site, person, shoot, axe_check, tmp_path):
    call_command("seed_demo", "--quiet")
    url = site.collective_url(SLUG)
    expected = _prepare_statements()
    shots = {
        "treasurer": shoot.journey("6-releves-tresorerie"),
        "producer": shoot.journey("6-releves-producteur"),
    }

    coordinator = person("Claire", "Coordination", "coordination@cagette47.demo")
    coordinator.password = DEMO_PASSWORD
    page = coordinator.page
    page.goto(url + "/")
    menu(page, "Se connecter").click()
    coordinator.log_in()
    menu(page, "Trésorerie").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Trésorerie : payer les producteurs")
    to_pay = page.get_by_role("region", name="Relevés à payer")
    expect(to_pay).to_contain_text(expected["farm"])
    expect(to_pay).to_contain_text(_euros(expected["due"]))
    expect(to_pay).to_contain_text("Pas d'IBAN")  # the other farms, left out with the reason
    axe_check(page)
    shots["treasurer"](page, "01-treasury")
    page.get_by_role("button", name="Préparer le fichier de virement SEPA").click()
    expect(flash(page)).to_contain_text("Virement préparé")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger le fichier SEPA (pain.001)").click()
    xml_path = tmp_path / "virement.xml"
    download_info.value.save_as(xml_path)
    schema = xmlschema.XMLSchema(str(Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"))
    schema.validate(str(xml_path))
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
    credits = ET.parse(xml_path).getroot().findall(".//p:CdtTrfTxInf", ns)
    assert [
        (c.find("p:CdtrAcct/p:Id/p:IBAN", ns).text, c.find("p:Amt/p:InstdAmt", ns).text) for c in credits
    ] == [(PRODUCER_IBAN, f"{expected['due']:.2f}")]
    axe_check(page)
    shots["treasurer"](page, "02-transfer")
    page.get_by_label("Date du virement (relevé de banque)").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Confirmer : virement effectué").click()
    expect(flash(page)).to_contain_text("Virement marqué payé")
    expect(page.locator(".facts")).to_contain_text("payé")

    producer = person("Jean", "Laborde", "producteur@cagette47.demo")
    producer.password = DEMO_PASSWORD
    page = producer.page
    page.goto(url + "/")
    menu(page, "Se connecter").click()
    producer.log_in()
    menu(page, "Mes ventes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes ventes")
    row = page.get_by_role("row").filter(has_text=expected["reference"])
    expect(row).to_contain_text("payé")
    expect(row).to_contain_text(_euros(expected["due"]))
    expect(page.get_by_role("region", name="Coordonnées bancaires")).to_contain_text("FR76 •••• 0189")
    axe_check(page)
    shots["producer"](page, "01-my-sales")
    link = row.get_by_role("link", name=f"Télécharger {expected['reference']}")
    response = page.evaluate(FETCH_FILE, link.get_attribute("href"))
    assert response["status"] == 200 and response["type"] == "application/pdf"
    pdf_path = tmp_path / "releve.pdf"
    pdf_path.write_bytes(base64.b64decode(response["body"]))
    text = " ".join(
        PdfReader(io.BytesIO(pdf_path.read_bytes())).pages[0].extract_text().replace("\xa0", " ").split()
    )
    assert f"Relevé {expected['reference']} : {expected['farm']}" in text and "Net à payer" in text
    (Path(shots["producer"].folder) / "releve.pdf").write_bytes(pdf_path.read_bytes())
