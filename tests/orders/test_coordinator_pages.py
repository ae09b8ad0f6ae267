"""The coordinator's ordering pages: sales, their products, orders and CSV, duplication, recurring schedules
and payment methods, as a coordinator sees them; everybody else is refused."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from marketplace.models import Membership, Role, User
from orders.checkout import services as checkout_services
from orders.models import Offer, Order, PaymentMethod, RecurringSchedule, Sale, ShopSettings
from orders.sales import services as sale_services
from orders.sales.recurrence import PARIS
from pickup_points import services as point_services
from pickup_points.models import Distribution, PickupSlot
from producers import services as producer_services
from producers.models import Unit
from tests.conftest import PASSWORD, words
from tests.conftest import text as page_text
from tests.orders.conftest import local_at


def text(response) -> str:
    """The page as read, non-breaking spaces (in amounts: « 2,50 € ») as plain spaces."""
    return page_text(response).replace("\xa0", " ")


def _member(alpha, number: int, *, last_name: str | None = None, first_name: str = "Ana") -> User:
    user = User.objects.create_user(
        email=f"acheteur{number}@alpha.test",
        password=PASSWORD,
        first_name=first_name,
        last_name=last_name or f"Acheteur{number:02d}",
        phone=f"06 00 00 00 {number:02d}",
    )
    Membership.objects.create(user=user, collective=alpha.collective, roles=[Role.MEMBER])
    return user


def _place(sale, user, quantities, *, slot, payment=PaymentMethod.CASH) -> Order:
    return checkout_services.order_place(
        sale_id=sale.pk,
        user=user,
        quantities={offer.pk: quantity for offer, quantity in quantities.items()},
        slot_id=slot.pk,
        payment_method=payment,
    )


def _draft_sale(market, *, title="Vente brouillon", days=10) -> Sale:
    return sale_services.sale_create(
        title=title,
        opens_at=timezone.now() + timedelta(days=days),
        closes_at=timezone.now() + timedelta(days=days + 3),
        distribution_starts_at=local_at(days + 5, time(17, 0)),
        distribution_ends_at=local_at(days + 5, time(19, 0)),
        points=[market.point],
        producers=[market.tomatoes.producer],
    )


def _input_tag(page: str, name: str, value: str) -> str:
    """The <input> of field `name` with `value`, as the page has it."""
    return re.search(rf'<input[^>]*name="{name}" value="{value}"[^>]*>', page).group(0)


def _future(days: int) -> date:
    return timezone.localdate() + timedelta(days=days)


def _sale_form(market, **changes) -> dict:
    opens = _future(7)
    data = {
        "title": "Drive du vendredi",
        "opens_at": f"{opens:%Y-%m-%d}T08:00",
        "closes_at": f"{opens + timedelta(days=3):%Y-%m-%d}T23:59",
        "distribution_date": f"{opens + timedelta(days=6):%Y-%m-%d}",
        "distribution_start": "17:00",
        "distribution_end": "19:00",
        "points": [market.point.pk],
        "producers": [market.tomatoes.producer_id],
        "publish": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# The sale list and the navigation ---------------------------------------------------------------------------


def test_the_sale_list_shows_each_sale_its_status_and_its_orders(browse, alpha, market):
    _draft_sale(market)
    _place(market.sale, alpha.member, {market.tomatoes: 2}, slot=market.slots[0])
    response = browse(alpha, alpha.coordinator).get("/ventes/")
    page = text(response)
    assert response.status_code == 200
    assert "<h1>Ventes</h1>" in page
    for label in ("Nouvelle vente", "Programmations", "Moyens de paiement"):
        assert label in page
    assert "Vente de la semaine" in page and "Vente brouillon" in page
    assert ">ouverte</span>" in page and ">brouillon</span>" in page
    assert "1 commande" in page and "0 commande" in page
    assert f'href="/ventes/{market.sale.pk}/produits/"' in page
    assert f'href="/ventes/{market.sale.pk}/commandes/"' in page
    assert f'href="/ventes/{market.sale.pk}/dupliquer/"' in page


def test_a_scheduled_and_a_closed_sale_say_so(browse, alpha, market):
    coming = _draft_sale(market, title="Vente à venir")
    sale_services.sale_publish(sale_id=coming.pk)
    Sale.objects.filter(pk=market.sale.pk).update(closed_at=timezone.now())
    page = text(browse(alpha, alpha.coordinator).get("/ventes/"))
    assert ">programmée</span>" in page and ">close</span>" in page


def test_only_coordinators_see_the_sales_link(browse, alpha, market):
    assert 'href="/ventes/"' in text(browse(alpha, alpha.coordinator).get("/"))
    for person in (alpha.member, alpha.producer, alpha.staff):
        assert 'href="/ventes/"' not in text(browse(alpha, person).get("/"))


# Creating a sale --------------------------------------------------------------------------------------------


def test_the_new_sale_form_proposes_the_next_drive(browse, alpha, market):
    page = text(browse(alpha, alpha.coordinator).get("/ventes/nouvelle/"))
    assert 'type="datetime-local"' in page and 'name="opens_at"' in page
    assert 'type="date"' in page and 'name="distribution_start"' in page
    assert "Salle des fêtes" in page and "Ferme du Pech" in page
    assert "Publier la vente" in page and "Heure de Paris." in page
    # The weekly drive's rhythm: opens on a Saturday at 8:00, distribution from 17:00 to 19:00.
    assert 'value="17:00"' in page and 'value="19:00"' in page
    opens = page.split('name="opens_at" value="')[1][:16]
    assert datetime.fromisoformat(opens).weekday() == 5 and opens.endswith("T08:00")


def test_creating_a_sale_freezes_the_catalogue_and_opens_the_offers_page(browse, alpha, market):
    client = browse(alpha, alpha.coordinator)
    response = client.post("/ventes/nouvelle/", _sale_form(market))
    sale = Sale.objects.get(title="Drive du vendredi")
    assert response.status_code == 302 and response["Location"] == f"/ventes/{sale.pk}/produits/"
    opens = _future(7)
    # Local wall-clock times of Paris, whatever the season.
    assert sale.opens_at == datetime.combine(opens, time(8, 0), tzinfo=PARIS)
    assert sale.closes_at == datetime.combine(opens + timedelta(days=3), time(23, 59), tzinfo=PARIS)
    assert sale.distribution_starts_at == datetime.combine(
        opens + timedelta(days=6), time(17, 0), tzinfo=PARIS
    )
    assert sale.distribution.date == opens + timedelta(days=6)
    assert sale.is_published and sale.status == Sale.Status.SCHEDULED
    assert list(sale.distribution.points.all()) == [market.point]
    assert sale.offers.count() == 4
    page = text(client.get(response["Location"]))
    assert "Vente « Drive du vendredi » créée" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"closes_at": f"{_future(6):%Y-%m-%d}T23:59"},
            "La clôture doit venir après l'ouverture.",
        ),
        (
            {"distribution_date": f"{_future(8):%Y-%m-%d}"},
            "La distribution doit avoir lieu après la clôture des commandes.",
        ),
        ({"distribution_end": "16:00"}, "La fin de la distribution doit venir après son début."),
        ({"producers": None}, "Choisissez au moins un producteur."),
        ({"points": None}, "Choisissez au moins un point de retrait."),
        ({"title": ""}, "Ce champ est obligatoire."),
        ({"opens_at": "demain matin"}, "Saisissez une date et une heure valides."),
    ],
    ids=[
        "closing-before-opening",
        "distribution-before-closing",
        "distribution-ends-first",
        "no-producer",
        "no-point",
        "no-title",
        "not-a-date",
    ],
)
def test_a_sale_with_bad_input_is_not_created(browse, alpha, market, changes, message):
    sales, distributions = Sale.objects.count(), Distribution.objects.count()
    response = browse(alpha, alpha.coordinator).post("/ventes/nouvelle/", _sale_form(market, **changes))
    assert response.status_code == 400
    assert message in text(response)
    assert Sale.objects.count() == sales and Distribution.objects.count() == distributions
    assert 'value="Drive du vendredi"' in text(response) or changes == {"title": ""}


def test_a_point_deactivated_meanwhile_is_refused(browse, alpha, market):
    data = _sale_form(market)
    point_services.point_update(point=market.point, is_active=False)
    response = browse(alpha, alpha.coordinator).post("/ventes/nouvelle/", data)
    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in text(response)
    assert Sale.objects.count() == 1


def test_a_time_that_does_not_exist_in_paris_is_refused(browse, alpha, market):
    # The last Sunday of March, 2:30 does not exist in Paris (clocks go from 2:00 to 3:00).
    year = timezone.localdate().year + 1
    last_sunday = max(date(year, 3, day) for day in range(25, 32) if date(year, 3, day).weekday() == 6)
    data = _sale_form(
        market,
        opens_at=f"{last_sunday:%Y-%m-%d}T02:30",
        closes_at=f"{last_sunday + timedelta(days=2):%Y-%m-%d}T23:59",
        distribution_date=f"{last_sunday + timedelta(days=5):%Y-%m-%d}",
    )
    response = browse(alpha, alpha.coordinator).post("/ventes/nouvelle/", data)
    assert response.status_code == 400
    assert "Europe/Paris" in text(response)
    assert Sale.objects.count() == 1


# The products of a sale -------------------------------------------------------------------------------------


def _offers_form(client, sale) -> dict:
    """The offers form as the browser would send it untouched."""
    page = client.get(f"/ventes/{sale.pk}/produits/")
    formset = page.context["formset"]
    data = {
        "offers-TOTAL_FORMS": str(len(formset.forms)),
        "offers-INITIAL_FORMS": str(len(formset.forms)),
    }
    for index, form in enumerate(formset.forms):
        row = form.initial
        data[f"offers-{index}-product"] = row["product"]
        if row["included"]:
            data[f"offers-{index}-included"] = "on"
        data[f"offers-{index}-quantity"] = "" if row["quantity"] is None else row["quantity"]
        data[f"offers-{index}-price"] = str(row["price"]).replace(".", ",")
    return data


def _row(data: dict, product_id: int) -> str:
    return next(
        key[: -len("-product")]
        for key, value in data.items()
        if key.endswith("-product") and value == product_id
    )


def test_the_offers_page_lists_each_product_with_its_quantity_and_price(browse, alpha, market):
    draft = _draft_sale(market)
    page = text(browse(alpha, alpha.coordinator).get(f"/ventes/{draft.pk}/produits/"))
    assert "Ferme du Pech" in page
    for name in ("Tomates", "Tomme", "Rôti de bœuf", "Vin de Buzet"):
        assert name in page
    assert 'value="2,50"' in page and 'value="24,00"' in page  # catalogue prices, editable
    assert 'value="10"' in page  # the catalogue stock
    assert 'placeholder="illimitée"' in page and "Publier la vente" in page
    assert "Brouillon : les membres ne voient pas cette vente." in page


def test_editing_the_offers_of_a_draft(browse, alpha, market, product_prices):
    draft = _draft_sale(market)
    client = browse(alpha, alpha.coordinator)
    data = _offers_form(client, draft)
    wine, tomatoes, cheese = (
        _row(data, market.wine.product_id),
        _row(data, market.tomatoes.product_id),
        _row(data, market.cheese.product_id),
    )
    del data[f"{wine}-included"]
    data[f"{tomatoes}-quantity"] = "25"
    data[f"{tomatoes}-price"] = "2,20"
    data[f"{cheese}-quantity"] = "6"
    response = client.post(f"/ventes/{draft.pk}/produits/", data)
    assert response.status_code == 302 and response["Location"] == f"/ventes/{draft.pk}/produits/"
    offers = {offer.name: offer for offer in draft.offers.all()}
    assert set(offers) == {"Tomates", "Tomme", "Rôti de bœuf"}
    assert offers["Tomates"].quantity == 25 and offers["Tomates"].price == Decimal("2.20")
    assert offers["Tomme"].quantity == 6
    assert product_prices()["Tomates"] == Decimal("2.50")  # the catalogue keeps its price
    page = text(client.get(response["Location"]))
    assert "Produits de la vente enregistrés." in page and "catalogue : 2,50 €" in page

    # Offered again, with an empty quantity: unlimited.
    data = _offers_form(client, draft)
    wine = _row(data, market.wine.product_id)
    data[f"{wine}-included"] = "on"
    data[f"{wine}-quantity"] = ""
    assert client.post(f"/ventes/{draft.pk}/produits/", data).status_code == 302
    assert Offer.objects.get(sale=draft, product=market.wine.product).quantity is None


def test_once_open_prices_are_frozen_and_errors_show_on_their_product(browse, alpha, market):
    _place(market.sale, alpha.member, {market.tomatoes: 4}, slot=market.slots[0])
    client = browse(alpha, alpha.coordinator)
    page = text(client.get(f"/ventes/{market.sale.pk}/produits/"))
    assert "les prix sont figés" in page and 'name="offers-0-price"' not in page
    assert "4 commandés" in page

    data = _offers_form(client, market.sale)
    tomatoes, wine = _row(data, market.tomatoes.product_id), _row(data, market.wine.product_id)
    data[f"{tomatoes}-quantity"] = "3"
    data[f"{wine}-price"] = "1,00"  # a hand-made price: ignored, the field is frozen
    response = client.post(f"/ventes/{market.sale.pk}/produits/", data)
    assert response.status_code == 400
    rows = {row["product"].name: row["form"] for row in response.context["rows"]}
    assert rows["Tomates"].non_field_errors() == [
        "Tomates : 4 déjà commandés, la quantité ne peut pas être inférieure."
    ]
    assert not rows["Vin de Buzet"].errors
    market.tomatoes.refresh_from_db()
    assert market.tomatoes.quantity == 10

    # Unticking an ordered product is refused too; the rest of the form is not saved (all or nothing).
    data = _offers_form(client, market.sale)
    del data[f"{_row(data, market.tomatoes.product_id)}-included"]
    data[f"{_row(data, market.cheese.product_id)}-quantity"] = "8"
    response = client.post(f"/ventes/{market.sale.pk}/produits/", data)
    assert response.status_code == 400
    assert "Tomates : déjà commandé, il ne peut pas être retiré de la vente." in text(response)
    assert Offer.objects.get(pk=market.cheese.pk).quantity is None

    data = _offers_form(client, market.sale)
    data[f"{wine}-price"] = "1,00"
    data[f"{tomatoes}-quantity"] = "12"
    assert client.post(f"/ventes/{market.sale.pk}/produits/", data).status_code == 302
    assert Offer.objects.get(pk=market.wine.pk).price == Decimal("9.90")
    assert Offer.objects.get(pk=market.tomatoes.pk).quantity == 12


def test_an_offer_error_stays_on_its_row_when_another_name_starts_the_same(browse, alpha, market):
    """Rows are matched by product id, not by name: « Tomates » must not take « Tomates cerises »' error."""
    farm = market.tomatoes.producer
    cherry = producer_services.product_create(
        producer=farm, name="Tomates cerises", price=Decimal("3.00"), unit=Unit.KG, stock=5
    )
    sale_services.sale_offers_update(
        sale_id=market.sale.pk,
        rows=[sale_services.OfferRow(product_id=cherry.pk, included=True, quantity=5, price=Decimal("3.00"))],
    )
    cherries = Offer.objects.get(sale=market.sale, product=cherry)
    _place(market.sale, alpha.member, {cherries: 2}, slot=market.slots[0])
    client = browse(alpha, alpha.coordinator)
    data = _offers_form(client, market.sale)
    data[f"{_row(data, cherry.pk)}-quantity"] = "1"
    response = client.post(f"/ventes/{market.sale.pk}/produits/", data)
    assert response.status_code == 400
    rows = {row["product"].name: row["form"] for row in response.context["rows"]}
    assert rows["Tomates cerises"].non_field_errors() == [
        "Tomates cerises : 2 déjà commandés, la quantité ne peut pas être inférieure."
    ]
    assert not rows["Tomates"].errors


