"""Lab groups across the territory (« groupes lab »): their services and selectors.

A group is a site, a neighbourhood or a social centre, with its usual pickup point and its own living lab
(producers.lab). A member belongs to one group at most; a member co-opted by a member joins the co-opter's
group; a coordinator can move a member. The groups page counts, per group, in a constant number of queries:
members, orders of the last closed sale, open proposals.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from marketplace.models import Collective, Membership, Role, User
from pickup_points.models import LabGroup, LabGroupMember, PickupPoint

# --------------------------------------------------------------------------------------------- services


@transaction.atomic
def lab_group_create(*, name: str, kind: str, pickup_point: PickupPoint | None) -> LabGroup:
    group = LabGroup(name=name.strip(), kind=kind, pickup_point=pickup_point)
    group.full_clean()
    group.save()
    return group


@transaction.atomic
def lab_group_member_set(
    *, collective: Collective, user: User, group: LabGroup | None, coopted_by: User | None = None
) -> LabGroupMember | None:
    """Put an active member of the collective in `group` (None: in no group). One row per account: moving
    replaces the group, and keeps who co-opted them unless told again."""
    if not Membership.objects.filter(collective=collective, user=user).exists():
        raise ValidationError(_("Cette personne n'est pas membre du collectif."))
    if group is None:
        LabGroupMember.objects.filter(user=user).delete()
        return None
    link, _created = LabGroupMember.objects.update_or_create(
        user=user, defaults={"group": group, **({"coopted_by": coopted_by} if coopted_by else {})}
    )
    return link


def lab_group_join_from_invitation(*, invitation, membership: Membership) -> None:
    """A member co-opted by a member joins the co-opter's group (a member already in a group stays there)."""
    if invitation.role != Role.MEMBER or invitation.created_by_id is None:
        return
    coopter_link = LabGroupMember.objects.filter(user_id=invitation.created_by_id).first()
    if coopter_link is None or LabGroupMember.objects.filter(user=membership.user).exists():
        return
    LabGroupMember.objects.create(
        group_id=coopter_link.group_id, user=membership.user, coopted_by_id=invitation.created_by_id
    )


# -------------------------------------------------------------------------------------------- selectors


def lab_group_of(user: User) -> LabGroup | None:
    link = LabGroupMember.objects.filter(user=user).select_related("group__pickup_point").first()
    return link.group if link else None


def lab_groups() -> list[LabGroup]:
    return list(LabGroup.objects.select_related("pickup_point"))


@dataclass(frozen=True)
class GroupFigures:
    group: LabGroup | None
    members: int
    orders_last_sale: int
    open_proposals: int


def _count(queryset) -> Subquery:
    return Coalesce(
        Subquery(queryset.order_by().values("group").annotate(n=Count("pk")).values("n")[:1]),
        Value(0),
        output_field=IntegerField(),
    )


def lab_groups_overview(*, collective: Collective) -> tuple[list[GroupFigures], object | None]:
    """Per group, and for members in no group: members, orders of the last closed sale, open proposals.
    Four queries whatever the number of groups (the last sale, the groups, the members and the proposals
    without a group).
    Returns the figures and the last closed sale (None before the first)."""
    Sale = apps.get_model("orders", "Sale")
    Order = apps.get_model("orders", "Order")
    Proposal = apps.get_model("producers", "Proposal")
    last_sale = Sale.objects.filter(closed_at__isnull=False).order_by("-closed_at", "-pk").first()
    ordered = (
        Order.objects.filter(sale=last_sale, status=Order.Status.PLACED).values("user_id")
        if last_sale
        else Order.objects.none().values("user_id")
    )
    groups = LabGroup.objects.select_related("pickup_point").annotate(
        n_members=_count(LabGroupMember.objects.filter(group=OuterRef("pk"))),
        n_orders=_count(LabGroupMember.objects.filter(group=OuterRef("pk"), user_id__in=ordered)),
        n_proposals=_count(Proposal.objects.filter(group=OuterRef("pk"), status__in=Proposal.OPEN_STATUSES)),
    )
    figures = [
        GroupFigures(
            group=group,
            members=group.n_members,
            orders_last_sale=group.n_orders,
            open_proposals=group.n_proposals,
        )
        for group in groups
    ]
    grouped = LabGroupMember.objects.values("user_id")
    members = Membership.objects.filter(
        collective=collective, status=Membership.Status.ACTIVE, roles__contains=[Role.MEMBER]
    )
    outside = members.exclude(user_id__in=grouped).aggregate(
        n_members=Count("pk"),
        n_orders=Count("pk", filter=Q(user_id__in=ordered)),
    )
    open_outside = Proposal.objects.filter(group__isnull=True, status__in=Proposal.OPEN_STATUSES)
    figures.append(
        GroupFigures(
            group=None,
            members=outside["n_members"],
            orders_last_sale=outside["n_orders"],
            open_proposals=open_outside.count(),
        )
    )
    return figures, last_sale


def lab_group_members(*, collective: Collective) -> list[tuple[Membership, LabGroup | None]]:
    """The collective's active members with their group, for the coordinators' « répartition » (2 queries)."""
    memberships = list(
        Membership.objects.filter(
            collective=collective, status=Membership.Status.ACTIVE, roles__contains=[Role.MEMBER]
        )
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "pk")
    )
    links = {
        link.user_id: link.group
        for link in LabGroupMember.objects.filter(
            user_id__in=[m.user_id for m in memberships]
        ).select_related("group")
    }
    return [(membership, links.get(membership.user_id)) for membership in memberships]
