"""Members' rights (RGPD): the registry of personal data providers, the export, leaving, deleting an account
and the retention purge.

marketplace cannot import the tenant apps (orders, pickup_points, producers import marketplace), so each of
them registers a `Provider` in its AppConfig.ready(): what it holds about an account in a collective's
schema, how to stop what is running (a sale still open), how to take the name off what accounting keeps,
and what it throws away after a while. marketplace runs the flow, one collective schema at a time, all in
one transaction (every schema lives in the same database).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_context

from marketplace import locks, point_proposals
from marketplace.models import Collective, Invitation, Membership, Role, User


class ErasureRefused(Exception):
    """Leaving or deleting cannot go ahead; the message says why and what to do, for the member."""


@dataclass(frozen=True)
class Provider:
    """What one app holds about an account, in the current collective's schema.

    export(user) → {section: [rows]}, JSON-serialisable (dates and decimals allowed);
    stop(user): cancel what is still running (raise ErasureRefused to refuse, with a message);
    erase(user, ghost): hand what accounting keeps to `ghost` (an erased account, possibly `user` itself
    once anonymised) and delete the rest;
    purge(now): delete what nobody needs any more (the retention job).
    position: providers run in ascending position, then in the order registered (one whose erasure reads
    links that another's erasure deletes goes first).
    """

    name: str
    export: Callable[[User], dict] | None = None
    stop: Callable[[User], None] | None = None
    erase: Callable[[User, User], None] | None = None
    purge: Callable[[datetime], dict] | None = None
    position: int = 100


_providers: dict[str, Provider] = {}


def provider_register(provider: Provider) -> None:
    """Called from AppConfig.ready(); registering the same name again replaces it (autoreload)."""
    _providers[provider.name] = provider


def providers() -> list[Provider]:
    return sorted(_providers.values(), key=lambda provider: provider.position)


def tenant_schemas() -> list[str]:
    return list(_tenant_collectives().values_list("schema_name", flat=True))


def _tenant_collectives():
    return Collective.objects.tenants().order_by("pk")


# Export (« Mes données ») -----------------------------------------------------------------------------------


def member_data_export(*, user: User) -> dict:
    """Everything the platform holds about `user`: the account, every membership and, for each collective
    the account belongs to, what each app keeps in that collective's schema. Reads only."""
    memberships = list(
        Membership.objects.filter(user=user)
        .exclude(collective__schema_name=get_public_schema_name())
        .select_related("collective")
        .order_by("collective__name")
    )
    from allauth.account.models import EmailAddress

    data: dict = {
        "about": _(
            "Données personnelles que la plateforme Étal conserve sur votre compte, au format JSON. "
            "Les montants sont en euros TTC, les dates en heure UTC (ISO 8601)."
        ),
        "generated_at": timezone.now(),
        "account": {
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "phone": user.phone,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
            "email_addresses": [
                {"email": address.email, "verified": address.verified, "primary": address.primary}
                for address in EmailAddress.objects.filter(user=user).order_by("pk")
            ],
        },
        "collectives": [],
        # « Proposer un point de retrait »: the places proposed with this address as their contact.
        "point_proposals": [
            {
                "place": proposal.place_name,
                "town": proposal.town,
                "contact_name": proposal.contact_name,
                "contact_role": proposal.contact_role,
                "contact_phone": proposal.contact_phone,
                "created_at": proposal.created_at,
                "accepted_at": proposal.accepted_at,
            }
            for proposal in point_proposals.proposals_of_email(user.email)
        ],
    }
    for membership in memberships:
        collective = membership.collective
        entry = {
            "collective": collective.name,
            "address": collective.base_url,
            "contact_email": collective.contact_email,
            "membership": {
                "roles": [str(Role(role).label) for role in membership.roles],
                "status": str(membership.get_status_display()),
                "since": membership.created_at,
            },
            "invitations_sent": [
                {
                    "email": invitation.email,
                    "role": str(invitation.get_role_display()),
                    "state": str(invitation.get_state_display()),
                    "created_at": invitation.created_at,
                }
                for invitation in Invitation.objects.filter(collective=collective, created_by=user)
            ],
            "invitations_received": [
                {
                    "role": str(invitation.get_role_display()),
                    "state": str(invitation.get_state_display()),
                    "created_at": invitation.created_at,
                    "accepted_at": invitation.accepted_at,
                }
                for invitation in Invitation.objects.filter(
                    Q(accepted_by=user) | Q(email__iexact=user.email), collective=collective
                )
            ],
        }
        with schema_context(collective.schema_name):
            for provider in providers():
                if provider.export is not None:
                    entry.update(provider.export(user))
        data["collectives"].append(entry)
    return data


def member_data_json(*, user: User) -> bytes:
    import json

    return json.dumps(
        member_data_export(user=user), cls=DjangoJSONEncoder, ensure_ascii=False, indent=2
    ).encode()


# Leaving a collective, deleting an account ------------------------------------------------------------------


def _coordinator_check(*, user: User, collectives: list[Collective]) -> None:
    """A collective is never left without a coordinator: the last one names a replacement first."""
    for collective in collectives:
        # Lock every coordinator row first, as membership_remove does: two coordinators leaving at once
        # cannot both go.
        coordinators = [
            membership
            for membership in locks.coordinators_lock(collective=collective)
            if membership.status == Membership.Status.ACTIVE
        ]
        if len(coordinators) == 1 and coordinators[0].user_id == user.pk:
            raise ErasureRefused(
                _(
                    "Vous êtes le·la dernier·e coordinateur·rice de « %(name)s » : nommez d'abord une autre "
                    "personne coordinatrice (page Membres), puis recommencez."
                )
                % {"name": collective.name}
            )


def _invitations_forget(invitations) -> None:
    """Drop the address from invitations sent to it; a pending one is revoked first, since an invitation
    without an address is a shared link anybody could use."""
    invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True).update(revoked_at=timezone.now())
    invitations.update(email="")