def test_bad_numbers_are_shown_on_their_row(browse, alpha, market):
    draft = _draft_sale(market)
    client = browse(alpha, alpha.coordinator)
    data = _offers_form(client, draft)
    data[f"{_row(data, market.tomatoes.product_id)}-price"] = "0"
    data[f"{_row(data, market.cheese.product_id)}-quantity"] = "-2"
    response = client.post(f"/ventes/{draft.pk}/produits/", data)
    assert response.status_code == 400
    page = text(response)
    assert "Le prix doit être supérieur à 0 €." in page and "La quantité ne peut pas être négative." in page
    assert Offer.objects.get(sale=draft, product=market.tomatoes.product).price == Decimal("2.50")


def test_a_product_of_another_sale_or_collective_is_not_found(browse, alpha, market):
    draft = _draft_sale(market)
    client = browse(alpha, alpha.coordinator)
    data = _offers_form(client, draft)
    data["offers-0-product"] = 999999
    assert client.post(f"/ventes/{draft.pk}/produits/", data).status_code == 404
    assert draft.offers.count() == 4


def test_publishing_and_unpublishing(browse, alpha, market):
    draft = _draft_sale(market)
    client = browse(alpha, alpha.coordinator)
    response = client.post(f"/ventes/{draft.pk}/publier/", {"publish": "1"})
    assert response.status_code == 302 and response["Location"] == f"/ventes/{draft.pk}/produits/"
    draft.refresh_from_db()
    assert draft.is_published
    assert "Vente publiée" in text(client.get(response["Location"]))
    client.post(f"/ventes/{draft.pk}/publier/", {"publish": "0"})
    draft.refresh_from_db()
    assert not draft.is_published
    assert client.get(f"/ventes/{draft.pk}/publier/").status_code == 405

    _place(market.sale, alpha.member, {market.cheese: 1}, slot=market.slots[0])
    client.post(f"/ventes/{market.sale.pk}/publier/", {"publish": "0"})
    page = text(client.get(f"/ventes/{market.sale.pk}/produits/"))
    assert "Des membres ont déjà commandé : la vente ne peut plus être dépubliée." in page
    assert Sale.objects.get(pk=market.sale.pk).is_published


