"""The signed-in account is read by marketplace.auth_backends (one plain statement) on every request: signed
in through the sign-in form or directly (as a join's first sign-in), the member finds their pages; an
account deactivated meanwhile is signed out at its next request."""

from marketplace.models import User
from tests.conftest import PASSWORD, HostClient, words


def _signed_in_by_the_form(alpha) -> HostClient:
    client = HostClient(alpha.host)
    answer = client.post("/accounts/login/", {"login": alpha.member.email, "password": PASSWORD})
    assert answer.status_code == 302
    return client


def test_a_member_signed_in_either_way_finds_their_orders(alpha, browse):
    by_form, direct = _signed_in_by_the_form(alpha), browse(alpha, alpha.member)
    for client in [by_form, direct]:  # the account is read by marketplace.auth_backends on each request
        assert client.session["_auth_user_backend"].startswith("marketplace.auth_backends.")
    for client in [by_form, direct]:
        page = client.get("/commandes/")
        assert page.status_code == 200 and "Mes commandes" in words(page)


def test_an_account_deactivated_meanwhile_is_signed_out_at_its_next_request(alpha, browse):
    for client in [_signed_in_by_the_form(alpha), browse(alpha, alpha.member)]:
        assert client.get("/commandes/").status_code == 200
        User.objects.filter(pk=alpha.member.pk).update(is_active=False)
        answer = client.get("/commandes/")
        assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")
        User.objects.filter(pk=alpha.member.pk).update(is_active=True)
