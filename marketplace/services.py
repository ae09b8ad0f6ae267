"""Every write of the marketplace app: collectives, memberships and invitations."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from marketplace import followups, images, locks, signals, spares, tenancy
from marketplace.models import Collective, Domain, Invitation, Membership, Role, SignInHandoff, User

RESERVED_SLUGS = frozenset(
    {
        "www",
        "admin",
        "api",
        "public",
        "static",
        "media",
        "mail",
        "smtp",
        "app",
        "etal",
        "aide",
        "help",
        "status",
        "blog",
        "docs",
        tenancy.TEMPLATE_SLUG,
    }
)


def schema_name_for_slug(slug: str) -> str:
    return "c_" + slug.replace("-", "_")


def collective_slug_check(slug: str) -> None:
    """A sub-domain nobody has and the platform does not keep for itself, or ValidationError({"slug": …})."""
    slug = slug.strip().lower()
    if slug in RESERVED_SLUGS:
        raise ValidationError({"slug": _("Cette adresse est réservée, choisissez-en une autre.")})
    if (
        Collective.objects.filter(slug=slug).exists()
        or Domain.objects.filter(domain=f"{slug}.{settings.BASE_DOMAIN}").exists()
    ):
        raise ValidationError({"slug": _("Cette adresse est déjà prise par un autre collectif.")})


@transaction.atomic
def collective_create(
    *,
    owner: User,
    name: str,
    slug: str,
    kind: str,
    town: str = "",
    department: str = "",
    description: str = "",
    contact_email: str = "",
    contact_phone: str = "",
    join_mode: str = Collective.JoinMode.APPROVAL,
    allow_cooptation: bool = False,
) -> Collective:
    """Create a collective, its schema (cloned from the template) and sub-domain; `owner` coordinates it."""
    slug = slug.strip().lower()
    collective_slug_check(slug)
    taken = ValidationError({"slug": _("Cette adresse est déjà prise par un autre collectif.")})
    collective = Collective(
        schema_name=schema_name_for_slug(slug),
        slug=slug,
        name=name.strip(),
        kind=kind,
        town=town.strip(),
        department=department.strip().upper(),
        description=description.strip(),
        contact_email=contact_email.strip(),
        contact_phone=contact_phone.strip(),
        join_mode=join_mode,
        allow_cooptation=allow_cooptation,
    )
    collective.full_clean()
    tenancy.template_tenant_ensure()
    with schema_context(get_public_schema_name()):
        collective.auto_create_schema = False  # made below, once the row (its unique address) is in
        try:
            with transaction.atomic():
                collective.save(verbosity=0)
        except IntegrityError as conflict:  # the same address sent twice at once (a double click)
            raise taken from conflict
        # A spare clone of the template renamed (milliseconds), else the template cloned as it is now.
        if not spares.spare_take(target=collective.schema_name):
            collective.create_schema(check_if_exists=True, verbosity=0)
        domain = Domain(domain=f"{slug}.{settings.BASE_DOMAIN}", tenant=collective, is_primary=True)
        domain.full_clean()
        domain.save()
        Membership.objects.create(
            user=owner,
            collective=collective,
            roles=[Role.COORDINATOR, Role.MEMBER],
            status=Membership.Status.ACTIVE,
        )
        if settings.TENANT_SPARE_SCHEMAS:  # the spare it may have taken is replaced after the commit
            followups.followup_add("marketplace.tasks.spares_fill")
    return collective


@transaction.atomic
def collective_update(*, collective: Collective, logo=None, **fields) -> Collective:
    """Update the settings a coordinator controls (branding, contact, join mode, co-optation).

    `logo`: None leaves it, False removes it, an uploaded image (checked by images.image_validate)
    replaces it, re-encoded under a new name; the replaced file is deleted once this commits."""
    editable = {
        "name",
        "description",
        "town",
        "department",
        "contact_email",
        "contact_phone",
        "join_mode",
        "allow_cooptation",
        "kind",
    }
    unknown = set(fields) - editable
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    stored = Collective.objects.filter(pk=collective.pk).values_list("logo", flat=True).first() or ""
    # A ModelForm may have put the upload on the instance already: what counts is what is stored.
    collective.logo = stored
    for field, value in fields.items():
        setattr(collective, field, value)
    collective.full_clean()
    update_fields = list(fields)
    if logo is not None:
        if logo is False:
            collective.logo = ""
        else:
            content = images.logo_process(logo)
            collective.logo.save(content.name, content, save=False)
        update_fields.append("logo")
        if stored and stored != collective.logo.name:
            storage = collective.logo.storage
            transaction.on_commit(lambda: storage.delete(stored))
    collective.save(update_fields=update_fields)
    return collective


class JoinRefused(Exception):
    """The collective does not let this account join by itself."""


@transaction.atomic
def membership_join(*, collective: Collective, user: User) -> Membership:
    """Join from the collective's home page: open → member now; approval → pending; invitation → refused."""
    membership = Membership.objects.filter(collective=collective, user=user).first()
    if membership:
        return membership
    if collective.join_mode == Collective.JoinMode.INVITATION:
        raise JoinRefused(_("Ce collectif n'accueille de nouveaux membres que sur invitation."))
    status = (
        Membership.Status.ACTIVE
        if collective.join_mode == Collective.JoinMode.OPEN
        else Membership.Status.PENDING
    )
    # get_or_create: the second request of a double click finds the row the first one created.
    membership, created = Membership.objects.get_or_create(
        collective=collective, user=user, defaults={"roles": [Role.MEMBER], "status": status}
    )
    if created and status == Membership.Status.PENDING:
        followups.followup_add("marketplace.tasks.join_request_notify", membership_id=membership.pk)
    return membership


