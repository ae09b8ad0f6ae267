from urllib.parse import parse_qsl

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import middleware as auth_middleware
from django.core.exceptions import TooManyFieldsSent
from django.http import QueryDict
from django.middleware.gzip import GZipMiddleware
from django.template.response import SimpleTemplateResponse
from django.utils.datastructures import MultiValueDict
from django.utils.functional import SimpleLazyObject

from marketplace import selectors, sessions


class MembershipMiddleware:
    """Sets `request.membership`: the signed-in account's membership in the current collective, or None."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = SimpleLazyObject(lambda: selectors.membership_for_request(request))
        return self.get_response(request)


def _user(request):
    if not hasattr(request, "_cached_user"):
        token = sessions.looked_up.set(getattr(request, "session", None))
        try:
            request._cached_user = auth.get_user(request)
        finally:
            sessions.looked_up.reset(token)
    return request._cached_user


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    """Django's, with the signed-in account taken from what the session's read brought along when it is the
    account the session names (marketplace.sessions): one statement fewer on every signed-in request. The
    look-up is Django's own (auth.get_user: the backend, the session's hash checked), only the read of the
    account's row is spared; during it alone the backend is shown the request's session."""

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _user(request))


def form_data(body: bytes) -> QueryDict:
    """A posted form's fields (application/x-www-form-urlencoded), exactly as Django's QueryDict(body,
    encoding="utf-8") reads them (blank values kept, repeated names as lists, a body that is not UTF-8 read
    as Latin-1, more than DATA_UPLOAD_MAX_NUMBER_FIELDS fields refused), built in one pass: QueryDict adds
    the fields one by one through appendlist, which cost the sale page's 300-field cart 0.65 ms a POST."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("iso-8859-1")
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            encoding="utf-8",
            max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
        )
    except ValueError as error:
        raise TooManyFieldsSent(
            "The number of GET/POST parameters exceeded settings.DATA_UPLOAD_MAX_NUMBER_FIELDS."
        ) from error
    lists: dict[str, list[str]] = {}
    for key, value in pairs:
        lists.setdefault(key, []).append(value)
    data = QueryDict(mutable=True, encoding="utf-8")
    dict.update(data, lists)  # a MultiValueDict keeps each name's values as a list
    data._mutable = False
    return data


class FormBodyMiddleware:
    """Reads a form POST's body with form_data before anything asks for `request.POST` (the CSRF check does,
    right after): what Django's HttpRequest._load_post_and_files does for this content type, in one pass.
    Other bodies (multipart uploads, JSON) and a request whose encoding was set to anything but UTF-8 are
    left to Django."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.method == "POST"
            and request.content_type == "application/x-www-form-urlencoded"
            and not hasattr(request, "_post")
            and (request.encoding is None or request.encoding.lower() == "utf-8")
        ):
            request._post, request._files = form_data(request.body), MultiValueDict()
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
