"""Uploaded files, when no front server serves them: a collective's host serves only its own folder."""

from django.conf import settings
from django.http import Http404
from django.views.static import serve

from marketplace.selectors import collective_is_public


def media(request, schema_name: str, path: str):
    tenant = request.tenant
    if collective_is_public(tenant):
        # The directory shows every collective's logo, and nothing else of theirs.
        if not path.startswith("branding/"):
            raise Http404
    elif schema_name != tenant.schema_name or path.startswith("sheets/"):
        # Sheets name members and their phones: only orders.views_sheets serves them, to whom they concern.
        raise Http404
    return serve(request, f"{schema_name}/{path}", document_root=settings.MEDIA_ROOT)
