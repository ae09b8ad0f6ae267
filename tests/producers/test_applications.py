"""« Rejoindre comme producteur »: the application form, the coordinators' decision (once), the account
linked, the other collective seeing nothing, the applicant's data in the export, erasure and retention."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.utils import timezone

from marketplace import personal_data
from marketplace.models import Invitation, Membership, Role, User
from producers import applications
from producers.models import Producer, ProducerAccount, ProducerApplication
from tests.conftest import words

FORM = {
    "farm_name": "La Ferme du Pech",
    "contact_name": "Jeanne Pech",
    "email": "jeanne@pech.test",
    "phone": "06 12 34 56 78",
    "town": "Villeneuve-sur-Lot",
    "department": "47",
    "categories": ["vegetables", "eggs"],
    "products": "Légumes de saison et œufs de plein air.",
    "labels": ["ab", "bienvenue"],
    "selling_today": "Marché de Villeneuve le mardi.",
    "message": "Je livre le jeudi.",
}


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """`with sent():` runs the follow-ups recorded inside (the e-mails), as the commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _applications(collective) -> list[ProducerApplication]:
    connection.set_tenant(collective)
    found = list(ProducerApplication.objects.order_by("pk"))
    connection.set_schema_to_public()
    return found


def _submit(collective, **overrides) -> ProducerApplication:
    connection.set_tenant(collective)
    application, _created = applications.application_submit(**{**FORM, **overrides})
    connection.set_schema_to_public()
    return application


def test_a_visitor_applies_and_coordinators_and_applicant_get_an_email(browse, alpha, sent):
    home = browse(alpha).get("/")
    assert "Rejoindre comme producteur" in words(home)
    client = browse(alpha)
    assert "Votre ferme" in words(client.get("/rejoindre-comme-producteur/"))

    with sent():
        response = client.post("/rejoindre-comme-producteur/", FORM, follow=True)

    assert "La candidature de La Ferme du Pech est enregistrée" in words(response)
    [application] = _applications(alpha.collective)
    assert (application.farm_name, application.town, application.department) == (
        "La Ferme du Pech",
        "Villeneuve-sur-Lot",
        "47",
    )
    assert application.categories == ["vegetables", "eggs"] and application.labels == ["ab", "bienvenue"]
    assert application.status == "pending" and application.user is None
    to_coordinators = [m for m in mail.outbox if alpha.coordinator.email in m.to]
    assert len(to_coordinators) == 1
    assert "La Ferme du Pech" in to_coordinators[0].subject
    assert f"/candidatures/{application.pk}/" in to_coordinators[0].body
    [receipt] = [m for m in mail.outbox if m.to == ["jeanne@pech.test"]]
    assert "bien reçu la candidature de La Ferme du Pech" in receipt.body


def test_bad_input_says_what_is_wrong_and_keeps_what_was_typed(browse, alpha):
    bad = {**FORM, "email": "pas-une-adresse", "department": "99", "categories": []}

    response = browse(alpha).post("/rejoindre-comme-producteur/", bad)

    assert response.status_code == 400
    page = words(response)
    assert "Cochez au moins une famille de produits." in page
    assert "Numéro de département" in page
    assert "La Ferme du Pech" in response.content.decode() and "Marché de Villeneuve" in page
    assert _applications(alpha.collective) == [] and mail.outbox == []


def test_a_double_submit_records_one_application_and_sends_once(browse, alpha, sent):
    client = browse(alpha)
    with sent():
        client.post("/rejoindre-comme-producteur/", FORM)
        client.post("/rejoindre-comme-producteur/", {**FORM, "email": "JEANNE@pech.test"})

    assert len(_applications(alpha.collective)) == 1
    assert len([m for m in mail.outbox if m.to == ["jeanne@pech.test"]]) == 1


def test_the_application_form_is_rate_limited(browse, alpha, settings):
    settings.PUBLIC_FORM_RATE_LIMIT = "2/h/ip"
    client = browse(alpha)
    for number in range(2):
        client.post("/rejoindre-comme-producteur/", {**FORM, "farm_name": f"Ferme {number}"})

    response = client.post("/rejoindre-comme-producteur/", {**FORM, "farm_name": "Ferme de trop"})

    assert response.status_code == 429
    assert len(_applications(alpha.collective)) == 2


def test_accepting_links_an_existing_account_who_then_sees_their_back_office(browse, alpha, outsider, sent):
    application = _submit(alpha.collective, email=outsider.email)
    coordinator = browse(alpha, alpha.coordinator)
    listing = coordinator.get("/candidatures/")
    assert "La Ferme du Pech" in words(listing) and "à examiner" in words(listing)

    with sent():
        response = coordinator.post(f"/candidatures/{application.pk}/accepter/", follow=True)

    assert "La Ferme du Pech est maintenant producteur du collectif" in words(response)
    membership = Membership.objects.get(collective=alpha.collective, user=outsider)
    assert membership.is_active and Role.PRODUCER in membership.roles
    connection.set_tenant(alpha.collective)
    producer = Producer.objects.get(name="La Ferme du Pech")
    assert producer.town == "Villeneuve-sur-Lot" and "Agriculture biologique (AB)" in producer.labels
    assert ProducerAccount.objects.filter(producer=producer, user=outsider).exists()
    connection.set_schema_to_public()
    [welcome] = [m for m in mail.outbox if m.to == [outsider.email]]
    assert "Bienvenue parmi les producteurs" in welcome.subject
    assert "/producteurs/" in welcome.body and "/mon-catalogue/" in welcome.body

    back_office = browse(alpha, outsider).get("/", follow=True)
    assert "Mon catalogue" in words(back_office)
    catalogue = browse(alpha, outsider).get("/producteurs/", follow=True)
    assert "La Ferme du Pech" in words(catalogue)


