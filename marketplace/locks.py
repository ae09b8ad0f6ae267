"""The only place that takes row locks in the shared app (accounts, memberships, invitations), in this order:

    account → invitation → coordinators' memberships (ascending pk) → one membership
    a proposed pickup point (point_proposal_lock) → then, in the accepting collective, as above
    and, anywhere in a transaction, the collective's clock (advisory; its exclusive holder never waits)
    a spare schema being taken or dropped (advisory, try: never waits)
    shared products' central stocks (ascending pk), taken after a collective's sale offers (orders.locks)

Memberships of a collective's coordinators are locked together before any change of roles or removal, so
that two coordinators demoting or removing each other cannot both succeed and leave nobody in charge.
"""

from __future__ import annotations

from django.db import connection

from marketplace.models import Collective, Invitation, Membership, PointProposal, Role, SharedProduct, User


def shared_products_lock(ids) -> dict[int, SharedProduct]:
    """The central stocks of these shared products, locked in ascending pk order (one statement), so that
    orders in two collectives drawing on the same products never deadlock nor both take the last unit."""
    found = SharedProduct.objects.select_for_update().filter(pk__in=sorted(set(ids))).order_by("pk")
    return {shared.pk: shared for shared in found.only("pk", "name", "stock", "reserved")}


def membership_lock(*, collective: Collective, membership_id: int) -> Membership | None:
    return Membership.objects.select_for_update().filter(collective=collective, pk=membership_id).first()


def membership_of_lock(*, collective: Collective, user: User) -> Membership | None:
    return Membership.objects.select_for_update().filter(collective=collective, user=user).first()


def coordinators_lock(*, collective: Collective) -> list[Membership]:
    return list(
        Membership.objects.select_for_update()
        .filter(collective=collective, roles__contains=[Role.COORDINATOR])
        .order_by("pk")
    )


def invitation_lock(*, invitation_id: int, collective: Collective | None = None) -> Invitation | None:
    found = Invitation.objects.select_for_update().filter(pk=invitation_id)
    if collective is not None:
        found = found.filter(collective=collective)
    return found.first()


def user_lock(user_id: int) -> User:
    """An account being deleted: nothing else changes it meanwhile."""
    return User.objects.select_for_update().get(pk=user_id)


# The clock's due-index (marketplace.clock) ----------------------------------------------------------------
# Transaction-level advisory locks, one key per collective. A service that changes what the clock looks at
# takes it shared (side by side with other services), the collective's job takes it exclusive to recompute,
# but only if free (try): it never waits, so it can be in no cycle (a service may take its share anywhere in
# its transaction), and a collective whose services are busy simply stays due for the next tick.


def _clock_key(schema_name: str) -> str:
    return f"{schema_name}:clock"


def clock_share(schema_name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock_shared(hashtext(%s))", [_clock_key(schema_name)])


def _try_advisory(key: str) -> bool:
    """A transaction-level advisory lock on `key`, taken only if free (never waits)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [key])
        return bool(cursor.fetchone()[0])


def clock_try_lock(schema_name: str) -> bool:
    return _try_advisory(_clock_key(schema_name))


def spare_claim(schema_name: str) -> bool:
    """A spare schema (marketplace.spares) claimed until the transaction ends, if no other transaction has
    it (try: a creation never waits for another, it takes the next spare or clones)."""
    return _try_advisory(f"{schema_name}:spare")


def point_proposal_lock(proposal_id: int) -> PointProposal | None:
    """A proposed pickup point being accepted or declined: two collectives accepting at once take turns,
    and the second one finds it accepted. Taken before anything of the accepting collective's schema."""
    return PointProposal.objects.select_for_update().filter(pk=proposal_id).first()
