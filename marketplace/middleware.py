from django.utils.functional import SimpleLazyObject

from marketplace import selectors


class MembershipMiddleware:
    """Sets `request.membership`: the signed-in account's membership in the current collective, or None."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = SimpleLazyObject(lambda: selectors.membership_for_request(request))
        return self.get_response(request)
