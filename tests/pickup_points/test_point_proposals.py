"""The town-hall kit (issue 19, item 2): a mairie proposes a pickup point on the public site, the coordinators
of its department are told, one collective accepts it (once, even under a race), which creates the point with
the mairie's staff account, and the kit PDF (protocol, poster, QR code) is served to the point's team."""

from __future__ import annotations

import io
import re
import threading
from datetime import date, time

import pytest
import time_machine
from django.db import connection
from pypdf import PdfReader

from marketplace.models import Collective, Invitation, Membership, PointProposal, Role, User
from marketplace.personal_data import account_delete, member_data_export
from marketplace.point_proposals import point_proposal_submit, proposals_purge
from pickup_points import kit, proposals, services
from pickup_points.models import PickupPoint, PickupSlot, Weekday
from tests.conftest import PASSWORD, text
from tests.pickup_points.factories import enter

FORM = {
    "kind": "mairie",
    "place_name": "Salle du conseil de Layrac",
    "address": "1 place de la Mairie",
    "postcode": "47390",
    "town": "Layrac",
    "department": "47",
    "hours_text": "Le vendredi de 17 h à 19 h",
    "weekday": "4",
    "starts_at": "17:00",
    "ends_at": "19:00",
    "capacity": "5",
    "access_instructions": "Entrée par la cour, côté parking.",
    "rules": "Gel à l'entrée, une personne par foyer.",
    "contact_name": "Martine Secrétaire",
    "contact_role": "Secrétaire de mairie",
    "contact_email": "Secretariat@Mairie-Layrac.test",
    "contact_phone": "05 53 00 00 99",
}


def _fields(**changes) -> dict:
    """The form's values as the service takes them."""
    values = {**FORM, **changes}
    return {
        **values,
        "weekday": int(values["weekday"]) if values["weekday"] != "" else None,
        "starts_at": time.fromisoformat(values["starts_at"]) if values["starts_at"] else None,
        "ends_at": time.fromisoformat(values["ends_at"]) if values["ends_at"] else None,
        "capacity": int(values["capacity"]),
    }


def _pdf_text(content: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(content))
    return [" ".join(page.extract_text().replace("\xa0", " ").split()) for page in reader.pages]


# The public form ----------------------------------------------------------------------------------------


def test_the_directory_leads_to_the_form(browse, public_host):
    page = text(browse(public_host).get("/"))
    assert "proposer un point de retrait" in page
    assert 'href="/proposer-un-point-de-retrait/"' in page


def test_a_mairie_proposes_a_point_and_the_department_is_told(
    browse, public_host, alpha, beta, mailoutbox, django_capture_on_commit_callbacks
):
    client = browse(public_host)
    assert "Proposer un point de retrait" in text(client.get("/proposer-un-point-de-retrait/"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/proposer-un-point-de-retrait/", FORM)
    assert response.status_code == 302
    assert "Merci, votre proposition est envoyée" in text(client.get(response["Location"]))
    proposal = PointProposal.objects.get()
    assert proposal.contact_email == "secretariat@mairie-layrac.test"
    assert (proposal.weekday, proposal.starts_at, proposal.ends_at) == (Weekday.FRIDAY, time(17), time(19))
    by_recipient = {tuple(mail.to): mail for mail in mailoutbox}
    # alpha is in Lot-et-Garonne (47): its coordinator is told; beta (Nord, 59) is not.
    assert set(by_recipient) == {(alpha.coordinator.email,), ("secretariat@mairie-layrac.test",)}
    notice = by_recipient[(alpha.coordinator.email,)]
    assert "Salle du conseil de Layrac" in notice.subject
    assert "Le vendredi de 17 h à 19 h" in notice.body
    assert "http://alpha.localhost/points-proposes/" in notice.body.replace(":8000", "")
    receipt = by_recipient[("secretariat@mairie-layrac.test",)]
    assert "Nous avons bien reçu votre proposition" in receipt.body
    assert "Le collectif de votre département en est informé" in receipt.body
    assert beta.coordinator.email not in {address for mail in mailoutbox for address in mail.to}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"postcode": "4739"}, "Un code postal a 5 chiffres, par ex. 47000."),
        ({"department": "99"}, "département"),
        ({"capacity": "0"}, "Indiquez entre 1 et 500 foyers par créneau."),
        ({"starts_at": "19:00", "ends_at": "17:00"}, "L'heure de fin doit être après l'heure de début."),
        ({"ends_at": ""}, "Indiquez l'heure de début et l'heure de fin, ou aucune."),
        ({"contact_email": "pas-une-adresse"}, "Saisissez une adresse de courriel valide."),
        ({"place_name": ""}, "Ce champ est obligatoire."),
    ],
)
def test_bad_input_is_refused_in_french_and_nothing_is_written(
    browse, public_host, alpha, mailoutbox, django_capture_on_commit_callbacks, changes, message
):
    client = browse(public_host)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/proposer-un-point-de-retrait/", {**FORM, **changes})
    assert response.status_code == 400
    page = text(response)
    assert message in page
    assert 'value="Salle du conseil de Layrac"' in page or changes == {"place_name": ""}  # nothing lost
    assert PointProposal.objects.count() == 0
    assert mailoutbox == []


