import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from marketplace import services
from marketplace.models import Collective, Invitation, Membership, Role
from tests.conftest import text


def _set_join_mode(cast, join_mode: str) -> None:
    cast.collective.join_mode = join_mode
    cast.collective.save()


def test_open_collective_makes_a_member_at_once(browse, alpha, outsider):
    client = browse(alpha, outsider)
    home = text(client.get("/"))
    assert "Ce collectif est ouvert à tous." in home
    assert "Rejoindre le collectif" in home

    response = client.post("/rejoindre/")
    assert response.status_code == 302 and response["Location"] == "/"
    membership = Membership.objects.get(user=outsider, collective=alpha.collective)
    assert membership.is_active and membership.roles == [Role.MEMBER]
    home = text(client.get("/"))
    assert "Bienvenue ! Vous êtes membre du collectif." in home
    assert "en tant que : Membre." in home
    assert "Rejoindre le collectif" not in home


def test_joining_twice_changes_nothing(browse, alpha):
    browse(alpha, alpha.producer).post("/rejoindre/")
    membership = Membership.objects.get(user=alpha.producer, collective=alpha.collective)
    assert membership.roles == [Role.PRODUCER]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("join_mode", [Collective.JoinMode.OPEN, Collective.JoinMode.APPROVAL])
def test_a_double_click_on_join_makes_one_membership_and_no_error_page(
    browse, alpha, outsider, join_mode, mailoutbox
):
    _set_join_mode(alpha, join_mode)
    clients = [browse(alpha, outsider) for _ in range(4)]
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def join(client) -> None:
        try:
            barrier.wait()
            statuses.append(client.post("/rejoindre/").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=join, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [302] * len(clients)
    assert Membership.objects.filter(user=outsider, collective=alpha.collective).count() == 1
    # An approval request reaches the coordinator once.
    assert len(mailoutbox) == (1 if join_mode == Collective.JoinMode.APPROVAL else 0)


def test_anonymous_visitor_is_sent_to_log_in_to_join(browse, alpha):
    response = browse(alpha).post("/rejoindre/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert Membership.objects.filter(collective=alpha.collective).count() == 4


def test_approval_mode_waits_for_a_coordinator_who_approves(
    browse, alpha, outsider, mailoutbox, django_capture_on_commit_callbacks
):
    _set_join_mode(alpha, Collective.JoinMode.APPROVAL)
    client = browse(alpha, outsider)
    assert "Demander à rejoindre" in text(client.get("/"))

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/rejoindre/")
    membership = Membership.objects.get(user=outsider, collective=alpha.collective)
    assert membership.status == Membership.Status.PENDING
    home = text(client.get("/"))
    assert "Votre demande a été envoyée : un·e coordinateur·rice va la valider." in home
    assert "Votre demande d'adhésion attend la validation" in home
    # Pending is not a member yet.
    assert "en tant que" not in home

    assert [mail.to for mail in mailoutbox] == [[alpha.coordinator.email]]
    assert mailoutbox[0].subject == "Nouvelle demande d'adhésion à Drive Alpha"
    assert "Octave Dehors demande à rejoindre « Drive Alpha »." in mailoutbox[0].body
    assert "http://alpha.localhost/membres/" in mailoutbox[0].body

    coordinator = browse(alpha, alpha.coordinator)
    members_page = text(coordinator.get("/membres/"))
    pending_part = members_page.split("Demandes en attente")[1].split("membres actifs")[0]
    assert "Octave Dehors" in pending_part and outsider.email in pending_part
    assert f'action="/membres/{membership.pk}/valider/"' in pending_part

    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator.post(f"/membres/{membership.pk}/valider/")
    assert response.status_code == 302 and response["Location"] == "/membres/"
    membership.refresh_from_db()
    assert membership.is_active
    members_page = text(coordinator.get("/membres/"))
    assert "Octave Dehors est maintenant membre." in members_page
    assert "Demandes en attente" not in members_page
    assert "5 membres actifs" in members_page

    approved = mailoutbox[-1]
    assert approved.to == [outsider.email]
    assert approved.subject == "Bienvenue dans Drive Alpha"
    assert "Votre demande d'adhésion à « Drive Alpha » a été acceptée." in approved.body
    assert "en tant que : Membre." in text(client.get("/"))

    # A second coordinator (or a double click) approving again sends no second welcome.
    with django_capture_on_commit_callbacks(execute=True):
        coordinator.post(f"/membres/{membership.pk}/valider/")
    assert len(mailoutbox) == 2


def test_approval_mode_coordinator_refuses(browse, alpha, outsider):
    _set_join_mode(alpha, Collective.JoinMode.APPROVAL)
    browse(alpha, outsider).post("/rejoindre/")
    membership = Membership.objects.get(user=outsider, collective=alpha.collective)

    coordinator = browse(alpha, alpha.coordinator)
    response = coordinator.post(f"/membres/{membership.pk}/retirer/")
    assert response.status_code == 302
    assert not Membership.objects.filter(user=outsider, collective=alpha.collective).exists()
    members_page = text(coordinator.get("/membres/"))
    assert "La personne a été retirée du collectif." in members_page
    assert "Octave Dehors" not in members_page
    # Refused, the person may ask again: the page offers the button once more.
    assert "Demander à rejoindre" in text(browse(alpha, outsider).get("/"))


def test_pending_member_gets_no_member_page(browse, beta, outsider):
    Membership.objects.create(
        user=outsider, collective=beta.collective, roles=[Role.MEMBER], status=Membership.Status.PENDING
    )
    assert browse(beta, outsider).get("/cooptation/").status_code == 403


def test_invitation_only_refuses_to_join(browse, beta, outsider):
    client = browse(beta, outsider)
    home = text(client.get("/"))
    assert "Ce collectif accueille de nouveaux membres sur invitation uniquement." in home
    assert 'action="/rejoindre/"' not in home

    response = client.post("/rejoindre/")
    assert response.status_code == 302
    assert "Ce collectif n'accueille de nouveaux membres que sur invitation." in text(client.get("/"))
    assert not Membership.objects.filter(user=outsider, collective=beta.collective).exists()


def test_member_coopts_someone_who_becomes_member(browse, beta, outsider):
    sponsor = browse(beta, beta.member)
    assert "Parrainer" in text(sponsor.get("/"))
    page = sponsor.get("/cooptation/")
    assert page.status_code == 200
    assert "Parrainer une personne" in text(page)

    response = sponsor.post("/cooptation/", {"email": "", "role": Role.MEMBER})
    assert response.status_code == 200
    invitation = Invitation.objects.get(collective=beta.collective)
    assert invitation.created_by == beta.member and invitation.role == Role.MEMBER
    assert f"http://beta.localhost/invitation/{invitation.token}/" in text(response)

    newcomer = browse(beta, outsider)
    assert "Invitation de Maud Member-beta." in text(newcomer.get(f"/invitation/{invitation.token}/"))
    assert newcomer.post(f"/invitation/{invitation.token}/").status_code == 302
    membership = Membership.objects.get(user=outsider, collective=beta.collective)
    assert membership.is_active and membership.roles == [Role.MEMBER]
    assert membership.invited_by == beta.member
    assert "acceptée (Octave Dehors)" in text(sponsor.get("/cooptation/"))


def test_member_sees_only_their_own_cooptation_links(browse, beta):
    services.invitation_create(
        collective=beta.collective,
        created_by=beta.coordinator,
        role=Role.PRODUCER,
        email="fournisseur@x.test",
    )
    page = text(browse(beta, beta.member).get("/cooptation/"))
    assert "Aucune invitation pour l'instant." in page
    assert "fournisseur@x.test" not in page


def test_cooptation_closed_when_the_collective_does_not_allow_it(browse, beta):
    beta.collective.allow_cooptation = False
    beta.collective.save()
    client = browse(beta, beta.member)
    assert "Parrainer" not in text(client.get("/"))
    for response in [client.get("/cooptation/"), client.post("/cooptation/", {"role": Role.MEMBER})]:
        assert response.status_code == 403
        assert "Parrainage fermé" in text(response)
    with pytest.raises(ValidationError, match="Ce collectif ne permet pas aux membres de coopter."):
        services.invitation_create(collective=beta.collective, created_by=beta.member, role=Role.MEMBER)
    assert not Invitation.objects.filter(collective=beta.collective).exists()


def test_cooptation_closed_in_alpha(browse, alpha):
    assert browse(alpha, alpha.member).get("/cooptation/").status_code == 403
    with pytest.raises(ValidationError):
        services.invitation_create(collective=alpha.collective, created_by=alpha.member, role=Role.MEMBER)


def test_coopting_member_cannot_invite_a_coordinator(browse, beta):
    client = browse(beta, beta.member)
    page = text(client.get("/cooptation/"))
    assert 'value="coordinator"' not in page

    response = client.post("/cooptation/", {"email": "ami@x.test", "role": Role.COORDINATOR})
    assert response.status_code == 400
    assert "Sélectionnez un choix valide." in text(response)
    assert client.post("/invitations/", {"email": "ami@x.test", "role": Role.COORDINATOR}).status_code == 403
    for role in (Role.COORDINATOR, Role.PRODUCER, Role.POINT_STAFF):
        with pytest.raises(ValidationError, match="Un membre ne peut inviter que de nouveaux membres."):
            services.invitation_create(collective=beta.collective, created_by=beta.member, role=role)
    assert not Invitation.objects.filter(collective=beta.collective).exists()


def test_producer_of_a_cooptation_collective_cannot_coopt(browse, beta):
    assert browse(beta, beta.producer).get("/cooptation/").status_code == 403
    with pytest.raises(ValidationError):
        services.invitation_create(collective=beta.collective, created_by=beta.producer, role=Role.MEMBER)


def test_member_cannot_revoke_someone_elses_invitation(browse, beta):
    invitation = services.invitation_create(
        collective=beta.collective, created_by=beta.coordinator, role=Role.MEMBER, email="x@x.test"
    )
    client = browse(beta, beta.member)
    client.post(f"/invitations/{invitation.pk}/annuler/", {"next": "cooptation"})
    assert "Vous ne pouvez annuler que vos propres invitations." in text(client.get("/"))
    invitation.refresh_from_db()
    assert invitation.state == "pending"
