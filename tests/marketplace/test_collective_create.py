import threading
from urllib.parse import urlsplit

import pytest
from django.db import connection

from marketplace.models import Collective, Domain, Membership, Role
from tests.conftest import text

FORM = {
    "name": "Les Paniers d'Albret",
    "kind": Collective.Kind.DRIVE,
    "slug": "paniers-albret",
    "town": "Nérac",
    "department": "47",
    "description": "Des paniers de la ferme, chaque vendredi.",
    "contact_email": "contact@paniers.test",
    "contact_phone": "05 53 11 22 33",
    "join_mode": Collective.JoinMode.APPROVAL,
}


def _schemas() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT schema_name FROM information_schema.schemata")
        return {row[0] for row in cursor.fetchall()}


def _counts() -> tuple[int, int, int, frozenset[str]]:
    return (
        Collective.objects.count(),
        Domain.objects.count(),
        Membership.objects.count(),
        frozenset(_schemas()),
    )


def test_signed_in_user_creates_a_collective_live_at_its_subdomain(browse, public_host, outsider):
    client = browse(public_host, outsider)
    form = client.get("/collectifs/nouveau/")
    assert form.status_code == 200
    assert "paniers" not in text(form)
    assert "Drive fermier" in text(form) and "Groupement d'achat" in text(form)

    response = client.post("/collectifs/nouveau/", FORM)
    assert response.status_code == 302
    assert response["Location"].startswith("http://paniers-albret.localhost/bienvenue/")

    collective = Collective.objects.get(slug="paniers-albret")
    assert collective.schema_name == "c_paniers_albret"
    assert collective.schema_name in _schemas()
    assert Domain.objects.get(tenant=collective).domain == "paniers-albret.localhost"
    assert (collective.name, collective.town, collective.department) == (
        "Les Paniers d'Albret",
        "Nérac",
        "47",
    )
    assert collective.join_mode == Collective.JoinMode.APPROVAL
    membership = Membership.objects.get(collective=collective, user=outsider)
    assert membership.is_active and Role.COORDINATOR in membership.roles

    home = browse("paniers-albret.localhost", outsider).get("/")
    assert home.status_code == 200
    page = text(home)
    assert "<h1>Les Paniers d'Albret</h1>" in page
    assert "Des paniers de la ferme, chaque vendredi." in page
    assert "Coordinateur·rice" in page
    assert 'href="/membres/"' in page
    assert browse("paniers-albret.localhost", outsider).get("/membres/").status_code == 200

    # Listed in the directory and among the creator's collectives.
    assert "Les Paniers d'Albret" in text(browse(public_host).get("/"))
    assert "Les Paniers d'Albret" in text(client.get("/mes-collectifs/"))


def test_the_creation_message_is_shown_on_the_new_collective(browse, public_host, outsider):
    response = browse(public_host, outsider).post("/collectifs/nouveau/", FORM)
    # A browser with no session on the new sub-domain (development: each host has its own cookies).
    page = text(browse("paniers-albret.localhost").get(urlsplit(response["Location"]).path, follow=True))
    assert "Votre collectif « Les Paniers d'Albret » est en ligne. Voici vos premiers pas." in page


def test_a_buying_group_can_be_created(browse, public_host, outsider):
    response = browse(public_host, outsider).post(
        "/collectifs/nouveau/",
        {**FORM, "slug": "achats-solidaires", "kind": Collective.Kind.BUYING_GROUP, "department": "2a"},
    )
    assert response.status_code == 302
    collective = Collective.objects.get(slug="achats-solidaires")
    assert collective.is_buying_group and collective.department == "2A"
    assert "Groupement d'achat" in text(browse("achats-solidaires.localhost").get("/"))


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("alpha", "Cette adresse est déjà prise par un autre collectif."),
        ("Alpha", "Cette adresse est déjà prise par un autre collectif."),
        ("www", "Cette adresse est réservée, choisissez-en une autre."),
        ("admin", "Cette adresse est réservée, choisissez-en une autre."),
        ("Mon Collectif!", "L'adresse doit faire de 3 à 30 caractères"),
        ("a", "L'adresse doit faire de 3 à 30 caractères"),
        ("écolo", "L'adresse doit faire de 3 à 30 caractères"),
        ("Épicerie", "L'adresse doit faire de 3 à 30 caractères"),
        ("mon_collectif", "L'adresse doit faire de 3 à 30 caractères"),
        ("-tiret", "L'adresse doit faire de 3 à 30 caractères"),
        ("tiret-", "L'adresse doit faire de 3 à 30 caractères"),
        ("47cagette", "L'adresse doit faire de 3 à 30 caractères"),
        ("a" * 31, "Assurez-vous que cette valeur comporte au plus 30 caractères (actuellement 31)."),
    ],
)
def test_bad_addresses_are_refused_and_nothing_is_created(
    browse, public_host, outsider, alpha, slug, message
):
    before = _counts()
    response = browse(public_host, outsider).post("/collectifs/nouveau/", {**FORM, "slug": slug})
    assert response.status_code == 400
    assert message in text(response)
    assert "Créer le collectif" in text(response)
    assert _counts() == before
    assert not Collective.objects.filter(name=FORM["name"]).exists()


