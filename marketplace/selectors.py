"""Reads for views and templates."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet
from django_tenants.utils import get_public_schema_name

from marketplace import rows
from marketplace.models import Collective, Invitation, Membership, Role, User, search_normalize


def collective_is_public(collective: Collective | None) -> bool:
    return collective is None or collective.schema_name == get_public_schema_name()


def membership_for_request(request) -> Membership | None:
    """The signed-in account's membership of the current collective: one plain statement, read on every
    signed-in request of a collective (the ORM's query building was most of its cost)."""
    tenant = getattr(request, "tenant", None)
    if collective_is_public(tenant) or not request.user.is_authenticated:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {rows.columns(Membership, 'm')} FROM {Membership._meta.db_table} m "  # noqa: S608
            "WHERE user_id = %s AND collective_id = %s",
            [request.user.pk, tenant.pk],
        )
        row = cursor.fetchone()
    return None if row is None else rows.instance(Membership, row)


def collectives_listed(*, query: str = "") -> QuerySet[Collective]:
    # A suspended collective's site only says so: not listed, as a deleted one (restorable) is not.
    collectives = Collective.objects.tenants().filter(
        is_listed=True, deleted_at__isnull=True, suspended_at__isnull=True
    )
    words = search_normalize(query).split()
    for word in words:
        # Whole words for department numbers ("47" must not find "147"), word starts otherwise ("agen").
        collectives = collectives.filter(search_text__contains=f" {word} " if word.isdigit() else f" {word}")
    return collectives.order_by("name")


def memberships_of_user(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("collective")
        .exclude(collective__schema_name=get_public_schema_name())
        .order_by("collective__name")
    )


def memberships_of_collective(*, collective: Collective, status: str | None = None) -> QuerySet[Membership]:
    memberships = Membership.objects.filter(collective=collective).select_related("user", "invited_by")
    if status:
        memberships = memberships.filter(status=status)
    return memberships.order_by("user__last_name", "user__first_name", "user__email")


def invitations_of_collective(
    *, collective: Collective, created_by: User | None = None
) -> QuerySet[Invitation]:
    invitations = Invitation.objects.filter(collective=collective).select_related("created_by", "accepted_by")
    if created_by is not None:
        invitations = invitations.filter(created_by=created_by)
    return invitations.order_by("-created_at")


def collectives_order_figures(*, schema_names: list[str]) -> dict[str, tuple[int, object]]:
    """{schema: (orders count, last order's creation)} for the operator's list of collectives: ONE query
    for the whole page (a UNION ALL over the page's schemas), exact and read when the page is shown; the
    orders table of one collective is small (thousands of rows), an index-only count is cheap."""
    from django.apps import apps
    from django.db import connection

    if not schema_names:
        return {}
    table = connection.ops.quote_name(apps.get_model("orders", "Order")._meta.db_table)
    # Identifiers quoted by the backend; schema names come from Collective rows (validated by django-tenants).
    parts = [
        f"SELECT %s, count(*), max(created_at) FROM {connection.ops.quote_name(schema)}.{table}"  # noqa: S608
        for schema in schema_names
    ]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), schema_names)
        return {schema: (count, last) for schema, count, last in cursor.fetchall()}


def collective_has_invited(*, collective: Collective, user: User) -> bool:
    """« Inviter des membres » is done once an invitation was made or someone else joined the collective."""
    return (
        Invitation.objects.filter(collective=collective).exists()
        or Membership.objects.filter(collective=collective).exclude(user=user).exists()
    )


def _active_holders(collective: Collective, role: str) -> QuerySet[Membership]:
    """Active memberships of active accounts holding `role` in the collective, in a stable order."""
    return Membership.objects.filter(
        collective=collective, status=Membership.Status.ACTIVE, roles__contains=[role], user__is_active=True
    ).order_by("user_id")


def coordinator_emails(*, collective: Collective) -> list[str]:
    """The addresses of the collective's active coordinators that still receive mail (an address that
    bounced is left out), in a stable order: whom the collective's notices go to."""
    return list(
        _active_holders(collective, Role.COORDINATOR)
        .filter(user__email_undeliverable_at__isnull=True)
        .values_list("user__email", flat=True)
    )


def active_member_ids(*, collective: Collective) -> list[int]:
    """Accounts holding the member role, active in the collective (accounts live in the public schema)."""
    return list(_active_holders(collective, Role.MEMBER).values_list("user_id", flat=True))