def test_the_form_is_rate_limited_per_address(browse, public_host, alpha, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "point_proposal": "2/h/ip"}
    client = browse(public_host)
    statuses = [client.post("/proposer-un-point-de-retrait/", FORM).status_code for _ in range(3)]
    assert statuses == [302, 302, 429]
    assert PointProposal.objects.count() == 2


# Coordinators: « Points proposés » ----------------------------------------------------------------------


def test_coordinators_of_the_department_see_the_proposal_with_its_contact(browse, alpha, beta):
    point_proposal_submit(**_fields())
    page = text(browse(alpha, alpha.coordinator).get("/points-proposes/"))
    assert "Salle du conseil de Layrac" in page
    assert "Martine Secrétaire (Secrétaire de mairie)" in page
    assert "secretariat@mairie-layrac.test" in page
    assert "Accepter" in page and "Décliner" in page
    # The other department's collective sees none of it.
    other = text(browse(beta, beta.coordinator).get("/points-proposes/"))
    assert "Layrac" not in other and "secretariat@" not in other
    assert "Aucun point proposé en ce moment." in other


def test_the_list_page_queries_stay_few(browse, alpha, django_assert_max_num_queries):
    for number in range(5):
        point_proposal_submit(**_fields(place_name=f"Salle {number}"))
    client = browse(alpha, alpha.coordinator)
    with django_assert_max_num_queries(12):
        response = client.get("/points-proposes/")
    assert text(response).count("Accepter") == 5


@pytest.mark.parametrize("who", ["member", "producer", "staff"])
def test_other_roles_are_refused(browse, alpha, who):
    proposal = point_proposal_submit(**_fields())
    client = browse(alpha, getattr(alpha, who))
    assert client.get("/points-proposes/").status_code == 403
    assert client.post(f"/points-proposes/{proposal.pk}/accepter/").status_code == 403
    assert client.post(f"/points-proposes/{proposal.pk}/decliner/").status_code == 403
    assert PointProposal.objects.get().accepted_at is None


def test_the_other_department_cannot_accept_nor_decline(browse, beta):
    proposal = point_proposal_submit(**_fields())
    client = browse(beta, beta.coordinator)
    assert client.post(f"/points-proposes/{proposal.pk}/accepter/").status_code == 404
    assert client.post(f"/points-proposes/{proposal.pk}/decliner/").status_code == 404
    proposal.refresh_from_db()
    assert proposal.accepted_at is None and proposal.declined_by == []
    enter(beta)
    assert not PickupPoint.objects.filter(name="Salle du conseil de Layrac").exists()


def test_declining_takes_it_off_the_list(browse, alpha):
    proposal = point_proposal_submit(**_fields())
    client = browse(alpha, alpha.coordinator)
    response = client.post(f"/points-proposes/{proposal.pk}/decliner/", follow=True)
    page = text(response)
    assert "Proposition déclinée" in page
    assert "Salle du conseil de Layrac" not in page
    proposal.refresh_from_db()
    assert proposal.is_open and proposal.declined_by == [alpha.collective.pk]


# Accepting ----------------------------------------------------------------------------------------------


