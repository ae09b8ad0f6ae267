"""Public forms that anyone may send (a producer's application, « Lancer un drive »): a limit per address,
counted in the cache by allauth's rate limiter (the one the sign-in form uses, so the same proxy settings
decide which address is the visitor's), at PUBLIC_FORM_RATE_LIMIT."""

from __future__ import annotations

from allauth.core.internal import ratelimit
from django.conf import settings
from django.http import HttpRequest, HttpResponse


def public_form_throttled(request: HttpRequest, *, action: str) -> HttpResponse | None:
    """None while the visitor is under the limit, else the « Trop de demandes » page (429); POSTs count."""
    if request.method != "POST" or not settings.PUBLIC_FORM_RATE_LIMIT:
        return None
    return ratelimit.consume_or_429(
        request=request,
        app="allauth.account",
        action=action,
        config={action: settings.PUBLIC_FORM_RATE_LIMIT},
    )