def _lock_membership(*, collective: Collective, membership_id: int) -> Membership:
    membership = locks.membership_lock(collective=collective, membership_id=membership_id)
    if membership is None:
        raise Membership.DoesNotExist
    return membership


def _active_coordinators(collective: Collective) -> int:
    return Membership.objects.filter(
        collective=collective, status=Membership.Status.ACTIVE, roles__contains=[Role.COORDINATOR]
    ).count()


@transaction.atomic
def membership_approve(*, collective: Collective, membership_id: int) -> Membership:
    membership = _lock_membership(collective=collective, membership_id=membership_id)
    if membership.is_active:  # approved twice (two coordinators, a double click): one welcome e-mail
        return membership
    membership.status = Membership.Status.ACTIVE
    membership.save(update_fields=["status"])
    followups.followup_add("marketplace.tasks.membership_approved_notify", membership_id=membership.pk)
    return membership


@transaction.atomic
def membership_set_roles(*, collective: Collective, membership_id: int, roles: list[str]) -> Membership:
    """Replace the roles of a member; a collective always keeps at least one active coordinator."""
    roles = [role for role in Role.values if role in set(roles)]
    if not roles:
        raise ValidationError(_("Choisissez au moins un rôle, ou retirez la personne du collectif."))
    # Lock every coordinator row first so that two coordinators demoting each other cannot both succeed.
    locks.coordinators_lock(collective=collective)
    membership = _lock_membership(collective=collective, membership_id=membership_id)
    was_coordinator = membership.has_role(Role.COORDINATOR)
    if was_coordinator and Role.COORDINATOR not in roles and _active_coordinators(collective) <= 1:
        raise ValidationError(_("Le collectif doit garder au moins un·e coordinateur·rice."))
    membership.roles = roles
    membership.full_clean()
    membership.save(update_fields=["roles"])
    return membership


@transaction.atomic
def membership_remove(*, collective: Collective, membership_id: int) -> None:
    """Remove someone from the collective (or refuse a pending request)."""
    locks.coordinators_lock(collective=collective)
    membership = _lock_membership(collective=collective, membership_id=membership_id)
    if membership.has_role(Role.COORDINATOR) and _active_coordinators(collective) <= 1:
        raise ValidationError(_("Le collectif doit garder au moins un·e coordinateur·rice."))
    membership.delete()


class InvitationInvalid(Exception):
    """An invitation link that cannot be used; the message says why, in words a user understands."""


