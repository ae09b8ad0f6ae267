"""Coordinators invite the accounts of a producer; accepting the invitation links the account, once."""

from django.core import mail
from django.db import connection
from django_tenants.utils import tenant_context

from marketplace import services as marketplace_services
from marketplace.models import Invitation, Membership, Role, User
from producers import services
from producers.models import ProducerAccount
from tests.conftest import PASSWORD
from tests.producers import factories
from tests.producers.conftest import back_to
from tests.producers.conftest import read as text


def test_an_invited_farmer_manages_the_farm_after_accepting(
    browse, in_alpha, neighbour, outsider, django_capture_on_commit_callbacks
):
    coordinator = browse(in_alpha, in_alpha.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator.post(f"/producteurs/{neighbour.pk}/comptes/", {"email": outsider.email})
    assert response.status_code == 200
    assert f"Invitation envoyée à {outsider.email}." in text(response)
    invitation = Invitation.objects.get(email=outsider.email)
    assert invitation.role == Role.PRODUCER
    assert invitation.scope == {"producer": neighbour.pk} and invitation.scope_label == "Chèvrerie du Pech"
    assert "Producteur·rice / fournisseur (Chèvrerie du Pech)" in text(coordinator.get("/invitations/"))
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [outsider.email]

    farmer = browse(in_alpha, outsider)
    assert farmer.post(f"/invitation/{invitation.token}/").status_code == 302
    response = farmer.get("/producteurs/")
    assert response.status_code == 302 and response["Location"] == f"/producteurs/{neighbour.pk}/"
    assert "Mon catalogue" in text(farmer.get("/"))
    back_to(in_alpha.collective)
    assert list(neighbour.accounts.all()) == [outsider]


def test_accepting_links_once(in_alpha, neighbour, outsider):
    invitation = marketplace_services.invitation_create(
        collective=in_alpha.collective,
        created_by=in_alpha.coordinator,
        role=Role.PRODUCER,
        scope={"producer": neighbour.pk},
        scope_label=neighbour.name,
    )
    connection.set_schema_to_public()
    membership = marketplace_services.invitation_accept(
        collective=in_alpha.collective, token=invitation.token, user=outsider
    )
    from marketplace.signals import invitation_accepted

    with tenant_context(in_alpha.collective):
        invitation_accepted.send(sender=Invitation, invitation=invitation, membership=membership)
        assert ProducerAccount.objects.filter(producer=neighbour, user=outsider).count() == 1


def test_an_existing_producer_of_the_collective_is_linked_at_once(browse, in_alpha, farm, neighbour):
    response = browse(in_alpha, in_alpha.coordinator).post(
        f"/producteurs/{neighbour.pk}/comptes/", {"email": in_alpha.producer.email.upper()}
    )
    assert response.status_code == 302
    back_to(in_alpha.collective)
    assert in_alpha.producer in neighbour.accounts.all()
    assert not Invitation.objects.exists()
    page = text(browse(in_alpha, in_alpha.producer).get("/producteurs/"))
    assert "Ferme des Coteaux" in page and "Chèvrerie du Pech" in page


def test_a_shareable_link_without_address(browse, in_alpha, neighbour):
    response = browse(in_alpha, in_alpha.coordinator).post(
        f"/producteurs/{neighbour.pk}/comptes/", {"email": ""}
    )
    invitation = Invitation.objects.get()
    assert f"/invitation/{invitation.token}/" in text(response)
    assert "lien à partager" in text(
        browse(in_alpha, in_alpha.coordinator).get(f"/producteurs/{neighbour.pk}/comptes/")
    )


def test_removing_an_account_takes_the_farm_away_from_it(browse, in_alpha, farm, tomatoes):
    coordinator = browse(in_alpha, in_alpha.coordinator)
    assert "Pierre Producer-alpha" in text(coordinator.get(f"/producteurs/{farm.pk}/comptes/"))
    response = coordinator.post(f"/producteurs/{farm.pk}/comptes/{in_alpha.producer.pk}/retirer/")
    assert response.status_code == 302
    assert (
        coordinator.post(f"/producteurs/{farm.pk}/comptes/{in_alpha.producer.pk}/retirer/").status_code == 404
    )
    assert browse(in_alpha, in_alpha.producer).get(f"/produits/{tomatoes.pk}/").status_code == 404


def test_one_account_manages_farms_in_two_collectives(browse, in_alpha, beta, farm):
    Membership.objects.create(user=in_alpha.producer, collective=beta.collective, roles=[Role.PRODUCER])
    with tenant_context(beta.collective):
        supplier = factories.producer("Coopérative de Beta", accounts=[in_alpha.producer])
        factories.product(supplier, "Lentilles vertes")
    on_alpha = text(browse(in_alpha, in_alpha.producer).get(f"/producteurs/{farm.pk}/"))
    on_beta = text(browse(beta, in_alpha.producer).get(f"/producteurs/{supplier.pk}/"))
    assert "Ferme des Coteaux" in on_alpha and "Lentilles" not in on_alpha
    assert "Coopérative de Beta" in on_beta and "Lentilles vertes" in on_beta
    # Each farm only on its own collective's site.
    on_beta = text(browse(beta, in_alpha.producer).get("/producteurs/", follow=True))
    assert "Coopérative de Beta" in on_beta and "Ferme des Coteaux" not in on_beta


def test_deleting_an_account_never_reaches_into_collective_schemas(db, outsider):
    """Accounts live in the public schema: deleting one must not look for tenant tables there."""
    connection.set_schema_to_public()
    User.objects.create_user(email="ephemere@nowhere.test", password=PASSWORD).delete()
    assert not User.objects.filter(email="ephemere@nowhere.test").exists()


def test_the_receiver_ignores_other_invitations(in_alpha, neighbour, outsider):
    invitation = Invitation(role=Role.POINT_STAFF, scope={"pickup_point": 1})
    from producers.receivers import link_account_on_invitation_accepted

    membership = Membership(user=outsider, collective=in_alpha.collective, roles=[Role.POINT_STAFF])
    link_account_on_invitation_accepted(Invitation, invitation=invitation, membership=membership)
    link_account_on_invitation_accepted(
        Invitation,
        invitation=Invitation(role=Role.PRODUCER, scope={"producer": 999999}),
        membership=membership,
    )
    assert not ProducerAccount.objects.exists()
    services.producer_account_link(producer=neighbour, user=outsider)
    services.producer_account_link(producer=neighbour, user=outsider)
    assert ProducerAccount.objects.count() == 1


def test_an_address_too_long_for_an_invitation_is_said_on_the_field(browse, in_alpha, neighbour):
    # Valid for the form (320 characters at most) but not for the invitation (254): said, never a 500.
    email = f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * 63}.{'e' * 50}.fr"
    response = browse(in_alpha, in_alpha.coordinator).post(
        f"/producteurs/{neighbour.pk}/comptes/", {"email": email}
    )
    assert response.status_code == 400
    assert "254 caractères" in text(response)
    assert not Invitation.objects.exists()
