"""The only place that takes row locks in the shared app (accounts, memberships, invitations), in this order:

    account → invitation → coordinators' memberships (ascending pk) → one membership
    shared products' central stocks (ascending pk), taken after a collective's sale offers (orders.locks)

Memberships of a collective's coordinators are locked together before any change of roles or removal, so
that two coordinators demoting or removing each other cannot both succeed and leave nobody in charge.
"""

from __future__ import annotations

from marketplace.models import Collective, Invitation, Membership, Role, SharedProduct, User


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
