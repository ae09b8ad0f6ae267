"""Reads of the living lab for its pages: one group's lab (a member's), or all of them (a coordinator's)."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone

from marketplace.models import User
from pickup_points.models import LabGroup
from producers.models import (
    LabDecision,
    LabSession,
    ProductRequest,
    Proposal,
    ProposalComment,
    ProposalSupport,
)

ALL_GROUPS = object()  # a coordinator's view: every group's lab


def _in_group(queryset: QuerySet, group) -> QuerySet:
    if group is ALL_GROUPS:
        return queryset
    return queryset.filter(group=group) if group is not None else queryset.filter(group__isnull=True)


def proposals(*, group, viewer: User, open_only: bool = False) -> QuerySet[Proposal]:
    found = (
        _in_group(Proposal.objects.all(), group)
        .select_related("author", "group", "supplier")
        .annotate(
            n_supports=Count("supports", distinct=True),
            n_comments=Count("comments", distinct=True),
            supported=Exists(ProposalSupport.objects.filter(proposal=OuterRef("pk"), user=viewer)),
        )
    )
    if open_only:
        found = found.filter(status__in=Proposal.OPEN_STATUSES)
    return found.order_by("-created_at", "-pk")


def proposal_detail(*, proposal_id: int, group, viewer: User) -> Proposal | None:
    return (
        proposals(group=group, viewer=viewer)
        .filter(pk=proposal_id)
        .prefetch_related(
            Prefetch("comments", queryset=ProposalComment.objects.select_related("author")),
            Prefetch("decisions", queryset=LabDecision.objects.select_related("session")),
        )
        .select_related("product_request__product", "product_request__producer")
        .first()
    )


def _sessions(group) -> QuerySet[LabSession]:
    return _in_group(LabSession.objects.all(), group).select_related("group")


def sessions_upcoming(*, group) -> list[LabSession]:
    return list(
        _sessions(group)
        .filter(starts_at__gte=timezone.now())
        .prefetch_related("proposals")
        .order_by("starts_at", "pk")
    )


def sessions_past(*, group, limit: int = 12) -> list[LabSession]:
    decisions = LabDecision.objects.select_related(
        "proposal", "product_request__product", "product_request__producer"
    )
    return list(
        _sessions(group)
        .filter(starts_at__lt=timezone.now())
        .prefetch_related(Prefetch("decisions", queryset=decisions))
        .order_by("-starts_at", "-pk")[:limit]
    )


def session_detail(*, session_id: int, group) -> LabSession | None:
    decisions = LabDecision.objects.select_related("proposal", "product_request__producer")
    return (
        _sessions(group)
        .filter(pk=session_id)
        .prefetch_related(
            Prefetch("proposals", queryset=Proposal.objects.select_related("author", "supplier")),
            Prefetch("decisions", queryset=decisions),
        )
        .first()
    )


def product_requests_for(*, producer_id: int) -> QuerySet[ProductRequest]:
    return (
        ProductRequest.objects.filter(producer_id=producer_id)
        .select_related("proposal__group", "decision__session", "product")
        .order_by("product_id", "-created_at", "-pk")
    )


def groups_for_filter() -> list[LabGroup]:
    return list(LabGroup.objects.order_by("name", "pk"))