# Orders of a sale -------------------------------------------------------------------------------------------


@pytest.fixture
def two_points(market):
    """The market's sale served at a second point as well, with orders at both and one cancelled."""
    second = point_services.point_create(
        name="Centre social", address="2 rue Neuve", town="Agen", slot_minutes=60, slot_capacity=5
    )
    point_services.point_update(point=second, hours=[(day, time(17, 0), time(19, 0)) for day in range(7)])
    sale = sale_services.sale_create(
        title="Vente à deux points",
        opens_at=timezone.now() - timedelta(days=1),
        closes_at=timezone.now() + timedelta(days=2),
        distribution_starts_at=local_at(4, time(17, 0)),
        distribution_ends_at=local_at(4, time(19, 0)),
        points=[market.point, second],
        producers=[market.tomatoes.producer],
        publish=True,
    )
    offers = {offer.name: offer for offer in sale.offers.all()}
    slots = {
        point: list(PickupSlot.objects.filter(distribution=sale.distribution, point=point))
        for point in (market.point, second)
    }
    return sale, second, offers, slots


def test_the_orders_of_a_sale_with_totals_and_filters(browse, alpha, market, two_points):
    sale, second, offers, slots = two_points
    alice = _member(alpha, 1, last_name="Lagarde")
    bruno = _member(alpha, 2, last_name="Bernard")
    chloe = _member(alpha, 3, last_name="Chaumont")
    first = _place(
        sale, alice, {offers["Tomates"]: 2, offers["Rôti de bœuf"]: 1}, slot=slots[market.point][0]
    )
    _place(
        sale,
        bruno,
        {offers["Tomates"]: 3, offers["Vin de Buzet"]: 1},
        slot=slots[second][1],
        payment=PaymentMethod.FOOD_VOUCHER,
    )
    cancelled = _place(sale, chloe, {offers["Tomme"]: 5}, slot=slots[second][0])
    checkout_services.order_cancel(order_id=cancelled.pk, user=chloe)

    client = browse(alpha, alpha.coordinator)
    response = client.get(f"/ventes/{sale.pk}/commandes/")
    assert response.status_code == 200
    page = text(response)
    assert "2 commandes validées · total 34,40 €" in words(response)  # 5 + 12 (estimated), 7.50 + 9.90
    assert "3 commandes affichées" in page
    assert first.number in page and "Ana Lagarde" in page and "acheteur1@alpha.test" in page
    assert "Salle des fêtes" in page and "Centre social" in page
    assert "Chèques alimentaires / titres-restaurant, sur place" in page and "Espèces, sur place" in page
    assert "17:00–17:30" in page and "18:00–19:00" in page
    assert ">annulée</span>" in page and ">validée</span>" in page
    # Totals: cancelled orders do not count.
    per_product = {row.name: (row.quantity, row.amount) for row in response.context["per_product"]}
    assert per_product == {
        "Tomates": (5, Decimal("12.50")),
        "Rôti de bœuf": (1, Decimal("12.00")),
        "Vin de Buzet": (1, Decimal("9.90")),
    }
    assert [(row["offer__producer__name"], row["amount"]) for row in response.context["per_producer"]] == [
        ("Ferme du Pech", Decimal("34.40"))
    ]
    assert "12,50 €" in page and "34,40 €" in page and "Par producteur" in page

    def shown(query: str) -> set[str]:
        return {
            order.user.last_name
            for order in client.get(f"/ventes/{sale.pk}/commandes/?{query}").context["orders"]
        }

    assert shown("status=cancelled") == {"Chaumont"}
    assert shown("status=placed") == {"Lagarde", "Bernard"}
    # A cancelled order gave its slot place back: it is at no point any more.
    assert shown(f"point={second.pk}") == {"Bernard"}
    assert shown(f"point={second.pk}&status=placed") == {"Bernard"}
    assert shown("q=lagar") == {"Lagarde"}
    assert shown("q=acheteur2@") == {"Bernard"}
    assert shown("q=personne") == set()
    # Filters that make no sense are not applied, nothing breaks.
    assert shown("status=nimportequoi&point=abc") == {"Lagarde", "Bernard", "Chaumont"}
    assert "Aucune commande ne correspond à ces filtres." in text(
        client.get(f"/ventes/{sale.pk}/commandes/?q=personne")
    )


