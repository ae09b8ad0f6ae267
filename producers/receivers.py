"""What the producers app does when something happens elsewhere."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from marketplace.home import FirstStep
from marketplace.models import Role
from marketplace.personal_data import Provider
from producers import agreements, applications, services
from producers.models import ImportJob, Producer, ProducerAccount, Proposal, ProposalComment, ProposalSupport


def link_account_on_invitation_accepted(sender, *, invitation, membership, **kwargs) -> None:
    """An invitation scoped to a producer links the account that accepted it to that producer.

    Sent inside the acceptance transaction, in the collective's schema; accepting twice links once.
    A producer deleted since the invitation was sent leaves the account with its role and nothing else.
    """
    producer_id = (invitation.scope or {}).get("producer")
    if invitation.role != Role.PRODUCER or not producer_id:
        return
    producer = Producer.objects.filter(pk=producer_id).first()
    if producer is not None:
        services.producer_account_link(producer=producer, user=membership.user)


# Members' rights (marketplace.personal_data) ----------------------------------------------------------------


def _export(user) -> dict:
    return {
        "producer_accounts": [
            link.producer.name
            for link in ProducerAccount.objects.filter(user=user).select_related("producer")
        ],
        "catalogue_imports": [
            {"file_name": job.file_name, "created_at": job.created_at, "applied_at": job.applied_at}
            for job in ImportJob.objects.filter(created_by=user).order_by("created_at")
        ],
        "lab_proposals": [
            {
                "title": proposal.title,
                "reason": proposal.reason,
                "target_price": proposal.target_price,
                "target_unit": proposal.target_unit,
                "supplier_hint": proposal.supplier_hint,
                "status": str(proposal.get_status_display()),
                "created_at": proposal.created_at,
            }
            for proposal in Proposal.objects.filter(author=user).order_by("created_at", "pk")
        ],
        "lab_comments": [
            {"proposal": comment.proposal.title, "text": comment.text, "created_at": comment.created_at}
            for comment in ProposalComment.objects.filter(author=user)
            .select_related("proposal")
            .order_by("created_at", "pk")
        ],
        "lab_supports": [
            support.proposal.title
            for support in ProposalSupport.objects.filter(user=user).select_related("proposal").order_by("pk")
        ],
        "producer_applications": applications.applications_export(user),
    }


def _erase(user, ghost) -> None:
    """The account no longer manages a producer; its uploaded catalogue files go at once."""
    ProducerAccount.objects.filter(user=user).delete()
    ImportJob.objects.filter(created_by=user).delete()
    # What the member wrote in the lab goes; a proposal the lab decided stays, as the lab's record (what it
    # decided, and the product it became), without its author's words nor name.
    ProposalComment.objects.filter(author=user).delete()
    ProposalSupport.objects.filter(user=user).delete()
    Proposal.objects.filter(author=user, status__in=Proposal.OPEN_STATUSES).delete()
    Proposal.objects.filter(author=user).update(author=ghost, reason="", supplier_hint="")
    applications.applications_erase(user)


def _purge(now: datetime) -> dict:
    """Uploaded catalogue files are only needed between the preview and the confirmation; a refused
    producer application is kept a while after the answer (a question, a second try), then deleted."""
    cutoff = now - timedelta(days=settings.IMPORT_JOB_RETENTION_DAYS)
    deleted, _rows = ImportJob.objects.filter(created_at__lt=cutoff).delete()
    return {"import_jobs": deleted, "producer_applications_refused": applications.applications_purge(now)}


personal_data = Provider(name="producers", export=_export, erase=_erase, purge=_purge)


def home_agreements_ending(request) -> dict:
    """The collective's home page (marketplace.home), for coordinators only: price agreements ending soon."""
    membership = getattr(request, "membership", None)
    if not membership or not membership.has_role(Role.COORDINATOR):
        return {}
    return {"agreements_ending": list(agreements.agreements_ending())}


def first_steps(request) -> list[FirstStep]:
    """« Premiers pas » (marketplace.home): a producer (a supplier, for a buying group)."""
    label = _("Ajouter un fournisseur") if request.tenant.is_buying_group else _("Ajouter un producteur")
    return [
        FirstStep(position=10, label=label, url=reverse("producer_create"), done=Producer.objects.exists())
    ]
