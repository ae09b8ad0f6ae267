"""Producers' statements as a producer and a treasurer notice them: the sums, the PDF, the SEPA file."""

import io
import xml.etree.ElementTree as ET
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sepaxml
import xmlschema
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from pypdf import PdfReader

from marketplace.models import Membership, Role, User
from marketplace.money import euros
from orders.checkout import services as checkout_services
from orders.closing import jobs
from orders.models import OrderLine, PaymentMethod, ProducerBankAccount, ShopSettings, Statement, Transfer
from orders.payments import services as payment_services
from orders.statements import services as statement_services
from producers import services as producer_services
from producers.models import ProducerAccount
from tests.conftest import words
from tests.orders.conftest import make_sale

PRODUCER_IBAN = "FR7630006000011234567890189"
OTHER_IBAN = "DE89370400440532013000"
COLLECTIVE_IBAN = "FR1420041010050500013M02606"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_ROOT = tmp_path / "private"
    return tmp_path


@pytest.fixture
def distributed(market, alpha, media_root):
    """Two producers, two members, a weighed roast, the sale closed and distributed; commission 10 %,
    VAT 20 %."""
    statement_services.statement_settings_update(
        commission_percent=Decimal("10"),
        commission_vat_rate=Decimal("20"),
        bank_holder="Drive Alpha",
        bank_iban=COLLECTIVE_IBAN,
        bank_bic="",
    )
    farm = market.tomatoes.producer
    ProducerAccount.objects.create(producer=farm, user=alpha.producer)
    bakery = producer_services.producer_create(name="Fournil de Lisa", town="Agen")
    producer_services.product_create(
        producer=bakery, name="Pain de seigle", price=Decimal("3.35"), unit="piece", stock=None
    )
    sale = make_sale(market.point, [farm, bakery], title="Vente du jeudi")
    offers = {offer.name: offer for offer in sale.offers.all()}
    market.sale = sale
    other = User.objects.create_user(
        email="bernard@alpha.test", password="x", first_name="Bernard", last_name="Lafon"
    )
    Membership.objects.create(user=other, collective=alpha.collective, roles=[Role.MEMBER])
    first = checkout_services.order_place(
        sale_id=sale.pk,
        user=alpha.member,
        quantities={offers["Tomates"].pk: 3, offers["Rôti de bœuf"].pk: 2, offers["Pain de seigle"].pk: 1},
        slot_id=market.slots[0].pk,
        payment_method=PaymentMethod.CASH,
    )
    checkout_services.order_place(
        sale_id=sale.pk,
        user=other,
        quantities={offers["Tomme"].pk: 1, offers["Pain de seigle"].pk: 3},
        slot_id=market.slots[1].pk,
        payment_method=PaymentMethod.CASH,
    )
    assert jobs.sale_close(sale_id=sale.pk, now=sale.closes_at + timedelta(minutes=1))
    roast = OrderLine.objects.get(order=first, name="Rôti de bœuf")
    payment_services.line_weigh(line_id=roast.pk, weight_kg=Decimal("1.130"))  # 27.12 € instead of 24.00
    market.sale = sale
    market.bakery = bakery
    market.farm = farm
    return market


def _final_total(sale) -> Decimal:
    lines = OrderLine.objects.filter(order__sale=sale, order__status="placed")
    return sum((line.final_amount for line in lines), Decimal("0"))


def test_each_statement_is_weighed_sales_minus_commission_and_all_add_up(distributed):
    issued = statement_services.statements_issue(sale_id=distributed.sale.pk)
    by_producer = {statement.producer.name: statement for statement in issued}
    assert sorted(by_producer) == ["Ferme du Pech", "Fournil de Lisa"]
    farm = by_producer["Ferme du Pech"]
    # 3 × 2.50 + the roast as weighed (1.130 kg × 24.00) + 4.20
    assert farm.gross == Decimal("7.50") + Decimal("27.12") + Decimal("4.20")
    assert (farm.commission_ht, farm.commission_vat) == (Decimal("3.88"), Decimal("0.78"))
    assert farm.due == farm.gross - Decimal("3.88") - Decimal("0.78")
    bakery = by_producer["Fournil de Lisa"]
    assert bakery.gross == Decimal("13.40")
    assert bakery.due == Decimal("13.40") - Decimal("1.34") - Decimal("0.27")
    assert sum(item.due + item.commission for item in issued) == _final_total(distributed.sale)
    assert {line.basket for line in farm.lines.all()} == {"Panier n° 1", "Panier n° 2"}
    assert farm.number + 1 == bakery.number  # numbered per collective, one after the other
    assert statement_services.statements_issue(sale_id=distributed.sale.pk) == []  # nothing changed


