"""Members' rights pages (privacy, legal notice, « Mes données ») and the retention job."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from marketplace import tasks
from marketplace.models import Collective, Invitation, Membership
from producers import services as producer_services
from producers.models import ImportJob
from tests.conftest import PASSWORD, text, words


@pytest.mark.parametrize("where", ["public", "alpha"])
def test_every_footer_links_privacy_and_legal_notice(browse, alpha, public_host, where):
    host = public_host if where == "public" else alpha
    for user in [None, alpha.member]:
        page = text(browse(host, user).get("/"))
        footer = page.split('<footer class="site-footer">', 1)[1]
        assert 'href="/confidentialite/"' in footer and "Données personnelles" in footer
        assert 'href="/mentions-legales/"' in footer and "Mentions légales" in footer
        assert ('href="/mes-donnees/"' in footer) is (user is not None)
    assert browse(host).get("/confidentialite/").status_code == 200
    assert browse(host).get("/mentions-legales/").status_code == 200


def test_a_collectives_privacy_page_names_it_and_its_contact(browse, alpha, beta):
    Collective.objects.filter(pk=alpha.collective.pk).update(contact_email="bonjour@drive-alpha.test")
    page = words(browse(alpha).get("/confidentialite/"))
    assert "Le responsable du traitement est le collectif « Drive Alpha »" in page
    assert "bonjour@drive-alpha.test" in page
    assert "dix ans" in page and "Membre supprimé·e" in page
    assert "une invitation jamais acceptée est effacée 28 jours après son envoi" in page
    assert "effacés après 7 jours" in page and "chaque nuit" in page
    other = words(browse(beta).get("/confidentialite/"))
    assert "Groupement Beta" in other
    assert "Drive Alpha" not in other and "bonjour@drive-alpha.test" not in other


def test_without_a_contact_the_privacy_page_points_to_the_operator(browse, alpha, settings):
    settings.PLATFORM_OPERATOR_EMAIL = "rgpd@operateur.test"
    page = words(browse(alpha).get("/confidentialite/"))
    assert "n'a pas encore indiqué d'adresse de contact" in page and "rgpd@operateur.test" in page


def test_the_legal_notice_names_the_operator_from_the_settings(browse, public_host, settings):
    settings.PLATFORM_OPERATOR_NAME = "Association Les Étals du Sud"
    settings.PLATFORM_OPERATOR_EMAIL = "contact@etals-du-sud.test"
    settings.PLATFORM_HOST_NAME = "Hébergeur Coopératif"
    page = words(browse(public_host).get("/mentions-legales/"))
    assert "Association Les Étals du Sud" in page and "contact@etals-du-sud.test" in page
    assert "Hébergeur Coopératif" in page


def test_my_data_page_offers_the_download_leaving_and_deleting(browse, alpha, public_host):
    page = words(browse(public_host, alpha.member).get("/mes-donnees/"))
    assert "Télécharger (JSON)" in page and "Quitter « Drive Alpha »" in page
    assert "Supprimer mon compte" in page
    assert browse(public_host).get("/mes-donnees/").status_code == 302  # signed in only


# Retention ----------------------------------------------------------------------------------------------


def _invitation(collective, created_by, *, sent_days_ago: int, **fields) -> Invitation:
    created = timezone.now() - timedelta(days=sent_days_ago)
    return Invitation.objects.create(
        collective=collective,
        created_by=created_by,
        email=f"invite-{sent_days_ago}@x.test",
        token=f"token-{collective.slug}-{sent_days_ago}-{fields.get('accepted_at') is not None}",
        created_at=created,
        expires_at=created + timedelta(days=14),
        **fields,
    )


def test_the_retention_job_purges_old_invitations_imports_and_sessions(alpha, beta, settings):
    assert settings.INVITATION_VALID_DAYS == 14
    old = _invitation(alpha.collective, alpha.coordinator, sent_days_ago=40)
    old_beta = _invitation(beta.collective, beta.coordinator, sent_days_ago=29)
    recently_expired = _invitation(alpha.collective, alpha.coordinator, sent_days_ago=20)
    fresh = _invitation(alpha.collective, alpha.coordinator, sent_days_ago=1)
    accepted = _invitation(
        alpha.collective, alpha.coordinator, sent_days_ago=60, accepted_at=timezone.now() - timedelta(days=59)
    )
    with schema_context(alpha.collective.schema_name):
        farm = producer_services.producer_create(name="Ferme du Pech", town="Nérac")
        stale = producer_services.import_job_create(
            producer=farm, created_by=alpha.producer, file_name="vieux.csv", content=b"nom;prix\n"
        )
        ImportJob.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(days=8))
        recent = ImportJob.objects.create(
            producer=farm,
            created_by=alpha.producer,
            file_name="recent.csv",
            file_format="csv",
            content=b"nom;prix\n",
            created_at=timezone.now() - timedelta(days=6),
        )
    Session.objects.create(
        session_key="expired-session", session_data="", expire_date=timezone.now() - timedelta(days=1)
    )
    Session.objects.create(
        session_key="current-session", session_data="", expire_date=timezone.now() + timedelta(days=1)
    )

    tasks.data_retention_run()  # eager in tests: the per-collective tasks run at once

    remaining = set(Invitation.objects.values_list("pk", flat=True))
    assert old.pk not in remaining and old_beta.pk not in remaining
    assert {recently_expired.pk, fresh.pk, accepted.pk} <= remaining
    with schema_context(alpha.collective.schema_name):
        assert list(ImportJob.objects.values_list("pk", flat=True)) == [recent.pk]
    assert set(Session.objects.values_list("session_key", flat=True)) >= {"current-session"}
    assert not Session.objects.filter(session_key="expired-session").exists()


def test_the_retention_job_is_on_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["data-retention"]
    assert entry["task"] == "marketplace.tasks.data_retention_run"
    connection.set_schema_to_public()


# Deleting the account: what the public schema holds ----------------------------------------------------


def test_a_deleted_account_leaves_no_address_in_invitations_and_cannot_be_invited_through_them(
    browse, alpha, beta
):
    from marketplace import services

    sent_to_her = services.invitation_create(
        collective=beta.collective, created_by=beta.coordinator, role="member", email=alpha.member.email
    )
    Membership.objects.create(collective=beta.collective, user=alpha.member, roles=["member"])
    her_cooptation = services.invitation_create(  # beta lets members co-opt
        collective=beta.collective, created_by=alpha.member, role="member", email="ami@x.test"
    )

    response = browse(alpha, alpha.member).post("/mes-donnees/supprimer-mon-compte/", {"password": PASSWORD})
    assert response.status_code == 302

    sent_to_her.refresh_from_db()
    assert sent_to_her.email == "" and sent_to_her.state == "revoked"  # not a shared link now
    page = text(browse(beta, beta.coordinator).get("/invitations/"))
    assert "member@alpha.test" not in page and "Maud" not in page
    her_cooptation.refresh_from_db()
    assert her_cooptation.email == "ami@x.test" and her_cooptation.created_by.is_erased
