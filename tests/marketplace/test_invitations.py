import re
from datetime import timedelta

from django.utils import timezone

from marketplace import services
from marketplace.models import Invitation, Membership, Role, User
from tests.conftest import PASSWORD, text


def _invite(cast, *, role=Role.MEMBER, email=""):
    return services.invitation_create(
        collective=cast.collective, created_by=cast.coordinator, role=role, email=email
    )


def _link_in(message) -> str:
    match = re.search(r"http://[a-z0-9.-]+(/invitation/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_coordinator_invites_by_email_and_the_invitee_gets_the_role(
    browse, alpha, outsider, mailoutbox, django_capture_on_commit_callbacks
):
    coordinator = browse(alpha, alpha.coordinator)
    form = coordinator.get("/invitations/")
    assert form.status_code == 200
    assert "Équipe d'un point de retrait" in text(form)

    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator.post(
            "/invitations/", {"email": "Outsider@Nowhere.test", "role": Role.POINT_STAFF}
        )
    assert response.status_code == 200
    assert "Invitation envoyée à outsider@nowhere.test." in text(response)
    invitation = Invitation.objects.get(collective=alpha.collective, email="outsider@nowhere.test")
    assert invitation.role == Role.POINT_STAFF and invitation.state == "pending"

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["outsider@nowhere.test"]
    assert mail.subject == "Invitation à rejoindre Drive Alpha"
    assert "Équipe d'un point de retrait" in mail.body
    assert f"http://alpha.localhost/invitation/{invitation.token}/" in mail.body
    link = _link_in(mail)

    invitee = browse(alpha, outsider)
    page = invitee.get(link)
    assert page.status_code == 200
    assert "Rejoindre Drive Alpha" in text(page)
    assert "Équipe d'un point de retrait" in text(page)
    assert "Accepter l'invitation" in text(page)
    assert not Membership.objects.filter(user=outsider, collective=alpha.collective).exists()

    accepted = invitee.post(link)
    assert accepted.status_code == 302 and accepted["Location"] == "/"
    membership = Membership.objects.get(user=outsider, collective=alpha.collective)
    assert membership.roles == [Role.POINT_STAFF] and membership.is_active
    assert membership.invited_by == alpha.coordinator
    home = text(invitee.get("/"))
    assert "Invitation acceptée : vous êtes maintenant « Équipe d'un point de retrait »." in home
    assert "en tant que : Équipe d'un point de retrait." in home

    listing = text(coordinator.get("/invitations/"))
    assert "acceptée (Octave Dehors)" in listing


