"""Coordinators create points and assign staff: picked among the collective's pickup-point staff, or invited
by e-mail, the invitation assigning its taker to the point when accepted."""

import re

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from marketplace.models import Invitation, Membership, Role, User
from pickup_points import services
from pickup_points.models import PickupPoint
from tests.conftest import PASSWORD, text, words
from tests.pickup_points.factories import enter


def test_coordinator_creates_a_point(browse, alpha):
    client = browse(alpha, alpha.coordinator)
    assert client.get("/points/").status_code == 200
    response = client.post(
        "/points/nouveau/",
        {
            "name": "Salle des fêtes",
            "address": "Place de la mairie",
            "postcode": "47000",
            "town": "Agen",
            "slot_minutes": "15",
            "slot_capacity": "6",
        },
    )
    enter(alpha)
    point = PickupPoint.objects.get(name="Salle des fêtes")
    assert response.status_code == 302 and response["Location"] == f"/points/{point.pk}/horaires/"
    page = words(client.get(response["Location"]))
    assert "Point de retrait « Salle des fêtes » créé : indiquez maintenant ses horaires." in page
    assert (point.slot_minutes, point.slot_capacity, point.is_active) == (15, 6, True)


def test_point_creation_refuses_bad_input(browse, alpha):
    response = browse(alpha, alpha.coordinator).post(
        "/points/nouveau/",
        {"name": "", "address": "x", "town": "Agen", "slot_minutes": "0", "slot_capacity": "-1"},
    )
    assert response.status_code == 400
    page = text(response)
    assert "Ce champ est obligatoire." in page
    assert "La durée d'un créneau doit être d'au moins 1 minute." in page
    assert "Un créneau doit accueillir au moins 1 foyer." in page
    enter(alpha)
    assert not PickupPoint.objects.exists()


def test_coordinator_assigns_and_removes_staff(browse, points):
    client = browse(points.alpha, points.alpha.coordinator)
    page = text(client.get(f"/points/{points.b.pk}/equipe/"))
    assert "Bérénice Staff-B" in page  # already in the team
    assert "Sami Staff-alpha (staff@alpha.test)" in page  # may be added
    assert "Maud" not in page  # a member without the staff role is not offered

    response = client.post(
        f"/points/{points.b.pk}/equipe/", {"action": "assign", "user": points.alpha.staff.pk}
    )
    assert response.status_code == 302
    assert "Sami Staff-alpha fait maintenant partie de l'équipe de ce point." in text(
        client.get(response["Location"])
    )
    staff = browse(points.alpha, points.alpha.staff)
    assert "Centre social du Pin" in text(staff.get("/points/"))

    client.post(f"/points/{points.b.pk}/equipe/{points.alpha.staff.pk}/retirer/")
    assert "Centre social du Pin" not in text(staff.get("/points/"))
    assert staff.get(f"/points/{points.b.pk}/").status_code == 404


def test_only_point_staff_can_be_assigned(browse, points):
    response = browse(points.alpha, points.alpha.coordinator).post(
        f"/points/{points.b.pk}/equipe/", {"action": "assign", "user": points.alpha.member.pk}
    )
    assert response.status_code == 400
    enter(points.alpha)
    assert points.alpha.member not in points.b.staff.all()


def test_an_invitation_to_a_point_assigns_its_taker(
    browse, points, mailoutbox, django_capture_on_commit_callbacks
):
    client = browse(points.alpha, points.alpha.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/points/{points.a.pk}/equipe/", {"action": "invite", "email": "Agent@Mairie.test"}
        )
    assert response.status_code == 302
    assert (
        "Invitation envoyée à agent@mairie.test : en l'acceptant, la personne rejoindra l'équipe de ce point."
        in text(client.get(response["Location"]))
    )
    invitation = Invitation.objects.get(email="agent@mairie.test")
    assert invitation.role == Role.POINT_STAFF
    assert invitation.scope == {"pickup_point": points.a.pk}
    assert invitation.scope_label == "Salle des fêtes de la mairie"
    assert "(Salle des fêtes de la mairie)" in text(client.get("/invitations/"))
    (mail,) = mailoutbox
    link = re.search(r"http://[a-z0-9.-]+(/invitation/[^/\s]+/)", mail.body).group(1)

    agent = User.objects.create_user(
        email="agent@mairie.test", password=PASSWORD, first_name="Agnès", last_name="Agent"
    )
    invitee = browse(points.alpha, agent)
    assert invitee.post(link).status_code == 302
    membership = Membership.objects.get(user=agent, collective=points.alpha.collective)
    assert membership.roles == [Role.POINT_STAFF]
    page = text(invitee.get("/points/"))
    assert "Salle des fêtes de la mairie" in page and "Centre social du Pin" not in page
    enter(points.alpha)
    assert set(points.a.staff.values_list("email", flat=True)) == {"staff@alpha.test", "agent@mairie.test"}


