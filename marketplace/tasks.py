"""Thin Celery tasks: they take ids, load, and send one e-mail each."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.core.management import call_command
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from marketplace import archives, followups, personal_data, point_proposals, selectors, spares
from marketplace.followups import beat_tick_claim
from marketplace.health import beat_tick_record
from marketplace.models import Collective, Invitation, Membership, PointProposal, Role


def _tenant_url(collective, name: str, **kwargs) -> str:
    return collective.base_url + reverse(name, urlconf=settings.ROOT_URLCONF, kwargs=kwargs)


@shared_task
def invitation_send(*, invitation_id: int) -> None:
    invitation = Invitation.objects.select_related("collective", "created_by").get(pk=invitation_id)
    context = {
        "invitation": invitation,
        "collective": invitation.collective,
        "url": _tenant_url(invitation.collective, "invitation_accept", token=invitation.token),
    }
    send_mail(
        subject=_("Invitation à rejoindre %(name)s") % {"name": invitation.collective.name},
        message=render_to_string("marketplace/email/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


@shared_task
def join_request_notify(*, membership_id: int) -> None:
    membership = Membership.objects.select_related("collective", "user").get(pk=membership_id)
    coordinators = Membership.objects.filter(
        collective=membership.collective, status=Membership.Status.ACTIVE, roles__contains=[Role.COORDINATOR]
    ).select_related("user")
    recipients = [coordinator.user.email for coordinator in coordinators]
    if not recipients:
        return
    context = {
        "membership": membership,
        "collective": membership.collective,
        "url": _tenant_url(membership.collective, "members"),
    }
    send_mail(
        subject=_("Nouvelle demande d'adhésion à %(name)s") % {"name": membership.collective.name},
        message=render_to_string("marketplace/email/join_request.txt", context),
        from_email=None,
        recipient_list=recipients,
    )


@shared_task
def membership_approved_notify(*, membership_id: int) -> None:
    membership = Membership.objects.select_related("collective", "user").get(pk=membership_id)
    context = {
        "membership": membership,
        "collective": membership.collective,
        "url": membership.collective.base_url,
    }
    send_mail(
        subject=_("Bienvenue dans %(name)s") % {"name": membership.collective.name},
        message=render_to_string("marketplace/email/membership_approved.txt", context),
        from_email=None,
        recipient_list=[membership.user.email],
    )


# Retention (members' rights): beat → this fan-out in the public schema → one task per collective ----------


@shared_task
def data_retention_run() -> None:
    personal_data.invitations_purge()
    point_proposals.proposals_purge()
    call_command("clearsessions")
    for schema_name in personal_data.tenant_schemas():
        data_retention_tenant.delay(schema_name=schema_name)


@shared_task
def data_retention_tenant(*, schema_name: str) -> dict:
    with schema_context(schema_name):
        return personal_data.tenant_purge()


# Follow-ups (marketplace.followups): one task per queue, each with that queue's time limits ----------------


@shared_task(
    soft_time_limit=settings.FOLLOWUP_TIME_LIMITS["celery"][0],
    time_limit=settings.FOLLOWUP_TIME_LIMITS["celery"][1],
)
def followup_run(*, followup_id: int) -> bool:
    return followups.followup_run(followup_id=followup_id)


@shared_task(
    soft_time_limit=settings.FOLLOWUP_TIME_LIMITS["sheets"][0],
    time_limit=settings.FOLLOWUP_TIME_LIMITS["sheets"][1],
)
def followup_render(*, followup_id: int) -> bool:
    return followups.followup_run(followup_id=followup_id)


@shared_task
def followups_sweep() -> int:
    """Beat, every minute. Two beats by mistake, or a tick redelivered, sweep once per minute."""
    beat_tick_record()  # the operator's health page: the clock is alive
    if not beat_tick_claim("followups-sweep"):
        return 0
    return followups.followups_sweep()


# Deleted collectives (marketplace.archives): beat, every night, purges those past their grace period -----


@shared_task
def collectives_purge() -> list[str]:
    return archives.collectives_purge_due()


# Spare schemas (marketplace.spares): after each new collective (follow-up) and every ten minutes (beat) ---


@shared_task
def spares_fill() -> dict[str, int]:
    return spares.spares_fill()


# « Proposer un point de retrait » (marketplace.point_proposals) ---------------------------------------------


@shared_task
def point_proposal_notify(*, proposal_id: int, collective_id: int) -> None:
    """The coordinators of one collective of the proposal's department: a place is offered."""
    proposal = PointProposal.objects.filter(pk=proposal_id).first()
    collective = Collective.objects.filter(pk=collective_id).first()
    if proposal is None or collective is None or not proposal.is_open:
        return  # accepted by another collective (or deleted) before this e-mail left: nothing to announce
    recipients = selectors.coordinator_emails(collective=collective)
    if not recipients:
        return
    context = {
        "proposal": proposal,
        "collective": collective,
        "url": _tenant_url(collective, "point_proposals"),
    }
    send_mail(
        subject=_("Un point de retrait vous est proposé : %(place)s (%(town)s)")
        % {"place": proposal.place_name, "town": proposal.town},
        message=render_to_string("marketplace/email/point_proposal_notify.txt", context),
        from_email=None,
        recipient_list=recipients,
    )


@shared_task
def point_proposal_receipt(*, proposal_id: int) -> None:
    """The person who proposed the place: what was received and what happens next."""
    proposal = PointProposal.objects.filter(pk=proposal_id).first()
    if proposal is None:
        return
    told = Collective.objects.active_tenants().filter(department=proposal.department).count()
    send_mail(
        subject=_("Votre proposition de point de retrait : %(place)s") % {"place": proposal.place_name},
        message=render_to_string(
            "marketplace/email/point_proposal_receipt.txt",
            {"proposal": proposal, "told": told, "proposal_keep_days": settings.POINT_PROPOSAL_KEEP_DAYS},
        ),
        from_email=None,
        recipient_list=[proposal.contact_email],
    )