def test_accepting_someone_without_an_account_sends_an_invitation_that_links_it(browse, alpha, sent):
    application = _submit(alpha.collective, email="nouvelle@pech.test")

    with sent():
        browse(alpha, alpha.coordinator).post(f"/candidatures/{application.pk}/accepter/")

    invitation = Invitation.objects.get(collective=alpha.collective, email="nouvelle@pech.test")
    assert invitation.role == Role.PRODUCER
    [welcome] = [m for m in mail.outbox if "Bienvenue parmi" in m.subject]
    assert f"/invitation/{invitation.token}/" in welcome.body
    assert [m.subject for m in mail.outbox if m.to == ["nouvelle@pech.test"]] == [welcome.subject]
    newcomer = User.objects.create_user(email="nouvelle@pech.test", password="x")
    browse(alpha, newcomer).post(f"/invitation/{invitation.token}/")
    connection.set_tenant(alpha.collective)
    assert ProducerAccount.objects.filter(producer__name="La Ferme du Pech", user=newcomer).exists()


def test_refusing_needs_a_reason_sends_it_and_decides_once(browse, alpha, sent):
    application = _submit(alpha.collective)
    coordinator = browse(alpha, alpha.coordinator)

    empty = coordinator.post(f"/candidatures/{application.pk}/refuser/", {"reason": " "})
    assert empty.status_code == 400 and "Dites en quelques mots pourquoi" in words(empty)

    with sent():
        coordinator.post(
            f"/candidatures/{application.pk}/refuser/", {"reason": "Nous avons déjà un maraîcher."}
        )
    again = coordinator.post(f"/candidatures/{application.pk}/accepter/", follow=True)

    assert "Cette candidature a déjà été refusée." in words(again)
    [refused] = _applications(alpha.collective)
    assert refused.status == "refused" and refused.refusal_reason == "Nous avons déjà un maraîcher."
    [answer] = [m for m in mail.outbox if m.to == ["jeanne@pech.test"] and "Nous avons déjà" in m.body]
    assert "ne peuvent pas l'accepter" in answer.body
    connection.set_tenant(alpha.collective)
    assert not Producer.objects.filter(name="La Ferme du Pech").exists()


def test_only_coordinators_decide_and_the_other_collective_sees_nothing(browse, alpha, beta):
    application = _submit(alpha.collective)
    for person in [alpha.member, alpha.producer, alpha.staff]:
        client = browse(alpha, person)
        assert client.get("/candidatures/").status_code == 403
        assert client.post(f"/candidatures/{application.pk}/accepter/").status_code == 403
    assert browse(alpha).get("/candidatures/").status_code == 302  # a visitor: sign in first

    other = browse(beta, beta.coordinator)
    assert "La Ferme du Pech" not in words(other.get("/candidatures/"))
    assert other.get(f"/candidatures/{application.pk}/").status_code == 404
    assert other.post(f"/candidatures/{application.pk}/accepter/").status_code == 404
    assert other.post(f"/candidatures/{application.pk}/refuser/", {"reason": "non"}).status_code == 404
    assert _applications(alpha.collective)[0].status == "pending"
    assert _applications(beta.collective) == []


@pytest.mark.django_db(transaction=True)
def test_two_coordinators_accepting_at_once_make_one_producer(alpha):
    second = User.objects.create_user(email="coord2@alpha.test", password="x")
    Membership.objects.create(collective=alpha.collective, user=second, roles=[Role.COORDINATOR])
    application = _submit(alpha.collective)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def accept(coordinator: User) -> None:
        try:
            connection.set_tenant(alpha.collective)
            barrier.wait()
            applications.application_accept(
                collective=alpha.collective, application_id=application.pk, by=coordinator
            )
            outcomes.append("accepted")
        except applications.AlreadyDecided:
            outcomes.append("already")
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(who,)) for who in [alpha.coordinator, second]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["accepted", "already"]
    connection.set_tenant(alpha.collective)
    assert Producer.objects.filter(name="La Ferme du Pech").count() == 1
    assert len([m for m in mail.outbox if "Bienvenue parmi" in m.subject]) == 1


def test_the_application_is_in_the_export_and_goes_with_the_account(alpha, outsider):
    Membership.objects.create(collective=alpha.collective, user=outsider, roles=[Role.MEMBER])
    _submit(alpha.collective, email=outsider.email)

    export = personal_data.member_data_export(user=outsider)
    [entry] = [c for c in export["collectives"] if c["collective"] == alpha.collective.name]
    assert entry["producer_applications"][0]["farm_name"] == "La Ferme du Pech"

    personal_data.account_delete(user=outsider)
    assert _applications(alpha.collective) == []


def test_refused_applications_are_deleted_after_the_retention_time(alpha, settings):
    settings.PRODUCER_APPLICATION_REFUSED_RETENTION_DAYS = 90
    refused = _submit(alpha.collective)
    pending = _submit(alpha.collective, farm_name="Le Verger d'Anna", email="anna@verger.test")
    connection.set_tenant(alpha.collective)
    applications.application_refuse(application_id=refused.pk, by=alpha.coordinator, reason="Trop loin.")

    assert (
        personal_data.tenant_purge(now=timezone.now() + timedelta(days=89))["producer_applications_refused"]
        == 0
    )
    with time_machine.travel(timezone.now() + timedelta(days=91)):
        assert personal_data.tenant_purge()["producer_applications_refused"] == 1
    assert list(ProducerApplication.objects.values_list("pk", flat=True)) == [pending.pk]