def test_accepting_creates_the_point_and_invites_the_mairie(
    browse, alpha, mailoutbox, django_capture_on_commit_callbacks
):
    proposal = point_proposal_submit(**_fields())
    client = browse(alpha, alpha.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/points-proposes/{proposal.pk}/accepter/")
    assert response.status_code == 302
    enter(alpha)
    point = PickupPoint.objects.get(name="Salle du conseil de Layrac")
    assert response["Location"] == f"/points/{point.pk}/"
    assert (point.address, point.postcode, point.town) == ("1 place de la Mairie", "47390", "Layrac")
    assert point.access_instructions == "Entrée par la cour, côté parking."
    assert point.rules == "Gel à l'entrée, une personne par foyer."
    assert (point.slot_minutes, point.slot_capacity) == (15, 5)
    assert [(h.weekday, h.starts_at, h.ends_at) for h in point.opening_hours.all()] == [
        (Weekday.FRIDAY, time(17), time(19))
    ]
    assert "Le point « Salle du conseil de Layrac » est créé" in text(client.get(response["Location"]))
    proposal.refresh_from_db()
    assert (proposal.accepted_by, proposal.point_id) == (alpha.collective, point.pk)
    # The mairie has no account yet: an invitation scoped to the point, carried by one e-mail with the kit.
    invitation = Invitation.objects.get(email="secretariat@mairie-layrac.test")
    assert (invitation.role, invitation.scope) == (Role.POINT_STAFF, {"pickup_point": point.pk})
    (mail,) = mailoutbox
    assert mail.to == ["secretariat@mairie-layrac.test"]
    assert "Drive Alpha accepte votre point de retrait" in mail.subject
    link = re.search(r"http://[a-z0-9.:-]+(/invitation/[^/\s]+/)", mail.body).group(1)
    assert f"/points/{point.pk}/kit.pdf" in mail.body
    ((filename, content, mimetype),) = mail.attachments
    assert (filename, mimetype) == ("kit-point-de-retrait-salle-du-conseil-de-layrac.pdf", "application/pdf")
    assert "Remise sans contact" in " ".join(_pdf_text(content))

    # The secretary signs up and follows the link: staff of that point, and of that point only.
    secretary = User.objects.create_user(email="secretariat@mairie-layrac.test", password=PASSWORD)
    mairie = browse(alpha, secretary)
    assert mairie.post(link).status_code == 302
    membership = Membership.objects.get(user=secretary, collective=alpha.collective)
    assert membership.roles == [Role.POINT_STAFF]
    enter(alpha)
    other = services.point_create(name="Autre point", address="2 rue", town="Agen")
    assert list(point.staff.all()) == [secretary]
    listing = text(mairie.get("/points/"))
    assert "Salle du conseil de Layrac" in listing and "Autre point" not in listing
    assert mairie.get(f"/points/{other.pk}/").status_code == 404
    assert mairie.get(f"/points/{point.pk}/kit.pdf").status_code == 200


def test_an_existing_account_gets_the_role_at_once(
    browse, alpha, outsider, mailoutbox, django_capture_on_commit_callbacks
):
    proposal = point_proposal_submit(**_fields(contact_email=outsider.email))
    with django_capture_on_commit_callbacks(execute=True):
        browse(alpha, alpha.coordinator).post(f"/points-proposes/{proposal.pk}/accepter/")
    membership = Membership.objects.get(user=outsider, collective=alpha.collective)
    assert membership.roles == [Role.POINT_STAFF] and membership.is_active
    assert not Invitation.objects.filter(email=outsider.email).exists()
    enter(alpha)
    assert list(PickupPoint.objects.get(name="Salle du conseil de Layrac").staff.all()) == [outsider]
    (mail,) = mailoutbox
    assert "Votre compte Étal a déjà accès à votre point" in mail.body
    assert "Salle du conseil de Layrac" in text(browse(alpha, outsider).get("/points/"))


def test_a_second_acceptance_is_told_who_took_it(alpha, beta):
    proposal = point_proposal_submit(**_fields())
    enter(alpha)
    point = proposals.point_proposal_accept(
        collective=alpha.collective, proposal_id=proposal.pk, by=alpha.coordinator
    )
    # The same collective twice (a double click): the same point, nothing more.
    again = proposals.point_proposal_accept(
        collective=alpha.collective, proposal_id=proposal.pk, by=alpha.coordinator
    )
    assert again == point
    assert PickupPoint.objects.filter(name="Salle du conseil de Layrac").count() == 1
    Collective.objects.filter(pk=beta.collective.pk).update(department="47")
    beta.collective.refresh_from_db()
    enter(beta)
    with pytest.raises(proposals.ProposalRefused, match="déjà été acceptée par Drive Alpha"):
        proposals.point_proposal_accept(
            collective=beta.collective, proposal_id=proposal.pk, by=beta.coordinator
        )
    assert not PickupPoint.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_collectives_accepting_at_once_make_one_point(alpha, beta):
    """beta moves to Lot-et-Garonne: both coordinators press « Accepter » at the same moment."""
    Collective.objects.filter(pk=beta.collective.pk).update(department="47")
    beta.collective.refresh_from_db()
    proposal = point_proposal_submit(**_fields())
    casts = [alpha, beta]
    barrier = threading.Barrier(len(casts))
    outcomes, unexpected = {}, []

    def accept(cast):
        connection.set_tenant(cast.collective)
        try:
            barrier.wait()
            proposals.point_proposal_accept(
                collective=cast.collective, proposal_id=proposal.pk, by=cast.coordinator
            )
            outcomes[cast.collective.slug] = "accepted"
        except proposals.ProposalRefused as refused:
            outcomes[cast.collective.slug] = str(refused)
        except Exception as error:  # noqa: BLE001 - any other error is a failure of the test
            unexpected.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(cast,)) for cast in casts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert unexpected == []
    assert len(outcomes) == 2 and list(outcomes.values()).count("accepted") == 1
    proposal.refresh_from_db()
    winner = proposal.accepted_by
    loser = beta if winner.pk == alpha.collective.pk else alpha
    assert outcomes[loser.collective.slug] == f"Cette proposition a déjà été acceptée par {winner.name}."
    made = 0
    for cast in casts:
        connection.set_tenant(cast.collective)
        made += PickupPoint.objects.filter(name="Salle du conseil de Layrac").count()
    connection.set_schema_to_public()
    assert made == 1
    assert Invitation.objects.filter(email="secretariat@mairie-layrac.test").count() == 1