def test_a_late_weighing_issues_a_correction_and_the_first_one_is_replaced(distributed):
    first = {s.producer_id: s for s in statement_services.statements_issue(sale_id=distributed.sale.pk)}
    roast = OrderLine.objects.get(order__sale=distributed.sale, name="Rôti de bœuf")
    payment_services.line_weigh(line_id=roast.pk, weight_kg=Decimal("1.000"))
    corrections = statement_services.statements_issue(sale_id=distributed.sale.pk)
    assert [item.producer for item in corrections] == [distributed.farm]
    correction = corrections[0]
    old = Statement.objects.get(pk=first[distributed.farm.pk].pk)
    assert old.status == Statement.Status.REPLACED and not old.is_current
    assert correction.corrects == old and correction.gross == Decimal("7.50") + Decimal("24.00") + Decimal(
        "4.20"
    )
    current = Statement.objects.filter(sale=distributed.sale, is_current=True)
    assert sum(item.due + item.commission for item in current) == _final_total(distributed.sale)


def test_the_clock_issues_statements_once_the_sale_is_distributed_and_weighed(distributed):
    sale = distributed.sale
    before_end = sale.distribution_ends_at - timedelta(minutes=5)
    jobs.due_sales_process(now=before_end)
    assert not Statement.objects.filter(sale=sale).exists()
    unweighed = OrderLine.objects.get(order__sale=sale, name="Rôti de bœuf")
    OrderLine.objects.filter(pk=unweighed.pk).update(weight_kg=None, weighed_amount=None)
    after_end = sale.distribution_ends_at + timedelta(minutes=5)
    jobs.due_sales_process(now=after_end)
    assert not Statement.objects.filter(sale=sale).exists()  # a roast still to weigh
    payment_services.line_weigh(line_id=unweighed.pk, weight_kg=Decimal("1.130"))
    jobs.due_sales_process(now=after_end)
    assert Statement.objects.filter(sale=sale).count() == 2
    jobs.due_sales_process(now=after_end)
    assert Statement.objects.filter(sale=sale).count() == 2


def _pdf_words(field) -> str:
    with field.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return " ".join("\n".join(page.extract_text() for page in reader.pages).replace("\xa0", " ").split())