def test_invitation_without_email_gives_a_link_to_share(
    browse, alpha, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = browse(alpha, alpha.coordinator).post(
            "/invitations/", {"email": "", "role": Role.PRODUCER}
        )
    assert response.status_code == 200
    invitation = Invitation.objects.get(collective=alpha.collective, role=Role.PRODUCER)
    assert "Lien d'invitation créé" in text(response)
    assert f'value="http://alpha.localhost/invitation/{invitation.token}/"' in text(response)
    assert mailoutbox == []


def test_an_existing_member_gains_the_invited_role(browse, alpha):
    invitation = _invite(alpha, role=Role.PRODUCER)
    browse(alpha, alpha.member).post(f"/invitation/{invitation.token}/")
    membership = Membership.objects.get(user=alpha.member, collective=alpha.collective)
    assert membership.roles == [Role.MEMBER, Role.PRODUCER]


def test_inviting_someone_to_a_role_they_already_have_is_refused(browse, alpha):
    response = browse(alpha, alpha.coordinator).post(
        "/invitations/", {"email": alpha.producer.email, "role": Role.PRODUCER}
    )
    assert response.status_code == 400
    assert "Cette personne a déjà ce rôle dans le collectif." in text(response)
    assert not Invitation.objects.filter(collective=alpha.collective).exists()


def test_expired_link_says_so_and_grants_nothing(browse, alpha, outsider):
    invitation = _invite(alpha, role=Role.PRODUCER)
    now = timezone.now()
    Invitation.objects.filter(pk=invitation.pk).update(
        created_at=now - timedelta(days=20), expires_at=now - timedelta(days=6)
    )
    client = browse(alpha, outsider)
    for response in [
        client.get(f"/invitation/{invitation.token}/"),
        client.post(f"/invitation/{invitation.token}/"),
    ]:
        assert response.status_code == 404
        assert "Ce lien d'invitation a expiré. Demandez une nouvelle invitation au collectif." in text(
            response
        )
    assert not Membership.objects.filter(user=outsider, collective=alpha.collective).exists()


def test_used_link_cannot_be_used_again(browse, alpha, outsider):
    invitation = _invite(alpha, role=Role.PRODUCER)
    assert browse(alpha, outsider).post(f"/invitation/{invitation.token}/").status_code == 302
    second = User.objects.create_user(email="second@nowhere.test", password=PASSWORD)

    client = browse(alpha, second)
    for response in [
        client.get(f"/invitation/{invitation.token}/"),
        client.post(f"/invitation/{invitation.token}/"),
    ]:
        assert response.status_code == 404
        assert "Ce lien d'invitation a déjà été utilisé." in text(response)
    assert not Membership.objects.filter(user=second, collective=alpha.collective).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_by == outsider


def test_link_of_one_collective_is_refused_on_another(browse, alpha, beta, outsider):
    invitation = _invite(alpha, role=Role.PRODUCER)
    client = browse(beta, outsider)
    for response in [
        client.get(f"/invitation/{invitation.token}/"),
        client.post(f"/invitation/{invitation.token}/"),
    ]:
        assert response.status_code == 404
        assert "Ce lien d'invitation n'existe pas pour ce collectif." in text(response)
    assert not Membership.objects.filter(user=outsider).exists()
    invitation.refresh_from_db()
    assert invitation.state == "pending"


def test_unknown_token_is_refused(browse, alpha, outsider):
    response = browse(alpha, outsider).get("/invitation/pas-un-vrai-jeton/")
    assert response.status_code == 404
    assert "Ce lien d'invitation n'existe pas pour ce collectif." in text(response)


def test_revoked_link_is_refused(browse, alpha, outsider):
    invitation = _invite(alpha, email="revoque@nowhere.test")
    coordinator = browse(alpha, alpha.coordinator)
    assert "revoque@nowhere.test" in text(coordinator.get("/invitations/"))
    response = coordinator.post(f"/invitations/{invitation.pk}/annuler/", {"next": "invitations"})
    assert response.status_code == 302 and response["Location"] == "/invitations/"
    assert "Invitation annulée." in text(coordinator.get("/invitations/"))

    client = browse(alpha, outsider)
    for response in [
        client.get(f"/invitation/{invitation.token}/"),
        client.post(f"/invitation/{invitation.token}/"),
    ]:
        assert response.status_code == 404
        assert "Cette invitation a été annulée par le collectif." in text(response)
    assert not Membership.objects.filter(user=outsider, collective=alpha.collective).exists()


def test_anonymous_visitor_is_asked_to_sign_up_or_log_in_then_accepts(browse, alpha):
    invitation = _invite(alpha, role=Role.PRODUCER)
    link = f"/invitation/{invitation.token}/"
    visitor = browse(alpha)

    page = visitor.get(link)
    assert page.status_code == 200
    assert f'href="/accounts/signup/?next={link}"' in text(page)
    assert f'href="/accounts/login/?next={link}"' in text(page)
    assert "Accepter l'invitation" not in text(page)

    refused = visitor.post(link)
    assert refused.status_code == 302
    assert refused["Location"] == f"/accounts/login/?next={link}"
    invitation.refresh_from_db()
    assert invitation.state == "pending"

    signed_up = visitor.post(
        f"/accounts/signup/?next={link}",
        {
            "email": "nouvelle@ferme.test",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "first_name": "Nina",
            "last_name": "Ferme",
            "next": link,
        },
    )
    assert signed_up.status_code == 302 and signed_up["Location"] == link
    assert visitor.post(link).status_code == 302
    membership = Membership.objects.get(user__email="nouvelle@ferme.test", collective=alpha.collective)
    assert membership.roles == [Role.PRODUCER] and membership.is_active


def test_plain_member_cannot_reach_invitations_nor_invite_a_coordinator(browse, alpha, beta):
    for cast in (alpha, beta):
        client = browse(cast, cast.member)
        assert client.get("/invitations/").status_code == 403
        response = client.post("/invitations/", {"email": "pirate@nowhere.test", "role": Role.COORDINATOR})
        assert response.status_code == 403
        assert "Invitations" not in text(client.get("/"))
    assert not Invitation.objects.exists()


def test_producer_and_staff_cannot_invite(browse, alpha):
    for person in (alpha.producer, alpha.staff):
        response = browse(alpha, person).post(
            "/invitations/", {"email": "x@nowhere.test", "role": Role.MEMBER}
        )
        assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_invitation_sent_to_an_address_is_only_for_that_account(browse, alpha, outsider):
    invitation = _invite(alpha, role=Role.COORDINATOR, email="chosen@elsewhere.test")
    client = browse(alpha, outsider)
    page = text(client.get(f"/invitation/{invitation.token}/"))
    assert "Cette invitation a été envoyée à chosen@elsewhere.test" in page
    assert "Accepter l'invitation" not in page

    refused = client.post(f"/invitation/{invitation.token}/")
    assert refused.status_code == 404
    assert "connectez-vous avec ce compte pour l'accepter" in text(refused)
    assert not Membership.objects.filter(user=outsider, collective=alpha.collective).exists()
    invitation.refresh_from_db()
    assert invitation.state == "pending"

    chosen = User.objects.create_user(email="Chosen@Elsewhere.test", password=PASSWORD)
    assert browse(alpha, chosen).post(f"/invitation/{invitation.token}/").status_code == 302
    assert Membership.objects.get(user=chosen, collective=alpha.collective).roles == [Role.COORDINATOR]


def test_a_coordinator_invitation_needs_an_address(browse, alpha):
    response = browse(alpha, alpha.coordinator).post("/invitations/", {"email": "", "role": Role.COORDINATOR})
    assert response.status_code == 400
    assert "Pour inviter un·e coordinateur·rice, indiquez son adresse e-mail." in text(response)
    assert not Invitation.objects.filter(collective=alpha.collective).exists()