@pytest.mark.parametrize("missing", ["name", "kind", "slug", "town", "contact_email", "join_mode"])
def test_missing_required_field_is_refused_and_nothing_is_created(browse, public_host, outsider, missing):
    before = _counts()
    response = browse(public_host, outsider).post(
        "/collectifs/nouveau/", {key: value for key, value in FORM.items() if key != missing}
    )
    assert response.status_code == 400
    assert "Ce champ est obligatoire." in text(response)
    assert _counts() == before
    assert "c_paniers_albret" not in _schemas()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("contact_email", "pas-une-adresse", "Saisissez une adresse de courriel valide."),
        ("department", "Lot", "Numéro de département, par ex. 47 ou 2A."),
        ("department", "99", "Numéro de département, par ex. 47 ou 2A."),  # no such department
        ("kind", "supermarche", "Sélectionnez un choix valide."),
    ],
)
def test_invalid_field_is_refused_and_nothing_is_created(
    browse, public_host, outsider, field, value, message
):
    before = _counts()
    response = browse(public_host, outsider).post("/collectifs/nouveau/", {**FORM, field: value})
    assert response.status_code == 400
    assert message in text(response)
    assert _counts() == before


def test_capital_letters_in_the_address_are_lowered(browse, public_host, outsider):
    # Host names ignore case, so "Paniers-Albret" is taken to mean paniers-albret rather than refused.
    response = browse(public_host, outsider).post(
        "/collectifs/nouveau/", {**FORM, "slug": " Paniers-Albret "}
    )
    assert response["Location"].startswith("http://paniers-albret.localhost/bienvenue/")
    assert Collective.objects.filter(slug="paniers-albret").exists()


def test_the_new_subdomain_does_not_exist_before_creation(browse):
    assert browse("paniers-albret.localhost").get("/").status_code == 404


def test_anonymous_visitor_is_told_an_account_is_needed_and_offered_both_ways(browse, public_host):
    before = _counts()
    client = browse(public_host)
    for response in [client.get("/collectifs/nouveau/"), client.post("/collectifs/nouveau/", FORM)]:
        assert response.status_code == 200
        page = text(response)
        assert "Pour créer un collectif, il vous faut un compte" in page
        assert 'href="/accounts/login/?next=/collectifs/nouveau/"' in page
        assert 'href="/accounts/signup/?next=/collectifs/nouveau/"' in page
        assert 'name="slug"' not in page
    assert _counts() == before


def test_sign_up_is_called_creer_un_compte_everywhere(browse, public_host):
    client = browse(public_host)
    signup = text(client.get("/accounts/signup/?next=/collectifs/nouveau/"))
    assert "<title>Créer un compte" in signup and "<h1>Créer un compte</h1>" in signup
    assert ">Créer un compte</button>" in " ".join(signup.split()).replace("> ", ">").replace(" <", "<")
    assert "Inscription" not in signup and "Création de compte" not in signup
    assert "Se connecter" in signup
    login = text(client.get("/accounts/login/"))
    assert "Créer un compte" in login and "inscrire" not in login


def test_collectives_are_not_created_on_a_collective_subdomain(browse, alpha):
    assert browse(alpha, alpha.coordinator).get("/collectifs/nouveau/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_create_makes_one_collective_and_no_error_page(browse, public_host, outsider):
    clients = [browse(public_host, outsider) for _ in range(4)]
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def create(client) -> None:
        try:
            barrier.wait()
            statuses.append(client.post("/collectifs/nouveau/", FORM).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [302, 400, 400, 400]
    assert Collective.objects.filter(slug="paniers-albret").count() == 1
