"""Pages of one collective (its sub-domain). Every view checks the role in the current collective."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace import selectors, services
from marketplace.forms import CollectiveSettingsForm, InvitationForm, RolesForm
from marketplace.home import home_context
from marketplace.models import Invitation, Membership, Role
from marketplace.permissions import role_required


def home(request):
    return render(request, "marketplace/collective_home.html", home_context(request))


def signin_handoff(request, token: str):
    """Where creating a collective lands: its creator, signed in here once by the token, then home."""
    signed_in = request.user if request.user.is_authenticated else None
    try:
        user = services.signin_handoff_use(collective=request.tenant, token=token, signed_in=signed_in)
    except services.SignInHandoffInvalid as problem:
        return render(
            request, "marketplace/signin_handoff_invalid.html", {"problem": str(problem)}, status=404
        )
    if signed_in is None:
        auth_login(request, user, backend="marketplace.auth_backends.ModelBackend")
    messages.success(
        request,
        _("Votre collectif « %(name)s » est en ligne. Voici vos premiers pas.")
        % {"name": request.tenant.name},
    )
    return redirect("home")


@require_POST
def join(request):
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("home"))
    try:
        membership = services.membership_join(collective=request.tenant, user=request.user)
    except services.JoinRefused as refusal:
        messages.error(request, str(refusal))
    else:
        if membership.is_active:
            messages.success(request, _("Bienvenue ! Vous êtes membre du collectif."))
        else:
            messages.info(request, _("Votre demande a été envoyée : un·e coordinateur·rice va la valider."))
    return redirect("home")


def invitation_accept(request, token: str):
    try:
        invitation = services.invitation_check(collective=request.tenant, token=token)
    except services.InvitationInvalid as problem:
        return render(request, "marketplace/invitation_invalid.html", {"problem": str(problem)}, status=404)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            services.invitation_accept(collective=request.tenant, token=token, user=request.user)
        except services.InvitationInvalid as problem:
            return render(
                request, "marketplace/invitation_invalid.html", {"problem": str(problem)}, status=404
            )
        messages.success(
            request,
            _("Invitation acceptée : vous êtes maintenant « %(role)s ».")
            % {"role": invitation.get_role_display()},
        )
        return redirect("home")
    is_for_user = request.user.is_authenticated and services.invitation_is_for(
        invitation=invitation, user=request.user
    )
    return render(
        request, "marketplace/invitation_accept.html", {"invitation": invitation, "is_for_user": is_for_user}
    )


def _inviter_roles(membership: Membership) -> list[str]:
    if membership.has_role(Role.COORDINATOR):
        return list(Role.values)
    return [Role.MEMBER]


def _invite(request, *, roles: list[str], created_by_filter, template: str):
    form = InvitationForm(request.POST or None, roles=roles)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = services.invitation_create(
                collective=request.tenant, created_by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if created.email:
                messages.success(request, _("Invitation envoyée à %(email)s.") % {"email": created.email})
            else:
                messages.success(request, _("Lien d'invitation créé : copiez-le et envoyez-le."))
            form = InvitationForm(roles=roles)
    invitations = selectors.invitations_of_collective(collective=request.tenant, created_by=created_by_filter)
    return render(
        request,
        template,
        {"form": form, "invitations": invitations, "created": created},
        status=400 if form.errors else 200,
    )


@role_required(Role.COORDINATOR)
def invitations(request):
    return _invite(
        request, roles=list(Role.values), created_by_filter=None, template="marketplace/invitations.html"
    )


@role_required(Role.MEMBER)
def cooptation(request):
    if not request.tenant.allow_cooptation:
        return render(request, "marketplace/cooptation_closed.html", status=403)
    return _invite(
        request, roles=[Role.MEMBER], created_by_filter=request.user, template="marketplace/cooptation.html"
    )


@require_POST
@role_required(Role.MEMBER, Role.COORDINATOR)
def invitation_revoke(request, invitation_id: int):
    try:
        services.invitation_revoke(collective=request.tenant, invitation_id=invitation_id, by=request.user)
    except Invitation.DoesNotExist as missing:
        raise Http404 from missing
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Invitation annulée."))
    back = request.POST.get("next")
    return redirect(back if back in {"invitations", "cooptation"} else "home")


@role_required(Role.COORDINATOR)
def members(request):
    memberships = selectors.memberships_of_collective(collective=request.tenant)
    pending = [membership for membership in memberships if not membership.is_active]
    active = [membership for membership in memberships if membership.is_active]
    return render(request, "marketplace/members.html", {"pending": pending, "active": active})


@role_required(Role.COORDINATOR)
def member_edit(request, membership_id: int):
    membership = (
        selectors.memberships_of_collective(collective=request.tenant).filter(pk=membership_id).first()
    )
    if membership is None:
        raise Http404
    form = RolesForm(request.POST or None, initial={"roles": membership.roles})
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_set_roles(
                collective=request.tenant, membership_id=membership.pk, roles=form.cleaned_data["roles"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("Rôles mis à jour pour %(name)s.") % {"name": membership.user.display_name}
            )
            return redirect("members")
    return render(
        request,
        "marketplace/member_edit.html",
        {"member": membership, "form": form},
        status=400 if form.errors else 200,
    )


@require_POST
@role_required(Role.COORDINATOR)
def member_approve(request, membership_id: int):
    try:
        membership = services.membership_approve(collective=request.tenant, membership_id=membership_id)
    except Membership.DoesNotExist as missing:
        raise Http404 from missing
    messages.success(request, _("%(name)s est maintenant membre.") % {"name": membership.user.display_name})
    return redirect("members")


@require_POST
@role_required(Role.COORDINATOR)
def member_remove(request, membership_id: int):
    try:
        services.membership_remove(collective=request.tenant, membership_id=membership_id)
    except Membership.DoesNotExist as missing:
        raise Http404 from missing
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("La personne a été retirée du collectif."))
    return redirect("members")


@role_required(Role.COORDINATOR)
def collective_settings(request):
    collective = request.tenant
    form = CollectiveSettingsForm(request.POST or None, request.FILES or None, instance=collective)
    if request.method == "POST" and form.is_valid():
        # Values as the ModelForm put them on the instance; the logo goes to the service as uploaded.
        changed = {field: getattr(form.instance, field) for field in form.changed_data if field != "logo"}
        try:
            services.collective_update(collective=collective, logo=form.logo_change(), **changed)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Réglages enregistrés."))
            return redirect("collective_settings")
    if form.errors:
        collective.refresh_from_db()
    return render(
        request, "marketplace/collective_settings.html", {"form": form}, status=400 if form.errors else 200
    )
