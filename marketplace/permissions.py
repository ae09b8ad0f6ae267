"""Role checks for views of a collective: every tenant view goes through `role_required`."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404

from marketplace.selectors import collective_is_public


def role_required(*roles: str):
    """Allow the view only to signed-in accounts holding one of `roles`, active in the current collective."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if collective_is_public(getattr(request, "tenant", None)):
                raise Http404
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = request.membership
            if not membership or not membership.has_role(*roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
