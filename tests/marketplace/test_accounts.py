from uuid import uuid4

from marketplace.models import Membership, Role, User
from tests.conftest import PASSWORD, text


def _fresh_account() -> User:
    """An account no earlier run has tried to log in to: allauth limits failed log-ins per address in Redis,
    which outlives the test transaction."""
    return User.objects.create_user(
        email=f"visiteur-{uuid4().hex[:12]}@exemple.test",
        password=PASSWORD,
        first_name="Vic",
        last_name="Visiteur",
    )


def _signed_in(client) -> bool:
    """A visitor is signed in when "Mes collectifs" opens instead of sending them to the log-in page."""
    page = client.get("/mes-collectifs/")
    return page.status_code == 200 and "Se déconnecter" in text(page)


def _cards(page) -> dict[str, str]:
    """The cards of "Mes collectifs", by collective name."""
    cards = text(page).split('<li class="card">')[1:]
    return {card.split("</a>")[0].rsplit(">", 1)[-1]: card for card in cards}


def test_sign_up_creates_the_account_and_signs_in(browse, public_host):
    client = browse(public_host)
    assert client.get("/accounts/signup/").status_code == 200
    response = client.post(
        "/accounts/signup/",
        {
            "email": "Lea.Martin@Exemple.test",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "first_name": "Léa",
            "last_name": "Martin",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="lea.martin@exemple.test")
    assert (user.first_name, user.last_name) == ("Léa", "Martin")
    assert user.check_password(PASSWORD)
    assert _signed_in(client)
    assert "Vous ne faites encore partie d'aucun collectif." in text(client.get("/mes-collectifs/"))


def test_sign_up_with_mismatched_passwords_creates_nothing(browse, public_host):
    client = browse(public_host)
    response = client.post(
        "/accounts/signup/",
        {
            "email": "distrait@exemple.test",
            "password1": PASSWORD,
            "password2": PASSWORD + "x",
            "first_name": "Dis",
            "last_name": "Trait",
        },
    )
    assert response.status_code == 200
    assert "Vous devez saisir deux fois le même mot de passe." in text(response)
    assert not User.objects.filter(email="distrait@exemple.test").exists()
    assert not _signed_in(client)


def test_sign_up_with_an_email_already_used_is_refused(browse, public_host, outsider):
    response = browse(public_host).post(
        "/accounts/signup/",
        {
            "email": outsider.email,
            "password1": PASSWORD,
            "password2": PASSWORD,
            "first_name": "Autre",
            "last_name": "Personne",
        },
    )
    assert response.status_code == 200
    assert "Un autre utilisateur utilise déjà cette adresse e-mail." in text(response)
    assert User.objects.filter(email=outsider.email).count() == 1


def test_log_in_with_email_and_password(browse, public_host):
    account = _fresh_account()
    client = browse(public_host)
    assert not _signed_in(client)
    response = client.post("/accounts/login/", {"login": account.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert _signed_in(client)


def test_wrong_password_shows_a_french_error_and_does_not_log_in(browse, public_host):
    account = _fresh_account()
    client = browse(public_host)
    response = client.post("/accounts/login/", {"login": account.email, "password": "pas-le-bon"})
    assert response.status_code == 200
    assert "L’adresse e-mail ou le mot de passe sont incorrects." in text(response)
    assert not _signed_in(client)


def test_coordinator_pages_send_anonymous_visitors_to_log_in(browse, alpha):
    response = browse(alpha).get("/membres/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/membres/"


def test_one_account_holds_different_roles_in_two_collectives(browse, public_host, alpha, beta, outsider):
    # A member of alpha (open: joins by itself) who supplies beta (buying group: by invitation).
    assert browse(alpha, outsider).post("/rejoindre/").status_code == 302
    Membership.objects.create(user=outsider, collective=beta.collective, roles=[Role.PRODUCER])

    page = browse(public_host, outsider).get("/mes-collectifs/")
    assert page.status_code == 200
    cards = _cards(page)
    assert set(cards) == {"Drive Alpha", "Groupement Beta"}
    assert "Membre" in cards["Drive Alpha"] and "Producteur" not in cards["Drive Alpha"]
    assert (
        "Producteur·rice / fournisseur" in cards["Groupement Beta"]
        and "Membre" not in cards["Groupement Beta"]
    )
    assert 'href="http://alpha.localhost/"' in cards["Drive Alpha"]

    # Each collective's home page greets the account with its role there.
    assert "en tant que : Membre." in text(browse(alpha, outsider).get("/"))
    assert "en tant que : Producteur·rice / fournisseur." in text(browse(beta, outsider).get("/"))
