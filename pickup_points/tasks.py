"""Thin Celery tasks of the pickup-points app: ids in, one e-mail out."""

from __future__ import annotations

from celery import shared_task
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from marketplace.models import Collective, Invitation, PointProposal
from pickup_points import kit
from pickup_points.models import PickupPoint


@shared_task
def point_proposal_accepted_notify(*, proposal_id: int, invitation_id: int | None = None) -> None:
    """The place's contact: the collective accepted, here is the way in and the kit (PDF attached). Runs
    in the accepting collective's schema (the follow-up's), after the commit: the PDF is rendered here."""
    proposal = PointProposal.objects.select_related("accepted_by").filter(pk=proposal_id).first()
    if proposal is None or proposal.point_id is None:
        return
    collective: Collective = proposal.accepted_by  # type: ignore[assignment]
    point = PickupPoint.objects.get(pk=proposal.point_id)
    invitation = Invitation.objects.filter(pk=invitation_id).first() if invitation_id else None
    if invitation is not None:
        url = collective.base_url + reverse("invitation_accept", kwargs={"token": invitation.token})
    else:
        url = collective.base_url + reverse("point_edit", kwargs={"point_id": point.pk})
    context = {
        "proposal": proposal,
        "collective": collective,
        "point": point,
        "url": url,
        "invited": invitation is not None,
        "kit_url": collective.base_url + reverse("point_kit", kwargs={"point_id": point.pk}),
    }
    message = EmailMessage(
        subject=_("%(name)s accepte votre point de retrait : %(place)s")
        % {"name": collective.name, "place": point.name},
        body=render_to_string("pickup_points/email/proposal_accepted.txt", context),
        to=[proposal.contact_email],
    )
    message.attach(
        kit.kit_filename(point), kit.kit_pdf(collective=collective, point=point), "application/pdf"
    )
    message.send()
