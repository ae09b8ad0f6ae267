"""Staff reach only their own points; coordinators every point; members only the booking pages; the people
of another collective nothing. Ids of other points (and of another collective) in a URL are not found."""

from datetime import date

import pytest
from django.urls import reverse

from marketplace.models import Role
from pickup_points import services, urls
from pickup_points.models import Closure, PickupPoint, PickupSlot, SlotBooking
from tests.conftest import text
from tests.pickup_points.factories import enter, household

POINT_URLS = sorted(
    (pattern.name, set(pattern.pattern.regex.groupindex))
    for pattern in urls.urlpatterns
    if "point_id" in pattern.pattern.regex.groupindex
)
COORDINATOR_ONLY = {
    "point_create",
    "point_team",
    "point_team_remove",
    "distribution_list",
    "distribution_detail",
}
MEMBER_PAGES = {"member_distributions", "member_booking", "member_booking_cancel"}
# What a form on each page would send: a staff member trying their luck on someone else's point.
TAMPERING = {
    "name": "Piraté",
    "address": "x",
    "town": "x",
    "slot_minutes": "5",
    "slot_capacity": "99",
    "hours-TOTAL_FORMS": "0",
    "hours-INITIAL_FORMS": "0",
    "starts_on": "2030-01-01",
    "ends_on": "2030-01-02",
    "reason": "Piraté",
    "starts_at": "20:00",
    "ends_at": "21:00",
    "capacity": "99",
    "action": "close",
    "collected": "1",
    "user": "1",
    "email": "pirate@x.test",
}


@pytest.fixture
def objects_of_b(points):
    """Something of every kind at point B: a closure, a slot, a booking."""
    enter(points.alpha)
    closure = services.closure_create(
        point=points.b, starts_on=date(2030, 1, 1), ends_on=date(2030, 1, 2), reason="Travaux"
    )
    slot = points.slot(points.b, 10)
    booking = services.slot_reserve(slot_id=slot.pk, user=household(points.alpha, 1))
    return {"closure": closure, "slot": slot, "booking": booking}


@pytest.fixture
def ids_of_b(points, objects_of_b) -> dict[str, int]:
    """Every id a pickup-point URL takes, each naming something of point B."""
    return {
        "point_id": points.b.pk,
        "distribution_id": points.distribution.pk,
        "closure_id": objects_of_b["closure"].pk,
        "slot_id": objects_of_b["slot"].pk,
        "booking_id": objects_of_b["booking"].pk,
        "user_id": points.staff_b.pk,
    }


def _state(points) -> tuple:
    enter(points.alpha)
    return (
        sorted(PickupPoint.objects.values_list("pk", "name", "slot_minutes", "slot_capacity", "is_active")),
        sorted(PickupSlot.objects.values_list("pk", "capacity", "is_open", "reserved")),
        sorted(SlotBooking.objects.values_list("pk", "status")),
        sorted(Closure.objects.values_list("pk", "reason")),
        sorted(points.b.staff.values_list("pk", flat=True)),
    )


def _url(name: str, kwargs: set[str], values: dict) -> str:
    return reverse(name, kwargs={key: values[key] for key in kwargs})


@pytest.mark.parametrize(("name", "kwargs"), POINT_URLS, ids=[name for name, _ in POINT_URLS])
def test_staff_of_point_a_get_nothing_of_point_b(browse, points, ids_of_b, name, kwargs):
    before = _state(points)
    client = browse(points.alpha, points.alpha.staff)
    # Point B's own URL, then point A's URL with B's objects in it: both are B's data.
    urls_to_try = {_url(name, kwargs, ids_of_b)}
    if kwargs - {"point_id", "distribution_id"}:
        urls_to_try.add(_url(name, kwargs, {**ids_of_b, "point_id": points.a.pk}))
    expected = {403} if name in COORDINATOR_ONLY else {404}
    for url in urls_to_try:
        posted = client.post(url, TAMPERING)
        assert posted.status_code in expected, url
        got = client.get(url)
        assert got.status_code in expected | {405}, url
        for response in (posted, got):
            assert "Centre social du Pin" not in text(response)
            assert "Numéro-1" not in text(response)
    assert _state(points) == before


def test_staff_list_only_their_points(browse, points):
    page = text(browse(points.alpha, points.alpha.staff).get("/points/"))
    assert "Mes points de retrait" in page
    assert "Salle des fêtes de la mairie" in page
    assert "Centre social du Pin" not in page
    page = text(browse(points.alpha, points.staff_b).get("/points/"))
    assert "Centre social du Pin" in page and "Salle des fêtes de la mairie" not in page


