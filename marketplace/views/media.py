"""Public uploads (logos, photos), when no front server serves them.

The path is checked segment by segment as it will be opened: every segment a plain file or folder name
(no `.`/`..`, no empty segment, no backslash, no `%` left by a double encoding, no control character),
the first one a public kind. A collective's host serves only its own folder, the public host only logos.
Private files (delivery sheets…) are not under MEDIA_ROOT at all (see marketplace.storage).

Every stored name is new for each upload (a random token: marketplace.images, collective_logo_path), so a
file never changes under its name: browsers may keep it a year without asking again (issue 16).
"""

import re

from django.conf import settings
from django.http import Http404
from django.views.static import serve

from marketplace.selectors import collective_is_public

# A name starts with a letter or a digit: this refuses `.`, `..` and hidden files as well.
SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}")
PUBLIC_KINDS = {"branding", "producers", "products"}
IMAGE_EXTENSIONS = {"png", "jpg", "jpeg", "webp"}
CACHE_FOREVER = "public, max-age=31536000, immutable"


def media_path_allowed(*, host_schema: str | None, schema_name: str, path: str) -> bool:
    """`host_schema` None: the public host. `path` as decoded by the server, relative to the schema."""
    segments = path.split("/")
    if not all(SEGMENT.fullmatch(segment) for segment in segments) or len(segments) < 2:
        return False
    if segments[0] not in PUBLIC_KINDS or segments[-1].rsplit(".", 1)[-1].lower() not in IMAGE_EXTENSIONS:
        return False
    if host_schema is None:
        # The directory shows every collective's logo, and nothing else of theirs.
        return segments[0] == "branding"
    return schema_name == host_schema


def media(request, schema_name: str, path: str):
    tenant = request.tenant
    host_schema = None if collective_is_public(tenant) else tenant.schema_name
    if not media_path_allowed(host_schema=host_schema, schema_name=schema_name, path=path):
        raise Http404
    response = serve(request, f"{schema_name}/{path}", document_root=settings.MEDIA_ROOT)
    response["Cache-Control"] = CACHE_FOREVER
    return response
