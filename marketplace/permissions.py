"""Role checks for views of a collective: every tenant view goes through `role_required`."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404

from marketplace.selectors import collective_is_public


def role_check(request, *roles: str) -> None:
    """Refuse (403) unless `request.membership` is active and holds one of `roles` (see role_required)."""
    membership = request.membership
    if not membership or not membership.has_role(*roles):
        raise PermissionDenied


def role_required(*roles: str, checked_in_view: bool = False):
    """Allow the view only to signed-in accounts holding one of `roles`, active in the current collective.

    `checked_in_view`: the view reads the membership with its own first row (one statement instead of two)
    and calls role_check(request, *roles) itself before it shows or changes anything; the decorator then
    only turns away the public site and visitors."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if collective_is_public(getattr(request, "tenant", None)):
                raise Http404
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not checked_in_view:
                role_check(request, *roles)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