@transaction.atomic
def invitation_create(
    *,
    collective: Collective,
    created_by: User,
    role: str,
    email: str = "",
    scope: dict | None = None,
    scope_label: str = "",
    send: bool = True,
) -> Invitation:
    """Create a single-use invitation link; coordinators invite to any role, members co-opt members.
    `send=False`: the caller's own e-mail carries the link (an accepted point proposal's)."""
    inviter = Membership.objects.filter(collective=collective, user=created_by).first()
    if inviter is None or not inviter.is_active:
        raise ValidationError(_("Seuls les membres du collectif peuvent inviter."))
    if not inviter.has_role(Role.COORDINATOR):
        if not collective.allow_cooptation or not inviter.has_role(Role.MEMBER):
            raise ValidationError(_("Ce collectif ne permet pas aux membres de coopter."))
        if role != Role.MEMBER:
            raise ValidationError(_("Un membre ne peut inviter que de nouveaux membres."))
    email = email.strip().lower()
    if role == Role.COORDINATOR and not email:
        raise ValidationError(
            {"email": _("Pour inviter un·e coordinateur·rice, indiquez son adresse e-mail.")}
        )
    if (
        email
        and Membership.objects.filter(
            collective=collective,
            user__email__iexact=email,
            roles__contains=[role],
            status=Membership.Status.ACTIVE,
        ).exists()
    ):
        raise ValidationError({"email": _("Cette personne a déjà ce rôle dans le collectif.")})
    now = timezone.now()
    invitation = Invitation(
        collective=collective,
        email=email,
        role=role,
        token=secrets.token_urlsafe(32),
        created_by=created_by,
        created_at=now,
        expires_at=now + timedelta(days=settings.INVITATION_VALID_DAYS),
        scope=scope or {},
        scope_label=scope_label,
    )
    invitation.full_clean()
    invitation.save()
    if email and send:
        followups.followup_add("marketplace.tasks.invitation_send", invitation_id=invitation.pk)
    return invitation


def invitation_check(*, collective: Collective, token: str) -> Invitation:
    """The usable invitation behind `token` in this collective, or InvitationInvalid saying why not."""
    invitation = Invitation.objects.filter(token=token).select_related("collective").first()
    if invitation is None or invitation.collective_id != collective.pk:
        raise InvitationInvalid(_("Ce lien d'invitation n'existe pas pour ce collectif."))
    if invitation.state == "accepted":
        raise InvitationInvalid(_("Ce lien d'invitation a déjà été utilisé."))
    if invitation.state == "revoked":
        raise InvitationInvalid(_("Cette invitation a été annulée par le collectif."))
    if invitation.state == "expired":
        raise InvitationInvalid(
            _("Ce lien d'invitation a expiré. Demandez une nouvelle invitation au collectif.")
        )
    return invitation


def invitation_is_for(*, invitation: Invitation, user: User) -> bool:
    """An invitation sent to an address is for that account only; a shared link (no address) is for anyone."""
    return not invitation.email or invitation.email.lower() == user.email.lower()


@transaction.atomic
def invitation_accept(*, collective: Collective, token: str, user: User) -> Membership:
    """Use an invitation: the account gets the role (and becomes active) in the collective, once."""
    invitation = invitation_check(collective=collective, token=token)
    invitation = locks.invitation_lock(invitation_id=invitation.pk)
    if invitation.state != "pending":  # used by someone else between the check and the lock
        raise InvitationInvalid(_("Ce lien d'invitation a déjà été utilisé."))
    if not invitation_is_for(invitation=invitation, user=user):
        raise InvitationInvalid(
            _("Cette invitation a été envoyée à %(email)s : connectez-vous avec ce compte pour l'accepter.")
            % {"email": invitation.email}
        )
    membership = locks.membership_of_lock(collective=collective, user=user)
    if membership is None:
        membership = Membership(collective=collective, user=user, roles=[], invited_by=invitation.created_by)
    roles = set(membership.roles) | {invitation.role}
    membership.roles = [role for role in Role.values if role in roles]
    membership.status = Membership.Status.ACTIVE
    membership.save()
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    with tenant_context(collective):
        signals.invitation_accepted.send(sender=Invitation, invitation=invitation, membership=membership)
    return membership


