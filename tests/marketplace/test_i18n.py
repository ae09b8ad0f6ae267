"""French by default, English on request, through a language switch that needs no JavaScript."""

from tests.conftest import text


def test_pages_are_in_french_by_default(browse, alpha):
    page = text(browse(alpha).get("/"))
    assert '<html lang="fr">' in page
    assert "Rejoindre le collectif" in page and "Se connecter" in page


def test_the_language_switch_turns_the_site_into_english(browse, alpha, public_host):
    client = browse(alpha)
    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert switched.status_code == 302 and switched["Location"] == "/"
    page = text(client.get("/"))
    assert '<html lang="en">' in page
    assert "Join the collective" in page and "Log in" in page
    assert "Rejoindre le collectif" not in page

    public = browse(public_host)
    public.post("/i18n/setlang/", {"language": "en", "next": "/"})
    directory = text(public.get("/"))
    assert "Create a collective" in directory and "Créer un collectif" not in directory


def test_a_browser_asking_for_english_gets_english(browse, alpha):
    page = text(browse(alpha).get("/", headers={"accept-language": "en-GB,en;q=0.9"}))
    assert "Join the collective" in page
