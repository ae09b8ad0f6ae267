"""Accepting a proposed pickup point (marketplace.point_proposals) in a collective: the first collective of
the department to accept gets it, exactly once. Accepting creates the point in this collective's schema, with
the place's address, rules, hours and capacity, and gives the place's contact the staff role on that point:
their existing account at once, or an invitation scoped to the point. The contact is then e-mailed their
link and the printable kit (pickup_points.kit), by a follow-up: the PDF is rendered after the commit."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace import followups, point_proposals
from marketplace import locks as marketplace_locks
from marketplace import services as marketplace_services
from marketplace.models import Collective, PointProposal, Role, User
from pickup_points import services
from pickup_points.models import PickupPoint


class ProposalRefused(Exception):
    """The proposal cannot be accepted here; the message says why, for the coordinator."""


def _already_taken(proposal: PointProposal) -> ProposalRefused:
    name = proposal.accepted_by.name if proposal.accepted_by else _("un autre collectif")
    return ProposalRefused(_("Cette proposition a déjà été acceptée par %(name)s.") % {"name": name})


@transaction.atomic
def point_proposal_accept(*, collective: Collective, proposal_id: int, by: User) -> PickupPoint:
    """Accept the proposal for `collective` (whose schema the connection is in). A second acceptance, by
    another collective at the same moment, waits on the proposal's lock and is refused; the same collective
    twice (a double click) gets its point back."""
    proposal = marketplace_locks.point_proposal_lock(proposal_id)
    if proposal is None or not collective.department or proposal.department != collective.department:
        raise ProposalRefused(_("Cette proposition n'existe plus."))
    if proposal.accepted_at is not None:
        if proposal.accepted_by_id == collective.pk:
            return PickupPoint.objects.get(pk=proposal.point_id)
        raise _already_taken(proposal)
    try:
        point = services.point_create(
            name=proposal.place_name,
            address=proposal.address,
            postcode=proposal.postcode,
            town=proposal.town,
            access_instructions=proposal.access_instructions,
            rules=proposal.rules,
            slot_minutes=15,
            slot_capacity=proposal.capacity,
        )
        if proposal.weekday is not None and proposal.starts_at and proposal.ends_at:
            services.point_update(
                point=point, hours=[(proposal.weekday, proposal.starts_at, proposal.ends_at)]
            )
    except ValidationError as error:
        raise ProposalRefused(" ".join(error.messages)) from error
    invitation = None
    user = User.objects.filter(email__iexact=proposal.contact_email, erased_at__isnull=True).first()
    if user is not None:
        point_proposals.point_staff_role_grant(collective=collective, user=user, granted_by=by)
        point.staff.add(user)
    else:
        invitation = marketplace_services.invitation_create(
            collective=collective,
            created_by=by,
            role=Role.POINT_STAFF,
            email=proposal.contact_email,
            scope={"pickup_point": point.pk},
            scope_label=point.name,
            send=False,  # the acceptance's own e-mail carries the link, with the kit
        )
    proposal.accepted_by = collective
    proposal.accepted_at = timezone.now()
    proposal.point_id = point.pk
    proposal.save(update_fields=["accepted_by", "accepted_at", "point_id"])
    followups.followup_add(
        "pickup_points.tasks.point_proposal_accepted_notify",
        proposal_id=proposal.pk,
        invitation_id=invitation.pk if invitation else None,
    )
    return point
