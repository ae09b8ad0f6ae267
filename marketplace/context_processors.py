from django.conf import settings
from django_tenants.utils import get_public_schema_name

from marketplace.models import Role


def collective(request):
    tenant = getattr(request, "tenant", None)
    is_public = tenant is None or tenant.schema_name == get_public_schema_name()
    membership = getattr(request, "membership", None) if not is_public else None
    port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
    return {
        "collective": None if is_public else tenant,
        "membership": membership or None,
        "Role": Role,
        "platform_url": f"{settings.SITE_SCHEME}://{settings.BASE_DOMAIN}{port}",
    }