def test_a_sale_without_orders(browse, alpha, market):
    page = words(browse(alpha, alpha.coordinator).get(f"/ventes/{market.sale.pk}/commandes/"))
    # « 0 commande » in French, « 0 commandes » until the catalogue has the string.
    assert re.search(r"0 commandes? validées? · total 0,00 €", page)
    assert "Aucune commande pour l'instant." in page and "Rien de commandé pour l'instant." in page


def _csv_rows(response) -> list[list[str]]:
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


CSV_HEADER = [
    "N° de commande",
    "N° de panier",
    "Membre",
    "E-mail",
    "Téléphone",
    "Point de retrait",
    "Créneau",
    "Producteur",
    "Produit",
    "Quantité",
    "Unité",
    "Prix unitaire TTC",
    "Montant TTC",
    "Paiement",
    "Règlement",
    "Statut",
]


def test_the_csv_export_has_one_row_per_order_line(browse, alpha, market, two_points):
    sale, second, offers, slots = two_points
    # A name that a spreadsheet would take for a formula.
    alice = _member(alpha, 1, first_name="=1+1", last_name="Lagarde")
    bruno = _member(alpha, 2, last_name="Bernard")
    first = _place(
        sale, alice, {offers["Tomates"]: 2, offers["Rôti de bœuf"]: 1}, slot=slots[market.point][0]
    )
    second_order = _place(sale, bruno, {offers["Vin de Buzet"]: 1}, slot=slots[second][1])
    client = browse(alpha, alpha.coordinator)

    response = client.get(f"/ventes/{sale.pk}/commandes.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="vente-{sale.pk}-commandes.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = _csv_rows(response)
    assert rows[0] == CSV_HEADER
    assert len(rows) == 4  # header + 2 lines + 1 line
    by_product = {row[8]: row for row in rows[1:]}
    day = timezone.localtime(slots[market.point][0].starts_at).strftime("%d/%m/%Y")
    assert by_product["Tomates"] == [
        first.number,
        str(first.basket_number),
        "'=1+1 Lagarde",
        "acheteur1@alpha.test",
        "06 00 00 00 01",
        "Salle des fêtes",
        f"{day} 17:00 – 17:30",
        "Ferme du Pech",
        "Tomates",
        "2",
        "kg",
        "2,50",
        "5,00",
        "Espèces, sur place",
        "à régler",
        "validée",
    ]
    assert by_product["Rôti de bœuf"][10:13] == ["kg (au poids, montant estimé)", "24,00", "12,00"]
    assert (
        by_product["Vin de Buzet"][0] == second_order.number
        and by_product["Vin de Buzet"][5] == "Centre social"
    )

    # The same filters as the page, through either address.
    filtered = _csv_rows(client.get(f"/ventes/{sale.pk}/commandes/?format=csv&point={second.pk}"))
    assert [row[8] for row in filtered[1:]] == ["Vin de Buzet"]
    page = text(client.get(f"/ventes/{sale.pk}/commandes/?point={second.pk}"))
    assert f'href="/ventes/{sale.pk}/commandes.csv?point={second.pk}"' in page and "Exporter en CSV" in page


def _orders_for(alpha, market, count: int) -> None:
    """`count` orders in the market's sale, each by its own member, each with two lines."""
    point_services.point_update(point=market.point, slot_capacity=10)
    slots = market.slots
    for number in range(Order.objects.filter(sale=market.sale).count(), count):
        _place(
            market.sale,
            _member(alpha, 10 + number),
            {market.cheese: 1 + number % 3, market.beef: 1},
            slot=slots[number % len(slots)],
        )


@pytest.mark.parametrize("url", ["/ventes/{id}/commandes/", "/ventes/{id}/commandes.csv", "/ventes/"])
def test_query_counts_do_not_grow_with_the_orders(browse, alpha, market, url, django_assert_max_num_queries):
    client = browse(alpha, alpha.coordinator)
    url = url.format(id=market.sale.pk)
    _orders_for(alpha, market, 3)
    client.get(url)  # sessions, caches: warm
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _orders_for(alpha, market, 20)
    with django_assert_max_num_queries(len(few)):
        response = client.get(url)
    if url.endswith("/commandes/"):
        assert len(response.context["orders"]) == 20
    elif url.endswith(".csv"):
        assert len(_csv_rows(response)) == 1 + 2 * 20
    print(f"{url}: {len(few)} queries with 3 and with 20 orders")


# Duplicating a sale -----------------------------------------------------------------------------------------


def test_duplicating_a_sale_one_week_later(browse, alpha, market):
    client = browse(alpha, alpha.coordinator)
    response = client.get(f"/ventes/{market.sale.pk}/dupliquer/")
    assert response.status_code == 200
    form = response.context["form"]
    week_later = timezone.localtime(market.sale.opens_at) + timedelta(weeks=1)
    assert form.initial["opens_at"].replace(second=0, microsecond=0) == week_later.replace(
        second=0, microsecond=0
    )
    assert form.initial["distribution_date"] == timezone.localdate(
        market.sale.distribution_starts_at
    ) + timedelta(weeks=1)
    page = text(response)
    assert 'value="Vente de la semaine"' in page and "Dupliquer cette vente" in page

    data = {
        "title": "Vente de la semaine suivante",
        "opens_at": f"{week_later:%Y-%m-%dT%H:%M}",
        "closes_at": f"{week_later + timedelta(days=3):%Y-%m-%dT%H:%M}",
        "distribution_date": f"{form.initial['distribution_date']:%Y-%m-%d}",
        "distribution_start": "17:00",
        "distribution_end": "19:00",
    }
    response = client.post(f"/ventes/{market.sale.pk}/dupliquer/", data)
    copy = Sale.objects.get(title="Vente de la semaine suivante")
    assert response.status_code == 302 and response["Location"] == f"/ventes/{copy.pk}/produits/"
    assert not copy.is_published
    assert list(copy.distribution.points.all()) == [market.point]
    assert {offer.name: offer.quantity for offer in copy.offers.all()} == {
        offer.name: offer.quantity for offer in market.sale.offers.all()
    }
    assert "créée en brouillon" in text(client.get(response["Location"]))


def test_a_past_sale_is_duplicated_into_the_future(browse, alpha, market):
    Sale.objects.filter(pk=market.sale.pk).update(
        opens_at=market.sale.opens_at - timedelta(weeks=5),
        closes_at=market.sale.closes_at - timedelta(weeks=5),
        distribution_starts_at=market.sale.distribution_starts_at - timedelta(weeks=5),
        distribution_ends_at=market.sale.distribution_ends_at - timedelta(weeks=5),
    )
    initial = (
        browse(alpha, alpha.coordinator).get(f"/ventes/{market.sale.pk}/dupliquer/").context["form"].initial
    )
    assert initial["opens_at"] > timezone.now()
    assert initial["opens_at"] - timezone.now() <= timedelta(weeks=1)


def test_duplicating_with_bad_dates_creates_nothing(browse, alpha, market):
    response = browse(alpha, alpha.coordinator).post(
        f"/ventes/{market.sale.pk}/dupliquer/",
        {
            "title": "Copie",
            "opens_at": f"{_future(8):%Y-%m-%d}T08:00",
            "closes_at": f"{_future(7):%Y-%m-%d}T08:00",
            "distribution_date": f"{_future(12):%Y-%m-%d}",
            "distribution_start": "17:00",
            "distribution_end": "19:00",
        },
    )
    assert response.status_code == 400
    assert "La clôture doit venir après l'ouverture." in text(response)
    assert Sale.objects.count() == 1


# Recurring schedules ----------------------------------------------------------------------------------------


def _schedule_form(market, **changes) -> dict:
    data = {
        "title": "Drive hebdo",
        "kind": "weekly",
        "open_weekday": "5",
        "close_weekday": "1",
        "distribution_weekday": "4",
        "open_day": "1",
        "close_day": "15",
        "distribution_after_days": "7",
        "open_time": "08:00",
        "close_time": "23:59",
        "distribution_start": "17:00",
        "distribution_end": "19:00",
        "points": [market.point.pk],
        "producers": [market.tomatoes.producer_id],
        "sales_ahead": "2",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_the_schedule_form_proposes_the_weekly_drive(browse, alpha, market):
    response = browse(alpha, alpha.coordinator).get("/programmations/")
    assert response.status_code == 200
    page = text(response)
    assert "Aucune programmation pour l'instant." in page and "Nouvelle programmation" in page
    assert '<option value="5" selected>samedi</option>' in page
    assert '<option value="1" selected>mardi</option>' in page
    assert '<option value="4" selected>vendredi</option>' in page
    assert 'value="08:00"' in page and 'value="23:59"' in page and 'value="17:00"' in page
    assert 'name="open_day" value="1"' in page and 'name="close_day" value="15"' in page
    assert "checked" in _input_tag(page, "kind", "weekly")


def test_a_buying_group_is_offered_the_monthly_order_form(browse, beta):
    with tenant_context(beta.collective):
        response = browse(beta, beta.coordinator).get("/programmations/")
    assert response.context["form"]["kind"].value() == RecurringSchedule.Kind.MONTHLY
    assert "Fournisseurs" in text(response)


def test_creating_a_schedule_then_its_next_sales(browse, alpha, market):
    client = browse(alpha, alpha.coordinator)
    response = client.post("/programmations/", _schedule_form(market))
    assert response.status_code == 302 and response["Location"] == "/programmations/"
    schedule = RecurringSchedule.objects.get()
    assert schedule.kind == "weekly" and (schedule.open_weekday, schedule.close_weekday) == (5, 1)
    assert list(schedule.points.all()) == [market.point]
    page = text(client.get("/programmations/"))
    assert "Programmation « Drive hebdo » créée" in page
    assert (
        "Chaque semaine : ouverture le samedi à 08:00, clôture le mardi à 23:59, "
        "distribution le vendredi de 17:00 à 19:00." in page
    )
    assert re.search(r"0 ventes? à venir \(objectif : 2\)", page)

    response = client.post(f"/programmations/{schedule.pk}/ventes/")
    assert response.status_code == 302 and response["Location"] == "/programmations/"
    page = text(client.get("/programmations/"))
    assert "2 ventes créées pour « Drive hebdo »." in page and "2 ventes à venir" in page
    sales = list(schedule.sales.order_by("opens_at"))
    assert len(sales) == 2 and all(sale.is_published for sale in sales)
    assert all(timezone.localtime(sale.opens_at).weekday() == 5 for sale in sales)

    client.post(f"/programmations/{schedule.pk}/ventes/")
    assert "Aucune nouvelle vente" in text(client.get("/programmations/"))
    assert schedule.sales.count() == 2
    assert client.get(f"/programmations/{schedule.pk}/ventes/").status_code == 405


def test_creating_a_monthly_schedule(browse, alpha, market):
    client = browse(alpha, alpha.coordinator)
    data = _schedule_form(market, title="Bon de commande", kind="monthly", sales_ahead="1")
    assert client.post("/programmations/", data).status_code == 302
    schedule = RecurringSchedule.objects.get()
    client.post(f"/programmations/{schedule.pk}/ventes/")
    sale = schedule.sales.get()
    opens, closes = timezone.localtime(sale.opens_at), timezone.localtime(sale.closes_at)
    assert (opens.day, opens.hour) == (1, 8) and (closes.day, closes.hour, closes.minute) == (15, 23, 59)
    assert sale.distribution.date == closes.date() + timedelta(days=7)
    assert sale.title.startswith("Bon de commande – ")
    page = text(client.get("/programmations/"))
    assert (
        "Chaque mois : ouverture le 1er à 08:00, clôture le 15 à 23:59, distribution 7 jours plus tard"
        in page
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"distribution_end": "16:00"}, "La fin de la distribution doit venir après son début."),
        ({"producers": None}, "Choisissez au moins un producteur."),
        ({"points": None}, "Choisissez au moins un point de retrait."),
        ({"kind": "daily"}, "Sélectionnez un choix valide"),
        ({"open_weekday": "9"}, "Sélectionnez un choix valide"),
        ({"close_day": "32"}, "inférieure ou égale à 31"),
        ({"sales_ahead": "50"}, "inférieure ou égale à 6"),
        (
            {"kind": "monthly", "open_day": "10", "close_day": "10", "close_time": "07:00"},
            "Certaines ventes fermeraient avant d'ouvrir",
        ),
    ],
    ids=[
        "distribution-ends-first",
        "no-producer",
        "no-point",
        "unknown-kind",
        "weekday",
        "day",
        "ahead",
        "closes-before-opening",
    ],
)
def test_a_schedule_with_bad_input_is_not_created(browse, alpha, market, changes, message):
    response = browse(alpha, alpha.coordinator).post("/programmations/", _schedule_form(market, **changes))
    assert response.status_code == 400
    assert message in text(response)
    assert not RecurringSchedule.objects.exists()


