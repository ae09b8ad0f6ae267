from tests.conftest import text


def test_public_site_lists_collectives_and_offers_creation(browse, public_host, alpha, beta):
    page = browse(public_host).get("/")
    assert page.status_code == 200
    html = text(page)
    assert "Drive Alpha" in html and "Groupement Beta" in html
    assert "Drive fermier" in html and "Groupement d'achat" in html
    assert "Créer un collectif" in html
    # The template schema and the public schema are not collectives anyone can join.
    assert "Modèle de collectif" not in html


def test_each_collective_has_its_own_home_page(browse, alpha, beta):
    alpha_page = text(browse(alpha).get("/"))
    beta_page = text(browse(beta).get("/"))
    assert "<h1>Drive Alpha</h1>" in alpha_page and "Groupement Beta" not in alpha_page
    assert "<h1>Groupement Beta</h1>" in beta_page and "Drive Alpha" not in beta_page


def test_each_collective_has_its_own_schema(alpha, beta):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT schema_name FROM information_schema.schemata")
        schemas = {row[0] for row in cursor.fetchall()}
    assert {alpha.collective.schema_name, beta.collective.schema_name} <= schemas
    assert alpha.collective.schema_name != beta.collective.schema_name


def test_unknown_subdomain_gets_a_friendly_404(browse, db):
    page = browse("inconnu.localhost").get("/")
    assert page.status_code == 404
    html = text(page)
    assert "Ce collectif n'existe pas" in html
    assert "inconnu.localhost" in html
    assert "Voir les collectifs" in html


def test_search_by_town_and_department(browse, public_host, alpha, beta):
    by_town = browse(public_host).get("/", {"q": "agen"}).content.decode()
    assert "Drive Alpha" in by_town and "Groupement Beta" not in by_town
    by_department = browse(public_host).get("/", {"q": "59"}).content.decode()
    assert "Groupement Beta" in by_department and "Drive Alpha" not in by_department
    nothing = browse(public_host).get("/", {"q": "Brest"}).content.decode()
    assert "Aucun collectif ne correspond" in nothing


def test_search_ignores_accents_and_knows_department_names(browse, public_host, alpha, beta):
    by_name = text(browse(public_host).get("/", {"q": "lot-et-garonne"}))
    assert "Drive Alpha" in by_name and "Groupement Beta" not in by_name
    accents = text(browse(public_host).get("/", {"q": "GROUPEMENT béta"}))
    assert "Groupement Beta" in accents and "Drive Alpha" not in accents
    # A department number is a whole word: "4" is not the Lot-et-Garonne.
    assert "Aucun collectif ne correspond" in text(browse(public_host).get("/", {"q": "4"}))


def test_health_page_answers_on_the_public_site_and_on_a_collective(
    browse, public_host, alpha, django_assert_max_num_queries
):
    for host in [public_host, alpha.host]:
        with django_assert_max_num_queries(2):  # search_path and the host lookup, nothing else
            response = browse(host).get("/sante/")
        assert response.status_code == 200 and response.content == b"ok"
