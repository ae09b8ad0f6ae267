"""Who may see and change which catalogue: a producer their own farms, a coordinator all, others nothing."""

from decimal import Decimal

import pytest

from marketplace.models import Membership, Role
from producers.models import Category, Producer, Product
from tests.producers import factories
from tests.producers.conftest import back_to
from tests.producers.conftest import read as text

PRODUCT_FORM = {
    "name": "Tomates cerises",
    "category": "",
    "unit": "box",
    "price": "3,20",
    "vat_rate": "5.5",
    "stock": "12",
    "is_active": "on",
    "description": "En barquette de 250 g.",
}


def _back_office_urls(farm, product) -> list[str]:
    return [
        "/producteurs/",
        f"/producteurs/{farm.pk}/",
        f"/producteurs/{farm.pk}/profil/",
        f"/producteurs/{farm.pk}/produits/nouveau/",
        f"/producteurs/{farm.pk}/prix-et-stocks/",
        f"/producteurs/{farm.pk}/exporter/?format=csv",
        f"/producteurs/{farm.pk}/importer/",
        f"/produits/{product.pk}/",
    ]


def _coordinator_urls(farm) -> list[str]:
    return ["/producteurs/nouveau/", f"/producteurs/{farm.pk}/comptes/", "/categories/"]


def test_producer_sees_and_edits_only_their_own_catalogue(browse, in_alpha, farm, tomatoes, cheese):
    client = browse(in_alpha, in_alpha.producer)

    # Their only farm: the back office opens on its catalogue.
    response = client.get("/producteurs/")
    assert response.status_code == 302 and response["Location"] == f"/producteurs/{farm.pk}/"
    page = text(client.get(f"/producteurs/{farm.pk}/"))
    assert "Tomates anciennes" in page and "4,50 €" in page and "Stock : 30" in page
    assert "Tomme de chèvre" not in page

    response = client.post(
        f"/produits/{tomatoes.pk}/", {**PRODUCT_FORM, "name": "Tomates anciennes", "price": "4,80"}
    )
    assert response.status_code == 302
    back_to(in_alpha.collective)
    tomatoes.refresh_from_db()
    assert tomatoes.price == Decimal("4.80") and tomatoes.unit == "box"


def test_producer_gets_404_for_the_neighbours_ids(browse, in_alpha, farm, neighbour, cheese):
    client = browse(in_alpha, in_alpha.producer)
    for url in _back_office_urls(neighbour, cheese)[1:]:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {**PRODUCT_FORM, "price": "0,01", "name": "Piraté"}).status_code == 404, url
    back_to(in_alpha.collective)
    cheese.refresh_from_db()
    neighbour.refresh_from_db()
    assert cheese.name == "Tomme de chèvre" and cheese.price == Decimal("16.00")
    assert neighbour.name == "Chèvrerie du Pech"
    assert Product.objects.filter(producer=neighbour).count() == 1


def test_coordinator_sees_and_edits_every_producer(browse, in_alpha, farm, neighbour, tomatoes, cheese):
    client = browse(in_alpha, in_alpha.coordinator)
    page = text(client.get("/producteurs/"))
    assert "Ferme des Coteaux" in page and "Chèvrerie du Pech" in page
    assert "Pierre Producer-alpha" in page  # the farm's account
    for product in (tomatoes, cheese):
        assert client.get(f"/produits/{product.pk}/").status_code == 200
    response = client.post(
        f"/produits/{cheese.pk}/",
        {
            **PRODUCT_FORM,
            "name": "Tomme de chèvre",
            "unit": "kg",
            "price": "17",
            "is_variable_weight": "on",
            "estimated_weight_kg": "0,300",
        },
    )
    assert response.status_code == 302
    back_to(in_alpha.collective)
    cheese.refresh_from_db()
    assert cheese.price == Decimal("17.00")


@pytest.mark.parametrize("role", ["member", "staff"])
def test_other_roles_are_refused(browse, in_alpha, farm, tomatoes, role):
    client = browse(in_alpha, getattr(in_alpha, role))
    for url in _back_office_urls(farm, tomatoes) + _coordinator_urls(farm):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {**PRODUCT_FORM, "name": "Piraté"}).status_code == 403, url
    assert "Mon catalogue" not in text(client.get("/"))
    back_to(in_alpha.collective)
    tomatoes.refresh_from_db()
    assert tomatoes.name == "Tomates anciennes"
    assert not Category.objects.filter(name="Piraté").exists() and Producer.objects.count() == 1


def test_visitors_are_sent_to_sign_in(browse, in_alpha, farm, tomatoes):
    client = browse(in_alpha)
    for url in _back_office_urls(farm, tomatoes):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url


def test_producer_pages_of_coordinators_are_refused_to_producers(browse, in_alpha, farm):
    client = browse(in_alpha, in_alpha.producer)
    for url in _coordinator_urls(farm):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"name": "Nouvelle ferme", "email": "x@x.test"}).status_code == 403, url
    back_to(in_alpha.collective)
    assert Producer.objects.count() == 1


def test_a_producer_without_a_farm_is_told_what_to_do(browse, in_alpha, neighbour):
    page = text(browse(in_alpha, in_alpha.producer).get("/producteurs/"))
    assert "Votre compte n'est relié à aucun producteur pour l'instant." in page
    assert "Chèvrerie du Pech" not in page