def test_schedule_create_service_checks_its_input(market):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as problem:
        sale_services.schedule_create(title="Rien", kind="weekly", points=[], producers=[])
    assert set(problem.value.message_dict) == {"points", "producers"}
    schedule = sale_services.schedule_create(
        title="  Drive  ", kind="weekly", points=[market.point], producers=[market.tomatoes.producer]
    )
    assert (
        schedule.title == "Drive" and schedule.sales_ahead == 2 and schedule.distribution_start == time(17, 0)
    )
    assert schedule.sales.count() == 0


def test_a_schedule_whose_sales_cannot_be_made_says_why(browse, alpha, market):
    schedule = sale_services.schedule_create(
        title="Drive", kind="weekly", points=[market.point], producers=[market.tomatoes.producer]
    )
    point_services.point_update(point=market.point, is_active=False)
    client = browse(alpha, alpha.coordinator)
    client.post(f"/programmations/{schedule.pk}/ventes/")
    page = text(client.get("/programmations/"))
    assert (
        "Les ventes de « Drive » n'ont pas pu être créées : Choisissez au moins un point de retrait." in page
    )
    assert not schedule.sales.exists()


# Payment methods --------------------------------------------------------------------------------------------


def test_choosing_the_payment_methods(browse, alpha, market):
    client = browse(alpha, alpha.coordinator)
    response = client.get("/reglages/paiements/")
    page = text(response)
    assert response.status_code == 200 and "Moyens de paiement acceptés" in page
    assert "Carte bancaire en ligne" in page
    assert "disponible quand le compte Stripe du collectif sera relié" in page
    assert "disabled" in _input_tag(page, "payment_methods", "card")
    assert "checked" in _input_tag(page, "payment_methods", "cash")
    assert "checked" in _input_tag(page, "payment_methods", "food_voucher")
    assert "checked" not in _input_tag(page, "payment_methods", "cheque")

    response = client.post("/reglages/paiements/", {"payment_methods": ["cheque", "transfer"]})
    assert response.status_code == 302 and response["Location"] == "/reglages/paiements/"
    assert ShopSettings.current().payment_methods == ["cheque", "transfer"]
    assert "Réglages des paiements enregistrés." in text(client.get("/reglages/paiements/"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"payment_methods": ["card", "cash"]},
            "Le paiement par carte sera disponible une fois le compte Stripe relié.",
        ),
        ({"csrfmiddlewaretoken": "x"}, "Choisissez au moins un moyen de paiement."),
        ({"payment_methods": ["bitcoin"]}, "Sélectionnez un choix valide"),
    ],
    ids=["card", "none", "unknown"],
)
def test_payment_methods_refused(browse, alpha, market, data, message):
    response = browse(alpha, alpha.coordinator).post("/reglages/paiements/", data)
    assert response.status_code == 400
    assert message in text(response)
    assert ShopSettings.current().payment_methods == ["cash", "food_voucher"]


