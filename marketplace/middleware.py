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