@transaction.atomic
def invitation_revoke(*, collective: Collective, invitation_id: int, by: User) -> Invitation:
    invitation = locks.invitation_lock(invitation_id=invitation_id, collective=collective)
    if invitation is None:
        raise Invitation.DoesNotExist
    membership = Membership.objects.filter(collective=collective, user=by).first()
    if invitation.created_by_id != by.pk and not (membership and membership.has_role(Role.COORDINATOR)):
        raise ValidationError(_("Vous ne pouvez annuler que vos propres invitations."))
    if invitation.state == "pending":
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
    return invitation


# The platform operator (issue 20) ---------------------------------------------------------------------------


@transaction.atomic
def collective_suspend(*, collective_id: int) -> Collective:
    """Close the collective's site and its clock jobs; nothing is deleted. Suspending twice keeps the date."""
    Collective.objects.filter(pk=collective_id, suspended_at__isnull=True).update(suspended_at=timezone.now())
    return Collective.objects.get(pk=collective_id)


@transaction.atomic
def collective_reactivate(*, collective_id: int) -> Collective:
    Collective.objects.filter(pk=collective_id).update(suspended_at=None)
    return Collective.objects.get(pk=collective_id)


# E-mail delivery (marketplace.email_delivery) ---------------------------------------------------------------


def user_email_mark_undeliverable(*, email: str, reason: str, at=None) -> int:
    """Mark the account(s) of this address; returns how many. An unknown address changes nothing."""
    return User.objects.filter(email__iexact=email.strip()).update(
        email_undeliverable_at=at or timezone.now(), email_undeliverable_reason=reason
    )


def user_email_mark_clear(*, user_id: int) -> int:
    """The member gave or confirmed their address again: it is trusted until the next bounce."""
    return User.objects.filter(pk=user_id, email_undeliverable_at__isnull=False).update(
        email_undeliverable_at=None, email_undeliverable_reason=""
    )


def user_email_mark_deliverable(*, email: str, at=None) -> int:
    """A message delivered after the mark (not a late event of an older one) clears it."""
    return User.objects.filter(
        email__iexact=email.strip(), email_undeliverable_at__lt=at or timezone.now()
    ).update(email_undeliverable_at=None, email_undeliverable_reason="")


# One-time sign-in on a new collective's sub-domain --------------------------------------------------------


class SignInHandoffInvalid(Exception):
    """The sign-in link cannot be used (unknown, used, expired, another collective or another account)."""


def _handoff_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def signin_handoff_create(*, user: User, collective: Collective) -> str:
    """A single-use token that signs `user` in on `collective`'s sub-domain; only its hash is kept.
    Handoffs older than a day are deleted on the way (they are worthless once expired)."""
    now = timezone.now()
    SignInHandoff.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
    token = secrets.token_urlsafe(32)
    SignInHandoff.objects.create(
        token_hash=_handoff_hash(token),
        user=user,
        collective=collective,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.SIGNIN_HANDOFF_SECONDS),
    )
    return token


def signin_handoff_use(*, collective: Collective, token: str, signed_in: User | None) -> User:
    """Use the token once (a conditional UPDATE: of two requests racing, one wins) and return its account,
    who must still coordinate this collective. Refused if someone else is already signed in here: the link
    never switches accounts. Any use spends it, even a refused one: so no transaction around it, the
    spending UPDATE commits on its own before any refusal."""
    now = timezone.now()
    handoff = (
        SignInHandoff.objects.filter(token_hash=_handoff_hash(token), collective=collective)
        .select_related("user")
        .first()
    )
    invalid = SignInHandoffInvalid(_("Ce lien de connexion n'est plus valable. Connectez-vous ici."))
    if handoff is None:
        raise invalid
    spent = SignInHandoff.objects.filter(pk=handoff.pk, used_at__isnull=True, expires_at__gt=now).update(
        used_at=now
    )
    if not spent:
        raise invalid
    if signed_in is not None and signed_in.pk != handoff.user_id:
        raise SignInHandoffInvalid(
            _("Vous êtes connecté·e ici avec un autre compte : déconnectez-vous, puis connectez-vous.")
        )
    coordinates = Membership.objects.filter(
        collective=collective,
        user=handoff.user,
        status=Membership.Status.ACTIVE,
        roles__contains=[Role.COORDINATOR],
    ).exists()
    if not coordinates or not handoff.user.is_active:
        raise invalid
    return handoff.user
