from django.middleware.gzip import GZipMiddleware
from django.template.response import SimpleTemplateResponse
from django.utils.functional import SimpleLazyObject

from marketplace import selectors


class MembershipMiddleware:
    """Sets `request.membership`: the signed-in account's membership in the current collective, or None."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = SimpleLazyObject(lambda: selectors.membership_for_request(request))
        return self.get_response(request)


class SuspendedCollectiveMiddleware:
    """A suspended collective's site answers every page with a notice (503), before sessions, sign-in or any
    view touch its data: right after django-tenants found the tenant (and WhiteNoise, for the page's CSS)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if (
            getattr(tenant, "suspended_at", None) is not None
            or getattr(tenant, "deleted_at", None) is not None
        ):
            response = SimpleTemplateResponse(
                "marketplace/collective_suspended.html", {"collective": tenant}, status=503
            )
            response["Retry-After"] = "86400"
            return response.render()
        return self.get_response(request)


# What is worth compressing: pages, CSV exports, JSON. Photos, PDFs and archives are compressed already.
COMPRESSIBLE_TYPES = ("text/", "application/json", "application/javascript", "image/svg+xml")


class TextGZipMiddleware(GZipMiddleware):
    """Django's GZipMiddleware (with its BREACH mitigation since Django 4.2: random bytes in the gzip header,
    so that a page's compressed length no longer leaks a secret it reflects), for text responses only.

    Static files never reach it: WhiteNoise, above it, answers them with its own pre-compressed copies."""

    def process_response(self, request, response):
        content_type = response.get("Content-Type", "")
        if not content_type.startswith(COMPRESSIBLE_TYPES):
            return response
        return super().process_response(request, response)
