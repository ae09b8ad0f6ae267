"""The living lab of a buying group, as its members, coordinators and suppliers meet it: proposals,
supports, comments, sessions, decisions and their reasons, the product request and the product it becomes,
the e-mails to the member who proposed; lab groups; and the other collective seeing none of it."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from marketplace import personal_data
from marketplace import services as marketplace_services
from marketplace.models import Membership, Role, User
from pickup_points import groups
from pickup_points.models import LabGroup, LabGroupMember
from producers.lab import services as lab
from producers.models import Outcome, Product, ProductRequest, Proposal, ProposalComment, ProposalSupport
from tests.conftest import PASSWORD, words
from tests.producers import factories


@pytest.fixture
def in_beta(beta):
    connection.set_tenant(beta.collective)
    return beta


@pytest.fixture
def coop(in_beta):
    return factories.producer("Coopérative des Coteaux", accounts=[in_beta.producer])


def _member(cast, email: str, first_name: str, last_name: str) -> User:
    user = User.objects.create_user(
        email=email, password=PASSWORD, first_name=first_name, last_name=last_name
    )
    Membership.objects.create(user=user, collective=cast.collective, roles=[Role.MEMBER])
    return user


def _session(cast, proposals, *, days: int = 7):
    return lab.lab_session_create(
        group=proposals[0].group if proposals else None,
        starts_at=timezone.now() + timedelta(days=days),
        place="Centre social, salle 2",
        proposals=proposals,
        created_by=cast.coordinator,
    )


def test_member_proposes_coordinator_decides_supplier_answers_member_reads_it(
    browse, in_beta, coop, django_capture_on_commit_callbacks
):
    member = browse(in_beta, in_beta.member)
    response = member.post(
        "/labo/propositions/nouvelle/",
        {
            "title": "Farine de pois chiches",
            "reason": "Pour les galettes, ça nourrit.",
            "target_price": "3,00",
            "target_unit": "le kg",
            "supplier": coop.pk,
        },
    )
    proposal = Proposal.objects.get(title="Farine de pois chiches")
    assert response.status_code == 302 and proposal.target_price == Decimal("3.00")
    assert "Farine de pois chiches" in words(member.get("/labo/"))

    coordinator = browse(in_beta, in_beta.coordinator)
    response = coordinator.post(
        "/labo/seances/nouvelle/",
        {"starts_at": "2031-03-14T18:00", "place": "Maison des solidarités", "proposals": [proposal.pk]},
    )
    assert response.status_code == 302, words(response)
    session_url = response["Location"]
    session_page = words(coordinator.get(session_url))
    assert "Maison des solidarités" in session_page and "Enregistrer la décision" in session_page

    prefix = f"p{proposal.pk}"
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator.post(
            f"{session_url}decider/",
            {
                "proposal_id": proposal.pk,
                f"{prefix}-proposal": proposal.pk,
                f"{prefix}-outcome": Outcome.ADOPTED,
                f"{prefix}-reason": "Douze voix pour, le prix visé est tenable.",
                f"{prefix}-producer": "",
            },
        )
    assert response.status_code == 302, words(response)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.ADOPTED
    request = ProductRequest.objects.get(proposal=proposal)
    assert request.producer == coop
    [decided] = mail.outbox
    assert decided.to == [in_beta.member.email]
    assert "adoptée" in decided.subject and "Douze voix pour" in decided.body

    page = words(member.get(f"/labo/propositions/{proposal.pk}/"))
    assert "adoptée" in page and "Douze voix pour, le prix visé est tenable." in page
    assert "demandé à Coopérative des Coteaux" in page

    supplier = browse(in_beta, in_beta.producer)
    requests_page = words(supplier.get(f"/producteurs/{coop.pk}/demandes-du-labo/"))
    assert "Farine de pois chiches" in requests_page and "Créer ce produit" in requests_page
    answer_url = f"/producteurs/{coop.pk}/demandes-du-labo/{request.pk}/"
    form_page = supplier.get(answer_url)
    assert 'value="Farine de pois chiches"' in form_page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = supplier.post(
            answer_url,
            {
                "name": "Farine de pois chiches (1 kg)",
                "unit": "bag",
                "price": "3,10",
                "vat_rate": "5.5",
                "is_active": "on",
                "stock": "40",
            },
        )
    assert response.status_code == 302, words(response)
    product = Product.objects.get(name="Farine de pois chiches (1 kg)")
    assert ProductRequest.objects.get(pk=request.pk).product == product
    assert len(mail.outbox) == 2 and "est devenue un produit" in mail.outbox[1].subject
    assert "Farine de pois chiches (1 kg)" in mail.outbox[1].body

    # A second answer (a double click) makes no second product.
    supplier.post(answer_url, {"name": "Autre", "unit": "bag", "price": "3,10", "vat_rate": "5.5"})
    assert Product.objects.filter(producer=coop).count() == 1

    assert "Choisi par le labo du 14 mars 2031" in words(member.get("/boutique/"))
    assert "Devenu un produit du catalogue" in words(member.get(f"/labo/propositions/{proposal.pk}/"))


def test_rejected_and_to_search_decisions_keep_their_reason_and_need_one(browse, in_beta):
    first = lab.proposal_create(author=in_beta.member, group=None, title="Soda", reason="Les enfants.")
    second = lab.proposal_create(author=in_beta.member, group=None, title="Sardines", reason="Ça se garde.")
    session = _session(in_beta, [first, second], days=-3)
    coordinator = browse(in_beta, in_beta.coordinator)
    response = coordinator.post(
        f"/labo/seances/{session.pk}/decider/",
        {
            "proposal_id": first.pk,
            f"p{first.pk}-proposal": first.pk,
            f"p{first.pk}-outcome": "rejected",
            f"p{first.pk}-reason": "",
        },
    )
    assert response.status_code == 400 and "Ce champ est obligatoire" in words(response)
    assert Proposal.objects.get(pk=first.pk).status == Proposal.Status.OPEN

    lab.lab_decision_record(
        session=session,
        proposal_id=first.pk,
        outcome=Outcome.REJECTED,
        reason="Hors de nos critères.",
        decided_by=in_beta.coordinator,
    )
    lab.lab_decision_record(
        session=session,
        proposal_id=second.pk,
        outcome=Outcome.TO_SEARCH,
        reason="Fournisseur à trouver.",
        decided_by=in_beta.coordinator,
    )
    page = words(browse(in_beta, in_beta.member).get("/labo/"))
    assert "Soda : écartée. Hors de nos critères." in page
    assert "Sardines : à rechercher. Fournisseur à trouver." in page
    # « à rechercher » stays on the table for the next session; an adoption needs a supplier.
    again = _session(in_beta, [Proposal.objects.get(pk=second.pk)])
    with pytest.raises(Exception, match="fournisseur"):
        lab.lab_decision_record(
            session=again,
            proposal_id=second.pk,
            outcome=Outcome.ADOPTED,
            reason="Trouvé.",
            decided_by=in_beta.coordinator,
        )


def test_a_support_counts_once_even_on_a_double_click(browse, in_beta):
    proposal = lab.proposal_create(author=in_beta.coordinator, group=None, title="Œufs", reason="Protéines.")
    member = browse(in_beta, in_beta.member)
    member.post(f"/labo/propositions/{proposal.pk}/soutenir/")
    member.post(f"/labo/propositions/{proposal.pk}/soutenir/")
    assert ProposalSupport.objects.filter(proposal=proposal).count() == 1
    assert "1 soutien" in words(member.get("/labo/"))
    member.post(f"/labo/propositions/{proposal.pk}/soutenir/", {"retirer": "1"})
    assert not ProposalSupport.objects.filter(proposal=proposal).exists()


@pytest.mark.django_db(transaction=True)
def test_two_supports_at_once_count_once(beta):
    with tenant_context(beta.collective):
        proposal = lab.proposal_create(author=beta.coordinator, group=None, title="Œufs", reason="Protéines.")
    barrier = threading.Barrier(4)
    errors = []

    def support():
        try:
            with tenant_context(beta.collective):
                barrier.wait(timeout=10)
                lab.proposal_support(proposal=proposal, user=beta.member)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=support) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with tenant_context(beta.collective):
        assert ProposalSupport.objects.filter(proposal=proposal).count() == 1


def test_comments_are_read_by_first_name_and_bad_input_loses_nothing(browse, in_beta):
    proposal = lab.proposal_create(author=in_beta.member, group=None, title="Lentilles", reason="Pas cher.")
    member = browse(in_beta, in_beta.member)
    response = member.post(f"/labo/propositions/{proposal.pk}/commenter/", {"text": ""})
    assert response.status_code == 400 and "Ce champ est obligatoire" in words(response)
    member.post(f"/labo/propositions/{proposal.pk}/commenter/", {"text": "Oui, les vertes du Puy !"})
    page = words(member.get(f"/labo/propositions/{proposal.pk}/"))
    assert "Oui, les vertes du Puy !" in page and "Maud" in page
    assert in_beta.member.last_name not in page  # members read first names only
    coordinator_page = words(browse(in_beta, in_beta.coordinator).get(f"/labo/propositions/{proposal.pk}/"))
    assert in_beta.member.last_name in coordinator_page and in_beta.member.email in coordinator_page
    response = member.post(
        "/labo/propositions/nouvelle/", {"title": "Miel", "reason": "", "target_price": "-2"}
    )
    assert response.status_code == 400
    page = words(response)
    assert "Miel" in response.content.decode() and "Ce champ est obligatoire" in page
    assert not Proposal.objects.filter(title="Miel").exists()


def test_only_members_and_coordinators_use_the_lab_and_only_coordinators_decide(browse, in_beta, coop):
    proposal = lab.proposal_create(author=in_beta.member, group=None, title="Œufs", reason="Protéines.")
    session = _session(in_beta, [proposal])
    for person in (in_beta.producer, in_beta.staff):
        assert browse(in_beta, person).get("/labo/").status_code == 403
        assert browse(in_beta, person).get(f"/labo/propositions/{proposal.pk}/").status_code == 403
    assert browse(in_beta).get("/labo/").status_code == 302  # to the sign-in page
    member = browse(in_beta, in_beta.member)
    assert member.get("/labo/seances/nouvelle/").status_code == 403
    response = member.post(
        f"/labo/seances/{session.pk}/decider/",
        {
            "proposal_id": proposal.pk,
            f"p{proposal.pk}-proposal": proposal.pk,
            f"p{proposal.pk}-outcome": "rejected",
            f"p{proposal.pk}-reason": "Non.",
        },
    )
    assert response.status_code == 403 and Proposal.objects.get(pk=proposal.pk).is_open
    assert "Enregistrer la décision" not in words(member.get(f"/labo/seances/{session.pk}/"))
    # A producer sees only the requests addressed to the producers they manage.
    other = factories.producer("Ferme voisine")
    assert (
        browse(in_beta, in_beta.producer).get(f"/producteurs/{other.pk}/demandes-du-labo/").status_code == 404
    )


def test_the_other_collective_sees_none_of_it(browse, in_beta, alpha):
    proposal = lab.proposal_create(author=in_beta.member, group=None, title="Pois cassés", reason="Soupe.")
    session = _session(in_beta, [proposal])
    connection.set_schema_to_public()
    alpha_coordinator = browse(alpha, alpha.coordinator)
    assert "Pois cassés" not in words(alpha_coordinator.get("/labo/"))
    assert alpha_coordinator.get(f"/labo/propositions/{proposal.pk}/").status_code == 404
    assert alpha_coordinator.get(f"/labo/seances/{session.pk}/").status_code == 404
    # Beta's own coordinator, on alpha's sub-domain, is nobody there.
    assert browse(alpha, in_beta.coordinator).get("/labo/").status_code == 403


def test_each_group_has_its_own_lab(browse, in_beta):
    izards = groups.lab_group_create(name="Les Izards", kind=LabGroup.Kind.SOCIAL_CENTRE, pickup_point=None)
    bagatelle = groups.lab_group_create(name="Bagatelle", kind=LabGroup.Kind.NEIGHBOURHOOD, pickup_point=None)
    neighbour = _member(in_beta, "ines@beta.test", "Inès", "Voisine")
    groups.lab_group_member_set(collective=in_beta.collective, user=in_beta.member, group=izards)
    groups.lab_group_member_set(collective=in_beta.collective, user=neighbour, group=bagatelle)
    member = browse(in_beta, in_beta.member)
    member.post("/labo/propositions/nouvelle/", {"title": "Poulet fermier", "reason": "Le dimanche."})
    proposal = Proposal.objects.get(title="Poulet fermier")
    assert proposal.group == izards
    assert "Le labo du groupe « Les Izards »" in words(member.get("/labo/"))

    other = browse(in_beta, neighbour)
    assert "Poulet fermier" not in words(other.get("/labo/"))
    assert other.get(f"/labo/propositions/{proposal.pk}/").status_code == 404
    coordinator = browse(in_beta, in_beta.coordinator)
    assert "Poulet fermier" in words(coordinator.get(f"/labo/?groupe={izards.pk}"))
    assert "Poulet fermier" not in words(coordinator.get(f"/labo/?groupe={bagatelle.pk}"))
    # A session of one group takes only that group's open proposals.
    with pytest.raises(Exception, match="Poulet fermier"):
        lab.lab_session_create(
            group=bagatelle,
            starts_at=timezone.now(),
            place="Ici",
            proposals=[proposal],
            created_by=in_beta.coordinator,
        )


def test_coordinators_see_numbers_per_group_in_constant_queries(
    browse, in_beta, django_assert_max_num_queries
):
    coordinator = browse(in_beta, in_beta.coordinator)
    coordinator.get("/groupes/")  # warm the session and the collective's caches

    def add_group(number: int) -> None:
        group = groups.lab_group_create(name=f"Groupe {number}", kind=LabGroup.Kind.SITE, pickup_point=None)
        person = _member(in_beta, f"g{number}@beta.test", f"Prénom{number}", "Nom")
        groups.lab_group_member_set(collective=in_beta.collective, user=person, group=group)
        lab.proposal_create(author=person, group=group, title=f"Produit {number}", reason="Parce que.")

    add_group(1)
    with django_assert_max_num_queries(30) as few:
        response = coordinator.get("/groupes/")
    for number in range(2, 8):
        add_group(number)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = coordinator.get("/groupes/")
    page = words(response)
    assert "Groupe 7 (site) — 1 0 1" in page
    assert "Sans groupe" in page
    for person in (in_beta.member, in_beta.producer, in_beta.staff):
        assert browse(in_beta, person).get("/groupes/").status_code == 403

    response = coordinator.post("/groupes/", {"name": "Groupe 1", "kind": "site"})
    assert response.status_code == 400 and "Un groupe porte déjà ce nom." in words(response)


def test_a_coopted_member_joins_the_coopters_group_and_a_coordinator_moves_them(browse, in_beta):
    izards = groups.lab_group_create(name="Les Izards", kind=LabGroup.Kind.SOCIAL_CENTRE, pickup_point=None)
    bagatelle = groups.lab_group_create(name="Bagatelle", kind=LabGroup.Kind.NEIGHBOURHOOD, pickup_point=None)
    groups.lab_group_member_set(collective=in_beta.collective, user=in_beta.member, group=izards)
    invitation = marketplace_services.invitation_create(
        collective=in_beta.collective, created_by=in_beta.member, role=Role.MEMBER
    )
    newcomer = User.objects.create_user(email="nouvelle@ailleurs.test", password=PASSWORD, first_name="Awa")
    marketplace_services.invitation_accept(
        collective=in_beta.collective, token=invitation.token, user=newcomer
    )
    connection.set_tenant(in_beta.collective)
    link = LabGroupMember.objects.get(user=newcomer)
    assert link.group == izards and link.coopted_by == in_beta.member

    membership = Membership.objects.get(collective=in_beta.collective, user=newcomer)
    coordinator = browse(in_beta, in_beta.coordinator)
    assert "Awa" in words(coordinator.get("/groupes/membres/"))
    response = coordinator.post(f"/groupes/membres/{membership.pk}/", {"group": bagatelle.pk}, follow=True)
    assert "est maintenant dans le groupe « Bagatelle »" in words(response)
    assert LabGroupMember.objects.get(user=newcomer).group == bagatelle
    member = browse(in_beta, in_beta.member)
    assert member.post(f"/groupes/membres/{membership.pk}/", {"group": izards.pk}).status_code == 403


def test_proposals_and_comments_are_in_the_data_export_and_go_with_the_account(in_beta):
    person = _member(in_beta, "rgpd@beta.test", "Rose", "Privée")
    kept = lab.proposal_create(author=person, group=None, title="Pain complet", reason="Mon idée à moi.")
    gone = lab.proposal_create(author=person, group=None, title="Confiture", reason="Pour le goûter.")
    lab.proposal_comment_add(proposal=kept, author=person, text="Je le répète : du pain.")
    session = _session(in_beta, [kept], days=-1)
    lab.lab_decision_record(
        session=session,
        proposal_id=kept.pk,
        outcome=Outcome.REJECTED,
        reason="Déjà au catalogue.",
        decided_by=in_beta.coordinator,
    )
    connection.set_schema_to_public()
    exported = json.loads(personal_data.member_data_json(user=person))
    dumped = json.dumps(exported, ensure_ascii=False)
    assert "Mon idée à moi." in dumped and "Je le répète : du pain." in dumped and "Confiture" in dumped

    personal_data.account_delete(user=person)
    connection.set_tenant(in_beta.collective)
    assert not Proposal.objects.filter(pk=gone.pk).exists()
    assert not ProposalComment.objects.filter(text__contains="du pain").exists()
    decided = Proposal.objects.get(pk=kept.pk)  # the lab's record stays, without the person's words
    assert decided.reason == ""
    assert User.objects.get(pk=decided.author_id).email != "rgpd@beta.test"
