"""Members' rights (RGPD): privacy page, legal notice, « Mes données » (export), leaving a collective and
deleting the account. The account pages answer on the public site and on every collective's host."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace import personal_data, selectors
from marketplace.forms import AccountDeleteForm


def _retention() -> dict:
    return {
        "invitation_days": settings.INVITATION_VALID_DAYS,
        "invitation_purge_days": 2 * settings.INVITATION_VALID_DAYS,
        "import_days": settings.IMPORT_JOB_RETENTION_DAYS,
        "session_days": settings.SESSION_COOKIE_AGE // 86400,
    }


def _operator() -> dict:
    return {
        "name": settings.PLATFORM_OPERATOR_NAME,
        "address": settings.PLATFORM_OPERATOR_ADDRESS,
        "email": settings.PLATFORM_OPERATOR_EMAIL,
        "director": settings.PLATFORM_PUBLICATION_DIRECTOR,
        "host_name": settings.PLATFORM_HOST_NAME,
        "host_address": settings.PLATFORM_HOST_ADDRESS,
    }


def privacy(request):
    """« Données personnelles »: the collective's own page on its host, the platform's on the public site."""
    return render(request, "marketplace/privacy.html", {"retention": _retention(), "operator": _operator()})


def legal_notice(request):
    return render(request, "marketplace/legal_notice.html", {"operator": _operator()})


@login_required
def my_data(request):
    memberships = selectors.memberships_of_user(user=request.user)
    return render(request, "marketplace/my_data.html", {"memberships": memberships})


@login_required
def my_data_download(request):
    content = personal_data.member_data_json(user=request.user)
    response = HttpResponse(content, content_type="application/json; charset=utf-8")
    name = f"mes-donnees-etal-{timezone.localdate():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def account_delete(request):
    form = AccountDeleteForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            personal_data.account_delete(user=request.user)
        except personal_data.ErasureRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            logout(request)
            messages.success(request, _("Votre compte est supprimé. Merci d'avoir utilisé Étal."))
            return redirect("home")
    memberships = selectors.memberships_of_user(user=request.user)
    return render(
        request,
        "marketplace/account_delete.html",
        {"form": form, "memberships": memberships},
        status=400 if form.errors else 200,
    )


def membership_leave(request):
    """Any membership of the current collective (even one still pending) may be left."""
    if selectors.collective_is_public(getattr(request, "tenant", None)):
        raise Http404
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not request.membership:
        raise PermissionDenied
    problem = ""
    if request.method == "POST":
        try:
            personal_data.membership_leave(collective=request.tenant, user=request.user)
        except personal_data.ErasureRefused as refusal:
            problem = str(refusal)
        else:
            messages.success(request, _("Vous avez quitté « %(name)s ».") % {"name": request.tenant.name})
            return redirect("home")
    return render(
        request, "marketplace/membership_leave.html", {"problem": problem}, status=400 if problem else 200
    )
