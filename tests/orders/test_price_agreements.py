"""Price agreements (« accords de prix »), as a coordinator, a member and a supplier notice them: the agreed
price in every sale opening in the period, « prix garanti jusqu'au … », catalogue price changes refused,
overlaps refused, the warning 21 days before the end (home page and one e-mail), and who sees what."""

from __future__ import annotations

import io
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import tenant_context

from marketplace.models import ClockDue, Collective, Membership, Role, User
from orders import tasks
from orders.models import Offer, Sale
from orders.sales import services as sale_services
from pickup_points import services as point_services
from producers import agreements, catalogue
from producers import services as producer_services
from producers.demo import quarter_bounds
from producers.models import PriceAgreement, Product, Unit
from producers.tasks import agreements_ending_check
from tests.conftest import words
from tests.orders.conftest import make_sale

PARIS = ZoneInfo("Europe/Paris")
IN_FEBRUARY = datetime(2027, 2, 20, 10, 0, tzinfo=PARIS)
IN_APRIL = datetime(2027, 4, 2, 10, 0, tzinfo=PARIS)


@pytest.fixture
def travel():
    with time_machine.travel(IN_FEBRUARY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def coop(in_alpha, travel):
    """A supplier managed by alpha's producer, two products, a pickup point, and a first-quarter agreement."""
    farm = producer_services.producer_create(name="Coopérative du Lauragais", town="Villefranche")
    producer_services.producer_account_link(producer=farm, user=in_alpha.producer)
    lentils = producer_services.product_create(
        producer=farm, name="Lentilles vertes", price=Decimal("3.20"), unit=Unit.BAG, stock=50
    )
    flour = producer_services.product_create(
        producer=farm, name="Farine T65", price=Decimal("1.60"), unit=Unit.BAG, stock=50
    )
    point = point_services.point_create(
        name="Centre social", address="2 rue Basse", town="Agen", slot_minutes=30, slot_capacity=5
    )
    point_services.point_update(point=point, hours=[(day, time(17, 0), time(19, 0)) for day in range(7)])
    agreement = agreements.agreement_record(
        producer=farm,
        recorded_by=in_alpha.coordinator,
        starts_on=date(2027, 1, 1),
        ends_on=date(2027, 3, 31),
        agreed_on=date(2026, 12, 15),
        agreed_with="Julien (coopérative) et le labo",
        note="Prix du trimestre.",
        prices={lentils.pk: Decimal("2.90")},
    )
    return {"farm": farm, "lentils": lentils, "flour": flour, "point": point, "agreement": agreement}


def _offer(sale, product) -> Offer:
    return Offer.objects.get(sale=sale, product=product)


def test_a_sale_opened_in_the_period_shows_the_agreed_price_and_until_when(browse, in_alpha, coop):
    sale = make_sale(coop["point"], [coop["farm"]])
    page = browse(in_alpha, in_alpha.member).get(f"/ventes/{sale.pk}/")
    assert page.status_code == 200
    shown = words(page)
    assert "2,90 €" in shown and "prix garanti jusqu'au 31 mars" in shown
    assert "1,60 €" in shown  # the flour is not in the agreement: its own price, no guarantee
    assert shown.count("prix garanti") == 1
    assert _offer(sale, coop["lentils"]).price == Decimal("2.90")


def test_a_sale_opened_after_the_period_takes_the_catalogue_price(browse, in_alpha, coop, travel):
    travel.move_to(IN_APRIL)
    producer_services.product_update(product=coop["lentils"], price=Decimal("3.40"))  # allowed: period over
    sale = make_sale(coop["point"], [coop["farm"]])
    shown = words(browse(in_alpha, in_alpha.member).get(f"/ventes/{sale.pk}/"))
    assert "3,40 €" in shown and "prix garanti" not in shown


def test_the_agreed_price_wins_over_the_price_typed_for_the_sale(in_alpha, coop):
    sale = sale_services.sale_create(
        title="Bon de commande de mars",
        opens_at=IN_FEBRUARY,
        closes_at=datetime(2027, 2, 25, 20, 0, tzinfo=PARIS),
        distribution_starts_at=datetime(2027, 3, 3, 17, 0, tzinfo=PARIS),
        distribution_ends_at=datetime(2027, 3, 3, 19, 0, tzinfo=PARIS),
        points=[coop["point"]],
        producers=[coop["farm"]],
        offer_rows=[sale_services.OfferRow(coop["lentils"].pk, True, 10, Decimal("3.50"))],
    )
    offer = _offer(sale, coop["lentils"])
    assert (offer.price, offer.guaranteed_until) == (Decimal("2.90"), date(2027, 3, 31))
    with pytest.raises(ValidationError) as refused:
        sale_services.sale_offers_update(
            sale_id=sale.pk, rows=[sale_services.OfferRow(coop["lentils"].pk, True, 10, Decimal("3.50"))]
        )
    assert "prix convenu avec le fournisseur, garanti jusqu'au 31 mars 2027" in str(refused.value)


@pytest.mark.parametrize("page", ["product", "bulk"])
def test_a_price_change_inside_the_period_is_refused_with_the_end_date(browse, in_alpha, coop, page):
    lentils = coop["lentils"]
    client = browse(in_alpha, in_alpha.producer)
    if page == "product":
        response = client.post(
            f"/produits/{lentils.pk}/",
            {
                "name": lentils.name,
                "unit": Unit.BAG,
                "price": "3.50",
                "vat_rate": "5.5",
                "is_active": "on",
                "stock": "50",
            },
        )
    else:
        rows = [coop["flour"], lentils]
        data = {"form-TOTAL_FORMS": "2", "form-INITIAL_FORMS": "2"}
        for index, product in enumerate(sorted(rows, key=lambda p: p.name)):
            data |= {
                f"form-{index}-product": product.pk,
                f"form-{index}-price": "3.50" if product == lentils else "1.60",
                f"form-{index}-stock": "50",
            }
        response = client.post(f"/producteurs/{coop['farm'].pk}/prix-et-stocks/", data)
    assert response.status_code == 400
    shown = words(response)
    assert "est garanti jusqu'au 31 mars 2027 par un accord de prix" in shown
    assert "nouvel accord à partir du 1 avril 2027" in shown
    assert Product.objects.get(pk=lentils.pk).price == Decimal("2.90")


def _agreement_form(products: dict, **dates) -> dict:
    return {
        "starts_on": "2027-03-01",
        "ends_on": "2027-06-30",
        "agreed_on": "2027-02-19",
        "agreed_with": "Julien",
        "note": "",
        **dates,
        **{f"price_{product.pk}": price for product, price in products.items()},
    }


def test_a_coordinator_records_an_agreement_and_reads_the_history(browse, in_alpha, coop):
    client = browse(in_alpha, in_alpha.coordinator)
    response = client.post(
        f"/producteurs/{coop['farm'].pk}/accords/nouveau/",
        _agreement_form({coop["flour"]: "1.50"}, starts_on="2027-02-01", ends_on="2027-07-31"),
    )
    assert response.status_code == 302
    history = words(client.get(f"/producteurs/{coop['farm'].pk}/accords/"))
    assert (
        "Du 1 février 2027 au 31 juillet 2027" in history and "Du 1 janvier 2027 au 31 mars 2027" in history
    )
    assert (
        "Farine T65 1,50 €" in history
        and "Conclu le 15 décembre 2026 avec Julien (coopérative) et le labo" in history
    )
    # it runs today: the catalogue takes the agreed price
    assert Product.objects.get(pk=coop["flour"].pk).price == Decimal("1.50")


@pytest.mark.parametrize(
    "dates, message",
    [
        ({}, "« Lentilles vertes » a déjà un prix convenu du 1 janvier 2027 au 31 mars 2027"),
        (
            {"starts_on": "2027-05-01", "ends_on": "2027-04-01"},
            "La fin de l'accord doit venir après son début.",
        ),
    ],
)
def test_bad_agreements_are_refused_and_nothing_is_written(browse, in_alpha, coop, dates, message):
    client = browse(in_alpha, in_alpha.coordinator)
    response = client.post(
        f"/producteurs/{coop['farm'].pk}/accords/nouveau/",
        _agreement_form({coop["flour"]: "1.50", coop["lentils"]: "3.00"}, **dates),
    )
    assert response.status_code == 400
    assert message in words(response)
    assert PriceAgreement.objects.count() == 1
    assert Product.objects.get(pk=coop["flour"].pk).price == Decimal("1.60")


def test_no_price_at_all_is_refused(browse, in_alpha, coop):
    response = browse(in_alpha, in_alpha.coordinator).post(
        f"/producteurs/{coop['farm'].pk}/accords/nouveau/", _agreement_form({}, starts_on="2027-04-01")
    )
    assert response.status_code == 400
    assert "Indiquez le prix convenu d'au moins un produit." in words(response)


def test_the_warning_comes_21_days_before_the_end_and_the_email_once(
    browse, in_alpha, coop, travel, mailoutbox, django_capture_on_commit_callbacks
):
    def home() -> str:
        return words(browse(in_alpha, in_alpha.coordinator).get("/"))

    travel.move_to(datetime(2027, 3, 9, 8, 0, tzinfo=PARIS))  # 22 days before the end
    assert "Accords de prix bientôt terminés" not in home()
    with django_capture_on_commit_callbacks(execute=True):
        assert agreements_ending_check(schema_name=in_alpha.collective.schema_name) == 0
    assert mailoutbox == []
    travel.move_to(datetime(2027, 3, 10, 8, 0, tzinfo=PARIS))  # 21 days before
    assert "L'accord avec Coopérative du Lauragais se termine le 31 mars 2027" in home()
    for day in (10, 11, 12):  # the daily task runs three mornings: one e-mail
        travel.move_to(datetime(2027, 3, day, 8, 0, tzinfo=PARIS))
        with django_capture_on_commit_callbacks(execute=True):
            agreements_ending_check(schema_name=in_alpha.collective.schema_name)
        connection.set_tenant(in_alpha.collective)
    (mail,) = mailoutbox
    assert mail.to == [in_alpha.coordinator.email]
    assert "L'accord de prix avec Coopérative du Lauragais se termine le 31 mars 2027" in mail.subject
    assert f"/producteurs/{coop['farm'].pk}/accords/" in mail.body


def test_who_sees_the_agreements(browse, in_alpha, beta, coop, outsider):
    farm = coop["farm"]
    history, record = f"/producteurs/{farm.pk}/accords/", f"/producteurs/{farm.pk}/accords/nouveau/"
    # the supplier reads its own agreements, cannot record one
    own = browse(in_alpha, in_alpha.producer)
    assert "Lentilles vertes 2,90 €" in words(own.get(history))
    assert "Enregistrer un accord de prix" not in words(own.get(history))
    assert own.get(record).status_code == 403
    # a member, a producer of another supplier, the other collective, a stranger: nothing
    assert browse(in_alpha, in_alpha.member).get(history).status_code == 403
    other_supplier = producer_services.producer_create(name="Ferme voisine")
    neighbour = User.objects.create_user(email="voisin@alpha.test", password="x", first_name="Vic")
    Membership.objects.create(user=neighbour, collective=in_alpha.collective, roles=[Role.PRODUCER])
    producer_services.producer_account_link(producer=other_supplier, user=neighbour)
    assert browse(in_alpha, neighbour).get(history).status_code == 404
    assert browse(in_alpha, neighbour).get(record).status_code == 403
    assert browse(in_alpha, in_alpha.staff).get(history).status_code == 403
    assert browse(beta, beta.coordinator).get(history).status_code == 404
    assert browse(beta, beta.producer).get(history).status_code == 404
    assert browse(in_alpha, outsider).get(history).status_code == 403
    # and the home warning is for coordinators only
    with time_machine.travel(datetime(2027, 3, 20, 8, 0, tzinfo=PARIS), tick=False):
        assert "Accords de prix bientôt terminés" in words(browse(in_alpha, in_alpha.coordinator).get("/"))
        assert "Accords de prix bientôt terminés" not in words(browse(in_alpha, in_alpha.member).get("/"))
        assert "Accords de prix bientôt terminés" not in words(browse(in_alpha, in_alpha.producer).get("/"))
        assert "Accords de prix bientôt terminés" not in words(browse(beta, beta.coordinator).get("/"))


@pytest.mark.parametrize(
    "today, bounds",
    [
        (date(2027, 1, 1), (date(2027, 1, 1), date(2027, 3, 31))),
        (date(2027, 3, 31), (date(2027, 1, 1), date(2027, 3, 31))),
        (date(2028, 5, 15), (date(2028, 4, 1), date(2028, 6, 30))),
        (date(2026, 12, 31), (date(2026, 10, 1), date(2026, 12, 31))),
    ],
)
def test_the_demo_agreement_covers_the_quarter_of_any_day(today, bounds):
    assert quarter_bounds(today) == bounds


def test_the_demo_buying_group_shows_guaranteed_prices_the_other_none(browse, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", "--quiet", stdout=io.StringIO())
    for slug, guaranteed in [("emplettes", True), ("cagette47", False)]:
        collective = Collective.objects.get(slug=slug)
        with tenant_context(collective):
            sale = next(sale for sale in Sale.objects.all() if sale.is_open)
        member = User.objects.get(email=f"membre@{slug}.demo")
        shown = words(browse(f"{slug}.localhost", member).get(f"/ventes/{sale.pk}/"))
        assert ("prix garanti jusqu'au" in shown) is guaranteed


def test_a_catalogue_file_cannot_change_a_guaranteed_price(in_alpha, coop):
    """The catalogue import (CSV/XLSX) obeys the agreement as the forms do: the row is refused with the same
    message and nothing of the file is written; a file that leaves the guaranteed price alone goes in."""
    farm, lentils, flour = coop["farm"], coop["lentils"], coop["flour"]
    exported = catalogue.catalogue_export(producer=farm, file_format="csv").decode("utf-8-sig")
    assert "2,90" in exported and "1,60" in exported
    changed = exported.replace("2,90", "3,50").replace("1,60", "1,70")
    report = catalogue.catalogue_import_run(
        producer=farm, content=changed.encode(), file_format="csv", dry_run=False
    )
    refused = " ".join(error for row in report.rows for error in row.errors)
    assert "Le prix de « Lentilles vertes » est garanti jusqu'au 31 mars 2027" in refused
    lentils.refresh_from_db()
    flour.refresh_from_db()
    assert (lentils.price, flour.price) == (Decimal("2.90"), Decimal("1.60"))

    only_flour = exported.replace("1,60", "1,70")
    report = catalogue.catalogue_import_run(
        producer=farm, content=only_flour.encode(), file_format="csv", dry_run=False
    )
    assert not [error for row in report.rows for error in row.errors]
    lentils.refresh_from_db()
    flour.refresh_from_db()
    assert (lentils.price, flour.price) == (Decimal("2.90"), Decimal("1.70"))


def test_the_clock_sends_the_warning_the_morning_the_agreement_enters_its_last_21_days(
    in_alpha, coop, travel, mailoutbox, django_capture_on_commit_callbacks
):
    def tick(moment):
        travel.move_to(moment)
        with django_capture_on_commit_callbacks(execute=True):
            tasks.tenants_due_sales()
        connection.set_tenant(in_alpha.collective)

    tick(IN_FEBRUARY)  # the collective's first visit: its next moment is the warning's morning
    warning = datetime(2027, 3, 10, 7, 23, tzinfo=PARIS)
    assert ClockDue.objects.get(collective=in_alpha.collective).next_due == warning
    tick(datetime(2027, 3, 10, 7, 22, 20, tzinfo=PARIS))
    assert mailoutbox == []
    tick(datetime(2027, 3, 10, 7, 23, 20, tzinfo=PARIS))
    tick(datetime(2027, 3, 11, 7, 23, 20, tzinfo=PARIS))
    (mail,) = mailoutbox
    assert "L'accord de prix avec Coopérative du Lauragais se termine le 31 mars 2027" in mail.subject
    assert ClockDue.objects.get(collective=in_alpha.collective).next_due is None  # nothing more to do