def test_a_linked_account_without_the_producer_role_is_refused(browse, in_alpha, farm, tomatoes):
    Membership.objects.filter(user=in_alpha.producer).update(roles=[Role.MEMBER])
    client = browse(in_alpha, in_alpha.producer)
    assert client.get(f"/producteurs/{farm.pk}/").status_code == 403
    assert client.get(f"/produits/{tomatoes.pk}/").status_code == 403


def test_producer_adds_a_product_to_their_farm(browse, in_alpha, farm, vegetables):
    client = browse(in_alpha, in_alpha.producer)
    form = text(client.get(f"/producteurs/{farm.pk}/produits/nouveau/"))
    assert "Prix TTC (€)" in form and "Légumes" in form and "barquette" in form
    response = client.post(
        f"/producteurs/{farm.pk}/produits/nouveau/",
        {**PRODUCT_FORM, "category": vegetables.pk, "producer": 999},
    )
    assert response.status_code == 302
    back_to(in_alpha.collective)
    product = Product.objects.get(name="Tomates cerises")
    assert product.producer == farm and product.category == vegetables
    assert product.price == Decimal("3.20") and product.stock == 12 and product.vat_rate == Decimal("5.5")
    assert "« Tomates cerises » est ajouté au catalogue." in text(client.get(f"/producteurs/{farm.pk}/"))


def test_product_form_says_what_is_wrong_in_french(browse, in_alpha, farm):
    client = browse(in_alpha, in_alpha.producer)
    url = f"/producteurs/{farm.pk}/produits/nouveau/"

    response = client.post(url, {**PRODUCT_FORM, "price": "0", "stock": "-2"})
    assert response.status_code == 400
    page = text(response)
    assert "Le prix doit être supérieur à 0 €." in page
    assert "Le stock ne peut pas être négatif." in page

    response = client.post(url, {**PRODUCT_FORM, "unit": "piece", "is_variable_weight": "on"})
    page = text(response)
    assert "Un produit vendu au poids a un prix au kg : choisissez l'unité « kg »." in page
    assert "Indiquez le poids estimé d'une pièce, pour afficher un prix estimé." in page

    response = client.post(url, {**PRODUCT_FORM, "name": "", "vat_rate": "7"})
    page = text(response)
    assert "Ce champ est obligatoire." in page
    assert "Sélectionnez un choix valide. 7 n’en fait pas partie." in page

    factories.product(farm, "Tomates cerises")
    response = client.post(url, {**PRODUCT_FORM, "name": "TOMATES CERISES"})
    assert "Ce producteur a déjà un produit de ce nom." in text(response)
    back_to(in_alpha.collective)
    assert Product.objects.filter(producer=farm).count() == 1


def test_producer_edits_the_profile_but_not_the_active_flag(browse, in_alpha, farm):
    client = browse(in_alpha, in_alpha.producer)
    assert "Actif" not in text(client.get(f"/producteurs/{farm.pk}/profil/"))
    response = client.post(
        f"/producteurs/{farm.pk}/profil/",
        {
            "name": "Ferme des Coteaux",
            "town": "Nérac",
            "description": "Légumes bio.",
            "labels": "AB",
            "is_active": "",
        },
    )
    assert response.status_code == 302
    back_to(in_alpha.collective)
    farm.refresh_from_db()
    assert farm.description == "Légumes bio." and farm.is_active

    # The coordinator may take the farm out of the shop.
    response = browse(in_alpha, in_alpha.coordinator).post(
        f"/producteurs/{farm.pk}/profil/", {"name": "Ferme des Coteaux", "town": "Nérac"}
    )
    assert response.status_code == 302
    back_to(in_alpha.collective)
    farm.refresh_from_db()
    assert not farm.is_active


def test_coordinator_creates_a_producer(browse, in_alpha):
    client = browse(in_alpha, in_alpha.coordinator)
    response = client.post(
        "/producteurs/nouveau/",
        {
            "name": "Rucher de l'Albret",
            "town": "Mézin",
            "labels": "AB",
            "minimum_order_amount": "15,50",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    back_to(in_alpha.collective)
    producer = Producer.objects.get(name="Rucher de l'Albret")
    assert response["Location"] == f"/producteurs/{producer.pk}/comptes/"
    assert producer.minimum_order_amount == Decimal("15.50") and producer.label_list == ["AB"]

    response = client.post("/producteurs/nouveau/", {"name": "rucher de l'albret"})
    assert response.status_code == 400
    assert "Un producteur de ce collectif porte déjà ce nom." in text(response)


def test_a_buying_group_creates_suppliers(browse, beta):
    page = text(browse(beta, beta.coordinator).get("/producteurs/nouveau/"))
    assert "Nouveau fournisseur" in page and "← Fournisseurs" in page
    assert "Producteurs" not in page


def test_coordinator_manages_categories(browse, in_alpha, farm, tomatoes, vegetables):
    client = browse(in_alpha, in_alpha.coordinator)
    assert client.post("/categories/", {"name": "Fruits", "position": "2"}).status_code == 302
    assert "Une catégorie porte déjà ce nom." in text(
        client.post("/categories/", {"name": "fruits", "position": 3})
    )
    page = text(client.get("/categories/"))
    assert "Légumes" in page and "1 produit" in page and "Fruits" in page

    assert (
        client.post(f"/categories/{vegetables.pk}/", {"name": "Légumes de saison", "position": 1}).status_code
        == 302
    )
    assert client.post(f"/categories/{vegetables.pk}/supprimer/").status_code == 302
    back_to(in_alpha.collective)
    tomatoes.refresh_from_db()
    assert tomatoes.category is None
    assert list(Category.objects.values_list("name", flat=True)) == ["Fruits"]