def test_the_payment_page_writes_nothing_when_read(browse, alpha):
    with tenant_context(alpha.collective):
        assert not ShopSettings.objects.exists()
        page = text(browse(alpha, alpha.coordinator).get("/reglages/paiements/"))
        assert "checked" in _input_tag(page, "payment_methods", "cash")
        assert not ShopSettings.objects.exists()


# Who may open these pages -----------------------------------------------------------------------------------


POST_ONLY = {"/ventes/{sale}/publier/", "/programmations/{schedule}/ventes/"}
COORDINATOR_URLS = [
    "/ventes/",
    "/ventes/nouvelle/",
    "/ventes/{sale}/produits/",
    "/ventes/{sale}/publier/",
    "/ventes/{sale}/commandes/",
    "/ventes/{sale}/commandes/?format=csv",
    "/ventes/{sale}/commandes.csv",
    "/ventes/{sale}/dupliquer/",
    "/programmations/",
    "/programmations/{schedule}/ventes/",
    "/reglages/paiements/",
]


def _state():
    return (
        sorted(Sale.objects.values_list("pk", "title", "is_published", "opens_at")),
        sorted(Offer.objects.values_list("pk", "quantity", "price")),
        sorted(RecurringSchedule.objects.values_list("pk", "title")),
        list(ShopSettings.objects.values_list("payment_methods", flat=True)),
    )