def test_accepting_twice_or_for_a_deleted_point_is_harmless(points):
    from marketplace import services as marketplace_services
    from pickup_points import services

    enter(points.alpha)
    services.staff_assign_from_invitation(
        invitation=Invitation(role=Role.POINT_STAFF, scope={"pickup_point": points.a.pk}),
        membership=Membership(user=points.alpha.staff),
    )
    services.staff_assign_from_invitation(
        invitation=Invitation(role=Role.POINT_STAFF, scope={"pickup_point": 999_999}),
        membership=Membership(user=points.alpha.staff),
    )
    assert list(points.a.staff.all()) == [points.alpha.staff]
    # A plain member invitation with no scope changes nothing.
    invitation = marketplace_services.invitation_create(
        collective=points.alpha.collective, created_by=points.alpha.coordinator, role=Role.MEMBER
    )
    newcomer = User.objects.create_user(email="new@alpha.test", password=PASSWORD)
    marketplace_services.invitation_accept(
        collective=points.alpha.collective, token=invitation.token, user=newcomer
    )
    enter(points.alpha)
    assert not PickupPoint.objects.filter(staff=newcomer).exists()


def test_inviting_someone_already_in_the_staff_points_to_the_list(browse, points):
    response = browse(points.alpha, points.alpha.coordinator).post(
        f"/points/{points.b.pk}/equipe/", {"action": "invite", "email": "staff@alpha.test"}
    )
    assert response.status_code == 400
    assert (
        "Cette personne fait déjà partie des équipes de points de retrait : "
        "choisissez-la dans la liste ci-dessus." in text(response)
    )
    assert not Invitation.objects.filter(email="staff@alpha.test").exists()


def test_coordinator_creates_a_distribution(browse, points):
    client = browse(points.alpha, points.alpha.coordinator)
    day = points.distribution.date
    response = client.post(
        "/distributions/", {"date": day.isoformat(), "label": "Spéciale", "points": [points.a.pk]}
    )
    assert response.status_code == 302
    page = words(client.get(response["Location"]))
    assert "Salle des fêtes de la mairie Créneaux : 8 · Foyers inscrits : 0" in page
    assert "Centre social du Pin" not in page


def test_distribution_creation_refuses_bad_input(browse, points):
    client = browse(points.alpha, points.alpha.coordinator)
    response = client.post("/distributions/", {"date": "2020-01-03", "points": [points.a.pk]})
    assert response.status_code == 400
    assert "La date de la distribution doit être aujourd'hui ou plus tard." in text(response)
    response = client.post("/distributions/", {"date": points.distribution.date.isoformat()})
    assert response.status_code == 400
    assert "Choisissez au moins un point de retrait." in text(response)
    enter(points.alpha)
    from pickup_points.models import Distribution

    assert Distribution.objects.count() == 1


def test_a_signed_in_stranger_is_not_staff(points, outsider):
    client = Client(HTTP_HOST=points.alpha.host)
    client.force_login(outsider)
    assert client.get("/points/").status_code == 403


def test_distribution_pages_take_no_query_per_point_or_distribution(browse, points):
    client = browse(points.alpha, points.alpha.coordinator)
    detail = f"/distributions/{points.distribution.pk}/"
    with CaptureQueriesContext(connection) as few_points:
        client.get(detail)
    with CaptureQueriesContext(connection) as few_distributions:
        client.get("/distributions/")
    enter(points.alpha)
    day = points.distribution.date
    more = [
        services.point_create(name=f"Point {number}", address="1 rue", town="Agen") for number in range(3)
    ]
    services.closure_create(point=more[0], starts_on=day, ends_on=day, reason="Élections")
    services.distribution_create(date=day, points=[points.a, *more])
    services.distribution_create(date=day, points=[points.b])
    distribution = services.distribution_create(date=day, points=[points.a, points.b, *more])
    with CaptureQueriesContext(connection) as many_points:
        page = words(client.get(f"/distributions/{distribution.pk}/"))
    with CaptureQueriesContext(connection) as many_distributions:
        client.get("/distributions/")
    assert "Point 0 Fermé ce jour-là : Élections." in page
    assert len(many_points) == len(few_points)
    assert len(many_distributions) == len(few_distributions)