def test_a_staff_member_may_have_several_points(browse, points):
    points.b.staff.add(points.alpha.staff)
    client = browse(points.alpha, points.alpha.staff)
    page = text(client.get("/points/"))
    assert "Salle des fêtes de la mairie" in page and "Centre social du Pin" in page
    assert client.get(f"/points/{points.b.pk}/").status_code == 200


def test_staff_see_nothing_else_of_the_collective(browse, points):
    client = browse(points.alpha, points.alpha.staff)
    for url in ["/distributions/", f"/distributions/{points.distribution.pk}/", "/points/nouveau/"]:
        assert client.get(url).status_code == 403, url
    for url in [f"/points/{points.a.pk}/equipe/", "/membres/", "/invitations/", "/reglages/"]:
        assert client.get(url).status_code == 403, url
    for url in ["/retrait/", f"/retrait/{points.distribution.pk}/"]:
        assert client.get(url).status_code == 403, url
    home = text(client.get("/"))
    assert 'href="/points/"' in home and "Mes points de retrait" in home
    assert 'href="/distributions/"' not in home and 'href="/retrait/"' not in home


def test_staff_without_the_role_any_more_lose_their_point(browse, points):
    from marketplace.models import Membership

    Membership.objects.filter(user=points.alpha.staff).update(roles=[Role.MEMBER])
    client = browse(points.alpha, points.alpha.staff)
    assert client.get("/points/").status_code == 403
    assert client.get(f"/points/{points.a.pk}/").status_code == 403


@pytest.mark.parametrize("role", ["member", "producer"])
def test_members_and_producers_get_no_staff_page(browse, points, ids_of_b, role):
    client = browse(points.alpha, getattr(points.alpha, role))
    values = {**ids_of_b, "point_id": points.a.pk, "user_id": points.alpha.staff.pk}
    before = _state(points)
    for name, kwargs in POINT_URLS:
        url = _url(name, kwargs, values)
        assert client.post(url, TAMPERING).status_code == 403, url
        assert client.get(url).status_code in {403, 405}, url
    assert client.get("/points/").status_code == 403
    assert client.get("/distributions/").status_code == 403
    assert _state(points) == before


def test_anonymous_visitors_are_sent_to_log_in(browse, points):
    client = browse(points.alpha)
    for url in [
        "/points/",
        f"/points/{points.a.pk}/",
        "/distributions/",
        f"/retrait/{points.distribution.pk}/",
    ]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url


def test_coordinators_reach_every_point(browse, points):
    client = browse(points.alpha, points.alpha.coordinator)
    page = text(client.get("/points/"))
    assert "Salle des fêtes de la mairie" in page and "Centre social du Pin" in page
    for point in (points.a, points.b):
        assert client.get(f"/points/{point.pk}/").status_code == 200
        assert client.get(f"/points/{point.pk}/distributions/{points.distribution.pk}/").status_code == 200
        assert client.get(f"/points/{point.pk}/equipe/").status_code == 200


def test_a_distribution_without_the_point_is_not_found(browse, points):
    enter(points.alpha)
    other = services.distribution_create(date=points.distribution.date, points=[points.b])
    client = browse(points.alpha, points.alpha.coordinator)
    assert client.get(f"/points/{points.a.pk}/distributions/{other.pk}/").status_code == 404
    assert client.get(f"/points/{points.a.pk}/distributions/{other.pk}/creneaux/").status_code == 404


def test_beta_people_get_nothing_of_alpha_points(browse, points, beta):
    before = _state(points)
    for person in (beta.coordinator, beta.staff, beta.member):
        client = browse(beta, person)
        page = text(client.get("/points/"))
        assert "Salle des fêtes de la mairie" not in page
        for url in [
            f"/points/{points.a.pk}/",
            f"/points/{points.a.pk}/distributions/{points.distribution.pk}/",
            f"/retrait/{points.distribution.pk}/",
        ]:
            assert client.get(url).status_code in {403, 404}, (person, url)
            assert client.post(url, TAMPERING).status_code in {403, 404}, (person, url)
    # And alpha's people on beta's site: not members there.
    assert browse(beta, points.alpha.staff).get("/points/").status_code == 403
    assert _state(points) == before


def test_beta_coordinator_with_alpha_ids_finds_nothing(browse, points, ids_of_b, beta):
    client = browse(beta, beta.coordinator)
    before = _state(points)
    for name, kwargs in POINT_URLS:
        url = _url(name, kwargs, ids_of_b)
        assert client.post(url, TAMPERING).status_code == 404, url
        assert client.get(url).status_code in {404, 405}, url
    assert _state(points) == before


def test_hours_edit_keeps_times(browse, points):
    """The edit page shows the hours as saved (a sanity check of the formset's initial data)."""
    page = text(browse(points.alpha, points.alpha.staff).get(f"/points/{points.a.pk}/horaires/"))
    assert 'value="17:00"' in page and 'value="19:00"' in page
