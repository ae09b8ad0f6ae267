"""Sessions (marketplace.sessions): a change of a member's session (their cart) is kept, written as one
UPDATE outside any transaction; a session deleted meanwhile (signed out in another tab) is never brought
back: the store says so (the session middleware's « session interrupted », 400) and the member is asked to
sign in again. Real transactions: a test transaction would hide the path taken in production."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from marketplace.sessions import SessionStore

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_members_cart_is_kept_with_one_statement(browse, alpha, market):
    member = browse(alpha, alpha.member)
    shop = f"/ventes/{market.sale.pk}/"
    member.get(shop)
    with CaptureQueriesContext(connection) as queries:
        saved = member.post(shop, {f"qty_{market.cheese.pk}": "2", "update_total": ""})
    assert saved.status_code == 200
    writes = [query["sql"] for query in queries.captured_queries if "django_session" in query["sql"]]
    assert [sql.split()[0] for sql in writes] == ["SELECT", "UPDATE"]
    assert not [query for query in queries.captured_queries if query["sql"] in ("BEGIN", "COMMIT")]
    again = member.get(shop)
    assert f'name="qty_{market.cheese.pk}" id="id_qty_{market.cheese.pk}" value="2"' in again.content.decode()


def test_a_session_deleted_meanwhile_is_not_brought_back(browse, alpha, market):
    member = browse(alpha, alpha.member)
    shop = f"/ventes/{market.sale.pk}/"
    member.get(shop)
    key = Session.objects.get().session_key
    store = SessionStore(session_key=key)
    store["cart"] = {"1": 2}  # a request changing it…
    Session.objects.filter(session_key=key).delete()  # …while the member signs out in another tab
    with pytest.raises(UpdateError):  # the session middleware answers « session interrupted » (400)
        store.save()
    assert not Session.objects.exists()
    # The member is signed out: ordering asks them to sign in again, nothing is kept from the old session.
    response = member.post(shop, {f"qty_{market.cheese.pk}": "2", "update_total": ""})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_expired_session_signs_the_member_out(browse, alpha, market):
    """The session is read with one plain statement: an expired one is as good as none."""
    member = browse(alpha, alpha.member)
    shop = f"/ventes/{market.sale.pk}/"
    assert member.get("/commandes/").status_code == 200
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = member.get("/commandes/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    refused = member.post(shop, {f"qty_{market.cheese.pk}": "2", "update_total": ""})
    assert refused.status_code == 302 and refused["Location"].startswith("/accounts/login/")


def test_only_the_session_write_skips_waiting_for_the_disk(browse, alpha, market):
    """The session UPDATE's commit does not wait for the disk; the setting is its own transaction's, so the
    next commit on the same connection (an order's) waits as configured."""
    member = browse(alpha, alpha.member)
    shop = f"/ventes/{market.sale.pk}/"
    member.get(shop)
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = on")  # production's setting (the tests' is off)
    try:
        with CaptureQueriesContext(connection) as queries:
            saved = member.post(shop, {f"qty_{market.cheese.pk}": "3", "update_total": ""})
        assert saved.status_code == 200
        (update,) = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
        assert "set_config('synchronous_commit', 'off', true)" in update
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"
        assert Session.objects.get().get_decoded()  # the change was written
        again = member.get(shop)
        assert f'id="id_qty_{market.cheese.pk}" value="3"' in again.content.decode()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def _account_reads(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT u.") and "u.id =" in q["sql"]
    ]


def test_a_signed_in_page_reads_the_account_with_the_session(browse, alpha):
    """Once the session row names the account (written by the session's first change, here the sign-in's),
    a signed-in page reads both in one statement: no read of the account of its own."""
    member = browse(alpha, alpha.member)
    with CaptureQueriesContext(connection) as queries:
        page = member.get("/commandes/")
    assert page.status_code == 200 and page.wsgi_request.user == alpha.member
    sessions = [q["sql"] for q in queries.captured_queries if "django_session" in q["sql"]]
    assert len(sessions) == 1 and "JOIN marketplace_user" in sessions[0]
    assert _account_reads(queries) == []


def test_a_deactivated_account_read_with_the_session_is_signed_out(browse, alpha):
    member = browse(alpha, alpha.member)
    assert member.get("/commandes/").status_code == 200
    type(alpha.member).objects.filter(pk=alpha.member.pk).update(is_active=False)
    response = member.get("/commandes/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_password_changed_elsewhere_signs_the_session_out(browse, alpha):
    """Django's check of the session's hash still runs on the account read with the session."""
    member = browse(alpha, alpha.member)
    assert member.get("/commandes/").status_code == 200
    alpha.member.set_password("another-password-2026")
    alpha.member.save(update_fields=["password"])
    response = member.get("/commandes/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_session_row_naming_another_account_is_not_trusted(browse, alpha):
    """The account comes from the session's signed data, never from the column alone: a row whose column
    names someone else (changed behind the store's back) is read as before, as the member it belongs to."""
    member = browse(alpha, alpha.member)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE django_session SET user_id = %s", [alpha.coordinator.pk])
    with CaptureQueriesContext(connection) as queries:
        page = member.get("/commandes/")
    assert page.status_code == 200 and page.wsgi_request.user == alpha.member
    assert len(_account_reads(queries)) == 1


def test_a_session_row_without_its_account_is_read_as_before(browse, alpha):
    """A session written by Django's own INSERT (no account in the row yet) signs the member in all the
    same, and its next change names the account."""
    member = browse(alpha, alpha.member)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE django_session SET user_id = NULL")
    with CaptureQueriesContext(connection) as queries:
        page = member.get("/commandes/")
    assert page.status_code == 200 and page.wsgi_request.user == alpha.member
    assert len(_account_reads(queries)) == 1
