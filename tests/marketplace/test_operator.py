"""The platform operator's admin: every collective with its size, activity, Stripe status and health, and
« Suspendre » / « Réactiver »: a suspended collective's site says so (503) and its clock jobs skip it."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.admin import helpers

from marketplace.models import Collective, FollowUp, User
from orders.models import Order, PaymentMethod
from tests.conftest import text, words

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/marketplace/collective/"


@pytest.fixture
def operator(db) -> User:
    return User.objects.create_superuser(email="ops@etal.test", password="x")


def _order(browse, alpha, market) -> Order:
    client = browse(alpha, alpha.member)
    client.post(f"/ventes/{market.sale.pk}/", {f"qty_{market.tomatoes.pk}": 2})
    client.post(
        f"/ventes/{market.sale.pk}/commander/",
        {"slot": market.slots[0].pk, "payment_method": PaymentMethod.CASH},
    )
    return Order.objects.get(user=alpha.member, sale=market.sale)


def _row(response, name: str) -> str:
    """The changelist row of one collective, as the operator reads it."""
    page = text(response)
    start = page.index(name)
    row = page[start : page.index("</tr>", start)]
    return " " + " ".join(re.sub(r"<[^>]+>", " ", row).split()) + " "


def _admin_action(browse, public_host, operator, action: str, collectives):
    return browse(public_host, operator).post(
        CHANGELIST,
        {"action": action, helpers.ACTION_CHECKBOX_NAME: [c.pk for c in collectives], "index": 0},
        follow=True,
    )


def test_the_operator_lists_collectives_with_size_activity_stripe_and_health(
    browse, public_host, operator, alpha, beta, market, django_assert_max_num_queries
):
    order = _order(browse, alpha, market)
    Collective.objects.filter(pk=beta.collective.pk).update(
        stripe_account_id="acct_beta", stripe_charges_enabled=True
    )
    FollowUp.objects.create(schema_name=beta.collective.schema_name, task="x", failed_at=order.created_at)
    client = browse(public_host, operator)
    client.get(CHANGELIST)  # warm the session and the admin's caches
    with django_assert_max_num_queries(12):  # the same whatever the number of collectives
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    page = words(response)
    alpha_row = _row(response, "Drive Alpha")
    assert "alpha" in alpha_row
    assert " 4 1 " in alpha_row  # 4 active members, 1 order
    assert "non connecté" in alpha_row
    assert " OK " in alpha_row
    assert "ouvert" in alpha_row
    beta_row = _row(response, "Groupement Beta")
    assert " 4 0 " in beta_row
    assert "paiements activés" in beta_row
    assert "1 tâche en échec" in beta_row
    # Neither the public schema nor the template is listed as a collective.
    assert "tenant_template" not in page
    assert "Suspendre" in page and "Réactiver" in page


def test_only_the_operator_reaches_the_admin(browse, public_host, alpha):
    for person in [alpha.coordinator, alpha.member]:
        response = browse(public_host, person).get(CHANGELIST)
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


def test_a_suspended_collective_says_so_and_loses_nothing(browse, public_host, operator, alpha, beta, market):
    order = _order(browse, alpha, market)
    response = _admin_action(browse, public_host, operator, "suspend", [alpha.collective])
    assert "1 collectif suspendu." in words(response)
    assert " suspendu " in _row(response, "Drive Alpha")

    for person in [None, alpha.member, alpha.coordinator]:
        for path in ["/", f"/ventes/{market.sale.pk}/", "/membres/", "/accounts/login/", "/sante/"]:
            page = browse(alpha, person).get(path)
            assert page.status_code == 503, (person, path)
            assert "Ce collectif est suspendu" in words(page)
    # A member's order cannot go through either.
    refused = browse(alpha, alpha.member).post(f"/ventes/{market.sale.pk}/commander/", {})
    assert refused.status_code == 503
    # The other collective and the public site are untouched.
    assert browse(beta, beta.member).get("/").status_code == 200
    assert browse(public_host).get("/").status_code == 200
    # Its clock jobs skip it.
    assert list(Collective.objects.active_tenants().values_list("slug", flat=True)) == ["beta"]

    response = _admin_action(browse, public_host, operator, "reactivate", [alpha.collective])
    assert "1 collectif réactivé." in words(response)
    assert browse(alpha, alpha.member).get("/").status_code == 200
    mine = browse(alpha, alpha.member).get("/commandes/")
    assert mine.status_code == 200
    assert Order.objects.filter(pk=order.pk, status=order.status).exists()  # nothing lost
    assert list(Collective.objects.active_tenants().values_list("slug", flat=True)) == ["alpha", "beta"]


def test_a_suspended_collective_s_page_is_in_french_with_no_personal_data(
    browse, public_host, operator, alpha
):
    _admin_action(browse, public_host, operator, "suspend", [alpha.collective])
    page = browse(alpha, alpha.member).get("/")
    assert page["Content-Type"].startswith("text/html")
    assert "Drive Alpha" in words(page)
    assert "rien n'est perdu" in words(page)
    assert alpha.member.email not in page.content.decode()


def test_a_suspended_collective_s_clock_stands_still(alpha, beta):
    """Beat's minute tick skips a suspended collective: no sale of it opens, closes or reminds meanwhile (the
    hourly pass too: tests/orders/test_clock_due.py)."""
    from django.utils import timezone

    from marketplace import clock

    before = clock.due_schemas()  # neither has a row in the clock's due-index yet: both are due
    assert alpha.collective.schema_name in before and beta.collective.schema_name in before
    type(alpha.collective).objects.filter(pk=alpha.collective.pk).update(suspended_at=timezone.now())
    after = clock.due_schemas()
    assert alpha.collective.schema_name not in after and beta.collective.schema_name in after


@time_machine.travel(datetime(2027, 3, 10, 9, 0, tzinfo=ZoneInfo("Europe/Paris")), tick=False)
def test_the_operator_deletes_a_collective_with_30_days_to_restore_it(
    browse, public_host, operator, alpha, beta
):
    response = _admin_action(browse, public_host, operator, "delete_with_grace", [alpha.collective])
    assert "1 collectif supprimé." in words(response)
    assert " supprimé, effacé le 09/04/2027 " in _row(response, "Drive Alpha")
    assert "Supprimer les collectifs sélectionnés" not in words(response)  # no immediate delete
    page = browse(alpha, alpha.member).get("/")
    assert page.status_code == 503 and "a fermé son site" in words(page)
    assert browse(beta, beta.member).get("/").status_code == 200
    assert list(Collective.objects.active_tenants().values_list("slug", flat=True)) == ["beta"]

    response = _admin_action(browse, public_host, operator, "undelete", [alpha.collective])
    assert "1 collectif restauré." in words(response)
    assert browse(alpha, alpha.member).get("/").status_code == 200
    # Not an operator: no action at all.
    assert (
        browse(public_host, alpha.coordinator).post(CHANGELIST, {"action": "delete_with_grace"}).status_code
        == 302
    )
    assert Collective.objects.get(pk=alpha.collective.pk).deleted_at is None