# The kit ------------------------------------------------------------------------------------------------


def _accepted_point(alpha) -> PickupPoint:
    proposal = point_proposal_submit(**_fields())
    enter(alpha)
    return proposals.point_proposal_accept(
        collective=alpha.collective, proposal_id=proposal.pk, by=alpha.coordinator
    )


@time_machine.travel("2026-03-02 09:00 +01:00", tick=False)  # a Monday
def test_the_kit_has_the_protocol_the_real_slots_and_the_next_distribution(browse, alpha, monkeypatch):
    point = _accepted_point(alpha)
    services.distribution_create(date=date(2026, 3, 6), points=[point])
    payloads = []
    real_make = kit.segno.make
    monkeypatch.setattr(
        kit.segno, "make", lambda payload, **kw: payloads.append(payload) or real_make(payload, **kw)
    )
    response = browse(alpha, alpha.coordinator).get(f"/points/{point.pk}/kit.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pages = _pdf_text(response.content)
    protocol, poster = " ".join(pages[:-1]), pages[-1]
    assert len(pages) >= 2
    for heading in ["Échelonner les arrivées par créneau", "Signalétique", "Remise sans contact", "Hygiène"]:
        assert heading in protocol
    assert "créneau de 15 minutes : 5 foyers au plus par créneau" in protocol
    assert "17:00 – 17:15" in protocol and "18:45 – 19:00" in protocol  # the point's real slots
    assert PickupSlot.objects.filter(point=point).count() == 8
    assert "Gel à l'entrée, une personne par foyer." in protocol
    assert "Drive Alpha" in poster and "Salle du conseil de Layrac" in poster
    assert "Vendredi 6 mars 2026, 17:00 – 19:00" in poster
    assert "http://alpha.localhost" in poster.replace(":8000", "")
    assert payloads == [alpha.collective.base_url + "/"]  # the QR code leads to the shop
    assert "Martine" not in poster  # the poster names no person


def test_without_a_distribution_the_poster_says_it_is_announced_on_the_site(browse, alpha):
    point = _accepted_point(alpha)
    pages = _pdf_text(browse(alpha, alpha.coordinator).get(f"/points/{point.pk}/kit.pdf").content)
    assert "Prochaine distribution annoncée sur le site" in pages[-1]
    assert "Les créneaux d'un vendredi de distribution" in " ".join(pages)


def test_the_kit_is_refused_to_others(browse, alpha, beta):
    point = _accepted_point(alpha)
    url = f"/points/{point.pk}/kit.pdf"
    assert browse(alpha, alpha.member).get(url).status_code == 403
    assert browse(alpha, alpha.producer).get(url).status_code == 403
    assert browse(alpha, alpha.staff).get(url).status_code == 404  # staff of another point
    assert browse(alpha).get(url).status_code == 302  # to sign in
    assert browse(beta, beta.coordinator).get(url).status_code == 404


# Personal data -------------------------------------------------------------------------------------------


def test_an_unanswered_proposal_is_deleted_after_the_retention_time(alpha, settings):
    settings.POINT_PROPOSAL_KEEP_DAYS = 90
    with time_machine.travel("2026-01-01 10:00 +01:00"):
        point_proposal_submit(**_fields())
    with time_machine.travel("2026-03-20 10:00 +01:00"):
        assert proposals_purge() == 0
    with time_machine.travel("2026-04-02 10:00 +01:00"):
        assert proposals_purge() == 1
    assert PointProposal.objects.count() == 0


def test_the_contact_exports_and_erases_their_proposals(alpha, outsider):
    point_proposal_submit(**_fields(contact_email=outsider.email))
    exported = member_data_export(user=outsider)
    assert exported["point_proposals"][0]["contact_phone"] == "05 53 00 00 99"
    account_delete(user=outsider)
    assert PointProposal.objects.count() == 0