def test_the_pdf_shows_producer_sale_lines_and_total_in_french_and_is_emailed(
    distributed, alpha, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        issued = statement_services.statements_issue(sale_id=distributed.sale.pk)
    farm = next(item for item in issued if item.producer == distributed.farm)
    farm.refresh_from_db()
    assert farm.file.name.startswith(f"{connection.schema_name}/statements/")
    assert Path(farm.file.path).is_relative_to(Path(farm.file.storage.location))
    text = _pdf_words(farm.file)
    assert f"Relevé {farm.reference} : Ferme du Pech" in text
    assert "Vente du jeudi" in text and "Panier n° 1" in text
    assert "Rôti de bœuf" in text and "1,130 kg" in text and "27,12 €" in text
    assert "Commission du collectif HT (10 %)" in text and "3,88 €" in text
    assert f"Net à payer {euros(farm.due).replace(chr(160), chr(32))}" in text
    assert "Maud" not in text and "Bernard" not in text  # members by basket number only
    sent = [message for message in mailoutbox if alpha.producer.email in message.to]
    assert len(sent) == 1 and farm.reference in sent[0].subject
    assert sent[0].attachments[0][2] == "application/pdf"
    monthly = distributed.farm.monthly_statements.get()
    assert "Total du mois" in _pdf_words(monthly.file) and farm.reference in _pdf_words(monthly.file)


def _schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"))


def test_the_sepa_file_validates_and_pays_the_right_ibans_then_they_are_marked_paid(distributed, alpha):
    issued = statement_services.statements_issue(sale_id=distributed.sale.pk)
    statement_services.bank_account_save(
        producer=distributed.farm, holder="GAEC du Pech", iban="fr76 3000 6000 0112 3456 7890 189", bic=""
    )
    statement_services.bank_account_save(
        producer=distributed.bakery, holder="Lisa Martin", iban=OTHER_IBAN, bic="COBADEFFXXX"
    )
    transfer = statement_services.transfer_prepare(
        statement_ids=[item.pk for item in issued], execution_date=timezone.localdate(), by=alpha.coordinator
    )
    with transfer.file.open("rb") as handle:
        content = handle.read()
    _schema().validate(content.decode())
    root = ET.fromstring(content)
    credits = {
        node.find("p:CdtrAcct/p:Id/p:IBAN", NS).text: Decimal(node.find("p:Amt/p:InstdAmt", NS).text)
        for node in root.iterfind(".//p:CdtTrfTxInf", NS)
    }
    due = {item.producer.name: item.due for item in issued}
    assert credits == {PRODUCER_IBAN: due["Ferme du Pech"], OTHER_IBAN: due["Fournil de Lisa"]}
    assert root.find(".//p:DbtrAcct/p:Id/p:IBAN", NS).text == COLLECTIVE_IBAN
    assert Decimal(root.find(".//p:GrpHdr/p:CtrlSum", NS).text) == sum(due.values())
    assert set(Statement.objects.values_list("status", flat=True)) == {Statement.Status.PREPARED}
    statement_services.transfer_mark_paid(transfer_id=transfer.pk, paid_on=timezone.localdate())
    assert set(Statement.objects.values_list("status", "paid_on")) == {
        (Statement.Status.PAID, timezone.localdate())
    }


def test_a_statement_without_iban_is_excluded_and_a_failed_file_marks_nothing(distributed, alpha, media_root):
    issued = statement_services.statements_issue(sale_id=distributed.sale.pk)
    statement_services.bank_account_save(
        producer=distributed.farm, holder="GAEC du Pech", iban=PRODUCER_IBAN, bic=""
    )
    bakery = next(item for item in issued if item.producer == distributed.bakery)
    assert "Pas d'IBAN" in statement_services.payout_blocker(bakery)
    with pytest.raises(ValidationError, match="Pas d'IBAN"):
        statement_services.transfer_prepare(
            statement_ids=[item.pk for item in issued],
            execution_date=timezone.localdate(),
            by=alpha.coordinator,
        )
    assert not Transfer.objects.exists()
    assert set(Statement.objects.values_list("status", flat=True)) == {Statement.Status.ISSUED}
    assert not list((media_root / "private").rglob("*.xml"))


def test_bad_iban_and_bic_get_a_clear_french_message(distributed, alpha, browse):
    client = browse(alpha, alpha.producer)
    url = f"/mes-ventes/coordonnees-bancaires/{distributed.farm.pk}/"
    response = client.post(url, {"holder": "GAEC du Pech", "iban": "FR7630006000011234567890188", "bic": ""})
    assert response.status_code == 400
    assert "Cet IBAN n'est pas valide (la clé de contrôle ne correspond pas)" in words(response)
    response = client.post(url, {"holder": "GAEC du Pech", "iban": PRODUCER_IBAN, "bic": "NOPE"})
    assert response.status_code == 400 and "Ce BIC n'est pas valide" in words(response)
    assert not ProducerBankAccount.objects.exists()
    response = client.post(
        url, {"holder": "GAEC du Pech", "iban": "FR76 3000 6000 0112 3456 7890 189", "bic": ""}
    )
    assert response.status_code == 302
    assert "FR76 •••• 0189" in words(client.get("/mes-ventes/"))


def test_commission_settings_refuse_a_bad_collective_iban(in_alpha, alpha, browse):
    client = browse(alpha, alpha.coordinator)
    response = client.post(
        "/tresorerie/reglages/",
        {
            "commission_percent": "8,5",
            "commission_vat_rate": "20",
            "bank_holder": "Drive",
            "bank_iban": "FR00 1234",
            "bank_bic": "",
        },
    )
    assert response.status_code == 400 and "Cet IBAN n'est pas valide" in words(response)
    assert ShopSettings.current().commission_percent == Decimal("0")
    response = client.post(
        "/tresorerie/reglages/",
        {
            "commission_percent": "8,5",
            "commission_vat_rate": "20",
            "bank_holder": "Drive",
            "bank_iban": COLLECTIVE_IBAN,
            "bank_bic": "",
        },
    )
    assert response.status_code == 302 and ShopSettings.current().commission_percent == Decimal("8.5")


def test_who_sees_which_statement(distributed, alpha, beta, browse, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        issued = statement_services.statements_issue(sale_id=distributed.sale.pk)
    farm = next(item for item in issued if item.producer == distributed.farm)
    bakery = next(item for item in issued if item.producer == distributed.bakery)
    baker = User.objects.create_user(
        email="lisa@alpha.test", password="x", first_name="Lisa", last_name="Martin"
    )
    Membership.objects.create(user=baker, collective=alpha.collective, roles=[Role.PRODUCER])
    ProducerAccount.objects.create(producer=distributed.bakery, user=baker)
    treasurer = User.objects.create_user(
        email="tresor@alpha.test", password="x", first_name="Tom", last_name="Sou"
    )
    Membership.objects.create(user=treasurer, collective=alpha.collective, roles=[Role.TREASURER])

    mine = browse(alpha, alpha.producer)
    page = words(mine.get("/mes-ventes/"))
    assert farm.reference in page and bakery.reference not in page and "à payer" in page
    assert mine.get(f"/releves/{farm.pk}/pdf/").status_code == 200
    assert mine.get(f"/releves/{bakery.pk}/pdf/").status_code == 404  # another producer's, by its id
    assert mine.get("/releves/999999/pdf/").status_code == 404
    assert mine.get(f"/mes-ventes/coordonnees-bancaires/{distributed.bakery.pk}/").status_code == 404
    assert mine.get("/tresorerie/").status_code == 403
    other = browse(alpha, baker)
    assert other.get(f"/releves/{farm.pk}/pdf/").status_code == 404
    assert other.get(f"/releves/{bakery.pk}/pdf/").status_code == 200
    month = distributed.farm.monthly_statements.get()
    assert other.get(f"/releves/mois/{month.pk}/pdf/").status_code == 404
    member = browse(alpha, alpha.member)
    for url in ["/mes-ventes/", f"/releves/{farm.pk}/pdf/", "/tresorerie/", "/tresorerie/reglages/"]:
        assert member.get(url).status_code == 403
    for user in (alpha.coordinator, treasurer):
        client = browse(alpha, user)
        assert client.get("/tresorerie/").status_code == 200
        assert client.get(f"/releves/{bakery.pk}/pdf/").status_code == 200
    outsider = browse(alpha, beta.coordinator)
    assert outsider.get("/tresorerie/").status_code == 403
    assert outsider.get(f"/releves/{farm.pk}/pdf/").status_code == 403
    # The other collective's own pages know nothing of alpha's statements.
    theirs = browse(beta, beta.coordinator)
    assert theirs.get(f"/releves/{farm.pk}/pdf/").status_code == 404
    assert "Ferme du Pech" not in words(theirs.get("/tresorerie/"))


def test_treasurer_pays_through_the_pages(distributed, alpha, browse):
    issued = statement_services.statements_issue(sale_id=distributed.sale.pk)
    statement_services.bank_account_save(
        producer=distributed.farm, holder="GAEC du Pech", iban=PRODUCER_IBAN, bic=""
    )
    client = browse(alpha, alpha.coordinator)
    page = words(client.get("/tresorerie/"))
    assert "Fournil de Lisa" in page and "Pas d'IBAN" in page
    farm = next(item for item in issued if item.producer == distributed.farm)
    response = client.post(
        "/tresorerie/", {"statements": [farm.pk], "execution_date": timezone.localdate().isoformat()}
    )
    assert response.status_code == 302
    transfer = Transfer.objects.get()
    download = client.get(f"/tresorerie/virements/{transfer.pk}/fichier/")
    assert download.status_code == 200 and b"CstmrCdtTrfInitn" in b"".join(download.streaming_content)
    assert (
        browse(alpha, alpha.producer).get(f"/tresorerie/virements/{transfer.pk}/fichier/").status_code == 403
    )
    response = client.post(
        f"/tresorerie/virements/{transfer.pk}/", {"paid_on": timezone.localdate().isoformat()}
    )
    assert response.status_code == 302
    assert "payé" in words(browse(alpha, alpha.producer).get("/mes-ventes/"))


def test_the_month_is_emailed_once_it_is_over(
    distributed, alpha, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        statement_services.statements_issue(sale_id=distributed.sale.pk)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert statement_services.months_over_send() == 0  # this month is not over
    next_month = timezone.now() + timedelta(days=32)
    with django_capture_on_commit_callbacks(execute=True):
        assert statement_services.months_over_send(now=next_month) == 2
    monthly = [message for message in mailoutbox if "relevé du mois" in message.subject]
    assert {tuple(message.to) for message in monthly} >= {(alpha.producer.email,)}
    with django_capture_on_commit_callbacks(execute=True):
        assert statement_services.months_over_send(now=next_month) == 0  # sent once
