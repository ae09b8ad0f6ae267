"""« Proposer un point de retrait »: a town hall (or a social centre, an association) offers a place on the
public site; the coordinators of every active collective of its department are told, and the first one to
accept gets the point (pickup_points.proposals, which creates it in that collective's schema).

This module holds the public side: submitting, declining, the reads and the retention purge. The contact is
personal data: only the coordinators of a collective of the proposal's department read it.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from marketplace import followups, locks
from marketplace.models import Collective, Membership, PointProposal, Role, User


def _department_collectives(department: str) -> QuerySet[Collective]:
    return Collective.objects.active_tenants().filter(department=department)


@transaction.atomic
def point_proposal_submit(
    *,
    kind: str,
    place_name: str,
    address: str,
    postcode: str,
    town: str,
    department: str,
    hours_text: str,
    capacity: int,
    contact_name: str,
    contact_role: str,
    contact_email: str,
    contact_phone: str,
    weekday: int | None = None,
    starts_at: time | None = None,
    ends_at: time | None = None,
    access_instructions: str = "",
    rules: str = "",
) -> PointProposal:
    """Record the proposal and, in the same transaction, one e-mail per collective of its department (to
    its coordinators) and the receipt to the person who proposed it."""
    proposal = PointProposal(
        kind=kind,
        place_name=place_name.strip(),
        address=address.strip(),
        postcode=postcode.strip(),
        town=town.strip(),
        department=department.strip().upper(),
        hours_text=hours_text.strip(),
        weekday=weekday,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        access_instructions=access_instructions.strip(),
        rules=rules.strip(),
        contact_name=contact_name.strip(),
        contact_role=contact_role.strip(),
        contact_email=contact_email.strip().lower(),
        contact_phone=contact_phone.strip(),
    )
    proposal.full_clean()
    proposal.save()
    for collective_id in _department_collectives(proposal.department).values_list("pk", flat=True):
        followups.followup_add(
            "marketplace.tasks.point_proposal_notify", proposal_id=proposal.pk, collective_id=collective_id
        )
    followups.followup_add("marketplace.tasks.point_proposal_receipt", proposal_id=proposal.pk)
    return proposal


def proposals_open_for(*, collective: Collective) -> QuerySet[PointProposal]:
    """What « Points proposés » lists: the open proposals of the collective's department it has not
    declined, newest first. A collective without a department sees none."""
    if not collective.department:
        return PointProposal.objects.none()
    return PointProposal.objects.filter(department=collective.department, accepted_at__isnull=True).exclude(
        declined_by__contains=[collective.pk]
    )


def proposals_accepted_by(*, collective: Collective) -> QuerySet[PointProposal]:
    return PointProposal.objects.filter(accepted_by=collective).order_by("-accepted_at")


def proposal_visible_to(*, collective: Collective, proposal_id: int) -> PointProposal | None:
    """A proposal this collective may act on: of its department (open, or accepted by itself)."""
    if not collective.department:
        return None
    return (
        PointProposal.objects.filter(pk=proposal_id, department=collective.department)
        .filter(Q(accepted_at__isnull=True) | Q(accepted_by=collective))
        .select_related("accepted_by")
        .first()
    )


@transaction.atomic
def point_proposal_decline(*, collective: Collective, proposal_id: int) -> PointProposal | None:
    """The collective says no: the proposal leaves its list and stays open for the department's others."""
    proposal = locks.point_proposal_lock(proposal_id)
    if proposal is None or proposal.department != collective.department:
        return None
    if collective.pk not in proposal.declined_by:
        proposal.declined_by = [*proposal.declined_by, collective.pk]
        proposal.save(update_fields=["declined_by"])
    return proposal


# Members' rights --------------------------------------------------------------------------------------------


def proposals_purge(*, now: datetime | None = None) -> int:
    """Delete, with their contact, the proposals nobody accepted within POINT_PROPOSAL_KEEP_DAYS and the
    accepted ones as long after their acceptance."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.POINT_PROPOSAL_KEEP_DAYS)
    deleted, _rows = PointProposal.objects.filter(
        Q(accepted_at__isnull=True, created_at__lt=cutoff) | Q(accepted_at__lt=cutoff)
    ).delete()
    return deleted


def proposals_of_email(email: str) -> QuerySet[PointProposal]:
    return PointProposal.objects.filter(contact_email__iexact=email).order_by("created_at")


def point_staff_role_grant(*, collective: Collective, user: User, granted_by: User) -> Membership:
    """The point's contact already has an account: it gets the pickup-point staff role in the collective
    (added to the roles it may hold there already). Inside the acceptance's transaction."""
    membership = locks.membership_of_lock(collective=collective, user=user)
    if membership is None:
        membership = Membership(collective=collective, user=user, roles=[], invited_by=granted_by)
    roles = {*membership.roles, Role.POINT_STAFF}
    membership.roles = [role for role in Role.values if role in roles]
    membership.status = Membership.Status.ACTIVE
    membership.full_clean(validate_unique=False)
    membership.save()
    return membership
