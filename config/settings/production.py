"""Production: behind a TLS-terminating reverse proxy (see docker-compose.yml and .env.example)."""

from .base import *  # noqa: F403
from .base import BASE_DOMAIN, DATABASES, env

DEBUG = False
# No default: a production process refuses to start without its own key.
SECRET_KEY = env("SECRET_KEY")
SITE_SCHEME = "https"

# The reverse proxy terminates TLS and must set X-Forwarded-Proto (and pass the Host header through).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS",
    default=[f"https://{BASE_DOMAIN}", f"https://*.{BASE_DOMAIN}"],
)

# One sign-in covers the public site and every collective's sub-domain.
SESSION_COOKIE_DOMAIN = env("SESSION_COOKIE_DOMAIN", default=f".{BASE_DOMAIN}")
CSRF_COOKIE_DOMAIN = SESSION_COOKIE_DOMAIN

# Persistent connections, checked before reuse (django-tenants sets the search_path on every request).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# Security headers (Content-Security-Policy, Permissions-Policy, Referrer-Policy, nosniff, framing) and the
# sign-in limits behind the reverse proxy (TRUSTED_PROXY_COUNT) are in config/settings/base.py: every
# environment sends the same headers, so that `make dev` and the tests meet the production policy.

# --- Operations: logs (issue 20) ----------------------------------------------------------------------------
# One JSON object per line for the log collector, unless LOG_FORMAT=text.
LOG_FORMAT = env("LOG_FORMAT", default="json")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT  # noqa: F405
