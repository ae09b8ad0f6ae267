from django.conf import settings

from marketplace.models import Role
from marketplace.selectors import collective_is_public


def collective(request):
    tenant = getattr(request, "tenant", None)
    port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
    return {
        "collective": None if collective_is_public(tenant) else tenant,
        # MembershipMiddleware already answers None on the public site.
        "membership": getattr(request, "membership", None) or None,
        "Role": Role,
        "platform_url": f"{settings.SITE_SCHEME}://{settings.BASE_DOMAIN}{port}",
    }