def _erase_in_collective(*, collective: Collective, user: User, ghost: User) -> None:
    with schema_context(collective.schema_name):
        for provider in providers():
            if provider.stop is not None:
                provider.stop(user)
        for provider in providers():
            if provider.erase is not None:
                provider.erase(user, ghost)
    invitations = Invitation.objects.filter(collective=collective)
    invitations.filter(created_by=user).update(created_by=ghost)
    invitations.filter(accepted_by=user).update(accepted_by=ghost)
    _invitations_forget(invitations.filter(email__iexact=user.email))
    Membership.objects.filter(invited_by=user, collective=collective).update(invited_by=ghost)


def _anonymise(user: User) -> None:
    user.email = f"deleted-{user.pk}@invalid"
    user.first_name = ""
    user.last_name = ""
    user.phone = ""
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.erased_at = timezone.now()
    user.set_unusable_password()  # changes the session hash: every open session of the account ends
    user.save()


def _ghost_create() -> User:
    """A fresh erased account standing for someone who left one collective (their orders there keep
    their amounts and lose the link to the person)."""
    import uuid

    ghost = get_user_model().objects.create_user(email=f"deleted-{uuid.uuid4().hex}@invalid")
    _anonymise(ghost)
    return ghost


@transaction.atomic
def membership_leave(*, collective: Collective, user: User) -> None:
    """The member leaves `collective`: a running order is cancelled (stock, slot, refund), what accounting
    keeps is handed to an anonymous account, the rest is deleted, and the membership goes."""
    _coordinator_check(user=user, collectives=[collective])  # coordinators first, then the membership
    membership = locks.membership_of_lock(collective=collective, user=user)
    if membership is None:
        raise ErasureRefused(_("Vous ne faites pas partie de ce collectif."))
    ghost = _ghost_create()
    _erase_in_collective(collective=collective, user=user, ghost=ghost)
    membership.delete()


@transaction.atomic
def account_delete(*, user: User) -> None:
    """Delete the account: in every collective, running orders are cancelled and what accounting keeps
    stays without a name; then the account row itself is anonymised (orders and payments still point at
    it, so it cannot be deleted) and can never sign in again."""
    user = locks.user_lock(user.pk)
    if user.is_erased:
        return
    member_of = list(Collective.objects.tenants().filter(memberships__user=user))
    _coordinator_check(user=user, collectives=member_of)
    # Every collective, not only current memberships: a member removed by a coordinator left orders there.
    for collective in _tenant_collectives():
        _erase_in_collective(collective=collective, user=user, ghost=user)
    Membership.objects.filter(user=user).delete()
    _invitations_forget(Invitation.objects.filter(email__iexact=user.email))
    from allauth.account.models import EmailAddress

    EmailAddress.objects.filter(user=user).delete()
    point_proposals.proposals_of_email(user.email).delete()
    _anonymise(user)


def refusal_message(error: ErasureRefused | ValidationError) -> str:
    return " ".join(error.messages) if isinstance(error, ValidationError) else str(error)


# Retention --------------------------------------------------------------------------------------------------


def invitations_purge(*, now: datetime | None = None) -> int:
    """Invitations never accepted (expired or revoked) are deleted INVITATION_VALID_DAYS after they
    expired: long enough for a coordinator to see « expirée » and send a new one."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.INVITATION_VALID_DAYS)
    deleted, _rows = Invitation.objects.filter(accepted_at__isnull=True, expires_at__lt=cutoff).delete()
    return deleted


def tenant_purge(*, now: datetime | None = None) -> dict:
    """The retention purge of every provider, in the current collective's schema."""
    now = now or timezone.now()
    done: dict = {}
    for provider in providers():
        if provider.purge is not None:
            done.update(provider.purge(now))
    return done
