"""Security headers that Django's SecurityMiddleware does not send: Content-Security-Policy (django-csp) and
Permissions-Policy. The policies themselves are settings (config/settings/base.py, "Security headers")."""

from __future__ import annotations

from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings


def form_targets() -> list[str]:
    """Where a form may lead, redirects included (Chromium applies form-action to the redirect after a
    POST): the public site and every collective's sub-domain (creating a collective lands on its own
    host), and the payment pages the card flow redirects to (Stripe Checkout and Connect onboarding, or the
    local Stripe double's pages in development and tests).

    Read at each response, since tests point the Stripe settings and the port elsewhere while running."""
    port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
    targets = [
        f"{settings.SITE_SCHEME}://{settings.BASE_DOMAIN}{port}",
        f"{settings.SITE_SCHEME}://*.{settings.BASE_DOMAIN}{port}",
        *settings.STRIPE_HOSTED_ORIGINS,
    ]
    if settings.STRIPE_API_BASE:
        # Not Stripe's own API: the double, which serves its hosted pages from the same address.
        parts = urlsplit(settings.STRIPE_API_BASE)
        targets.append(f"{parts.scheme}://{parts.netloc}")
    return targets


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the form-action targets above added to CONTENT_SECURITY_POLICY."""

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if not report_only:
            update = dict(parts.update or {})
            update["form-action"] = [*update.get("form-action", []), *form_targets()]
            parts.update = update
        return parts


def permissions_policy(features: dict[str, list[str]]) -> str:
    """{"camera": ["self"], "geolocation": []} → 'camera=(self), geolocation=()'."""

    def allowlist(origins: list[str]) -> str:
        return " ".join(origin if origin in ("self", "*") else f'"{origin}"' for origin in origins)

    return ", ".join(f"{feature}=({allowlist(origins)})" for feature, origins in features.items())


class PermissionsPolicyMiddleware:
    """Sends PERMISSIONS_POLICY as the Permissions-Policy header (browser features the pages may use)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        features = getattr(settings, "PERMISSIONS_POLICY", None)
        if features and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = permissions_policy(features)
        return response