@pytest.fixture
def schedule(market) -> RecurringSchedule:
    return sale_services.schedule_create(
        title="Drive", kind="weekly", points=[market.point], producers=[market.tomatoes.producer]
    )


def _everything(market) -> dict:
    """A POST that would change something on each page, were it accepted."""
    offers = {
        "offers-TOTAL_FORMS": "1",
        "offers-INITIAL_FORMS": "1",
        "offers-0-product": market.tomatoes.product_id,
        "offers-0-quantity": "1",
        "offers-0-price": "0,50",
    }
    return {
        **_sale_form(market),
        **_schedule_form(market),
        **offers,
        "payment_methods": ["cheque"],
        "publish": "0",
    }


@pytest.mark.parametrize("role", ["member", "producer", "staff"])
def test_other_roles_of_alpha_are_refused_everywhere(browse, alpha, market, schedule, role):
    before = _state()
    client = browse(alpha, getattr(alpha, role))
    for template in COORDINATOR_URLS:
        url = template.format(sale=market.sale.pk, schedule=schedule.pk)
        assert client.get(url).status_code == (405 if template in POST_ONLY else 403), url
        assert client.post(url, _everything(market)).status_code == 403, url
    assert _state() == before
    assert 'href="/ventes/"' not in text(client.get("/"))


def test_people_who_are_not_signed_in_are_sent_to_the_login(browse, alpha, market, schedule):
    client = browse(alpha)
    for template in COORDINATOR_URLS:
        response = client.post(
            template.format(sale=market.sale.pk, schedule=schedule.pk), _everything(market)
        )
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), template


def test_beta_coordinator_does_not_find_alpha_sales_on_beta(browse, alpha, beta, market, schedule):
    _place(market.sale, alpha.member, {market.tomatoes: 1}, slot=market.slots[0])
    before = _state()
    client = browse(beta, beta.coordinator)
    for template in COORDINATOR_URLS:
        if "{" not in template:
            continue  # beta's own pages
        url = template.format(sale=market.sale.pk, schedule=schedule.pk)
        get, post = client.get(url), client.post(url, _everything(market))
        assert get.status_code == (405 if template in POST_ONLY else 404), url
        assert post.status_code == 404, url
        assert "Vente de la semaine" not in text(get) + text(post)
    connection.set_tenant(alpha.collective)
    assert _state() == before
