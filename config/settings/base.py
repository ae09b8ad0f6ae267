"""Settings shared by every purpose; everything that differs between machines comes from the environment."""

from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

SECRET_KEY = env("SECRET_KEY", default="dev-insecure-secret-key-change-me")
DEBUG = env.bool("DEBUG", default=False)

# Collectives live at <slug>.<BASE_DOMAIN>; the platform's public site at BASE_DOMAIN itself.
BASE_DOMAIN = env("BASE_DOMAIN", default="localhost")
# Port appended to the collective links the platform prints (empty in production behind 443).
PUBLIC_PORT = env("PUBLIC_PORT", default="")
SITE_SCHEME = env("SITE_SCHEME", default="http")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[BASE_DOMAIN, f".{BASE_DOMAIN}"])

SHARED_APPS = [
    "django_tenants",
    "marketplace",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "allauth",
    "allauth.account",
]
TENANT_APPS = [
    "producers",
    "pickup_points",
    "orders",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "marketplace.Collective"
TENANT_DOMAIN_MODEL = "marketplace.Domain"
PUBLIC_SCHEMA_NAME = "public"
# New collectives are cloned from this schema instead of running every migration (see marketplace.tenancy).
TENANT_BASE_SCHEMA = "tenant_template"
# Clones of the template made ahead of time (marketplace.spares): a new collective takes one and is live at
# once. 0: every new collective clones the template as it is created.
TENANT_SPARE_SCHEMAS = env.int("TENANT_SPARE_SCHEMAS", default=2)
# Send `SET search_path` once per tenant switch instead of before every query (about a quarter of the time
# of a catalogue import's preview went there). django-tenants forgets the setting on set_tenant, close,
# rollback and savepoint rollback, so a stale path is never trusted.
TENANT_LIMIT_SET_CALLS = True
# migrate_schemas skips the schemas whose migrations are all applied, read in one query for all of them
# (marketplace.migration_executor); `--executor multiprocessing` migrates the others in parallel.
GET_EXECUTOR_FUNCTION = "marketplace.migration_executor.get_executor"
TENANT_MULTIPROCESSING_MAX_PROCESSES = env.int("TENANT_MULTIPROCESSING_MAX_PROCESSES", default=2)
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"
DEFAULT_NOT_FOUND_TENANT_VIEW = "marketplace.views.public.unknown_collective"

MIDDLEWARE = [
    # The request id first: every log line and error of the request carries it (issue 20).
    "marketplace.observability.RequestIdMiddleware",
    # Security headers first: TenantMainMiddleware answers an unknown host's page by itself.
    "django.middleware.security.SecurityMiddleware",
    "marketplace.headers.ContentSecurityPolicyMiddleware",
    "marketplace.headers.PermissionsPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_tenants.middleware.main.TenantMainMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages compressed (gzip) once every middleware below has written them; WhiteNoise, above, serves static
    # files pre-compressed (gzip and brotli) by CompressedManifestStaticFilesStorage (issue 16).
    "marketplace.middleware.TextGZipMiddleware",
    # A suspended collective's site says so (503), before any session or view (issue 20).
    "marketplace.middleware.SuspendedCollectiveMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # A form POST's fields read in one pass, before the CSRF check asks for them (the 300-field cart).
    "marketplace.middleware.FormBodyMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, with the account read with the session (marketplace.sessions).
    "marketplace.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "marketplace.middleware.MembershipMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "marketplace.context_processors.collective",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {"default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/etal")}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# Parameters bound by the server, and a statement run twice on a connection prepared there: PostgreSQL then
# parses and plans it once per connection (it plans again by itself if the tenant's search_path changed). A
# checkout's 19 statements cost 2 ms less on the database. Behind PgBouncer in transaction mode this needs
# PgBouncer ≥ 1.21 with max_prepared_statements set (see the README's deployment section).
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 2
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")

AUTH_USER_MODEL = "marketplace.User"
# Django's and allauth's backends, reading the signed-in account with one plain statement.
AUTHENTICATION_BACKENDS = [
    "marketplace.auth_backends.ModelBackend",
    "marketplace.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_SIGNUP_FORM_CLASS = "marketplace.forms.SignupExtraForm"
ACCOUNT_ADAPTER = "marketplace.adapters.AccountAdapter"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]  # named date formats per language (config/formats)
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Uploads are small images (logos, photos); anything bigger is refused by the forms.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# The sale page posts one quantity field per product, empty or not (the no-JavaScript cart): Django's
# default of 1 000 fields refused the cart of a sale of 1 000 products or more with a bare 400.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Files that name people (delivery sheets, purchase orders): never under MEDIA_ROOT, never given a URL, sent
# only by permission-checked views (marketplace.storage). In production they may sit in a private
# S3-compatible bucket instead: install django-storages[s3] and set
#   STORAGES["private"] = {"BACKEND": "storages.backends.s3.S3Storage",
#                          "OPTIONS": {"bucket_name": "etal-private", "default_acl": "private",
#                                      "querystring_auth": True, "file_overwrite": False}}
PRIVATE_ROOT = Path(env("PRIVATE_ROOT", default=str(BASE_DIR / "private")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {"BACKEND": "marketplace.storage.PrivateFileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# The platform serves uploaded media itself unless a front server (nginx, S3) is set up for it.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Étal <no-reply@etal.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

CELERY_BROKER_URL = REDIS_URL
# kombu's Redis transport, with one Redis client per channel instead of one per message (config.broker).
if REDIS_URL.startswith("redis://"):
    CELERY_BROKER_TRANSPORT = "config.broker:Transport"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Work that follows a commit is a row (marketplace.followups), done by followup_run on the "celery" queue or,
# for PDF rendering, on the "sheets" queue (its own workers: rendering spreads across hosts and a big close
# does not hold back e-mails). (soft, hard) time limits per queue, in seconds: a stuck SMTP server or Stripe
# call is cut after 90 s, a sheet after 300 s; a claimed follow-up whose worker died is taken again once its
# hard limit (plus 30 s) has passed.
FOLLOWUP_TIME_LIMITS = {"celery": (60, 90), "sheets": (240, 300)}
FOLLOWUP_MAX_ATTEMPTS = (
    12  # then it stays failed, for the operator (retried with 30 s, 1 min, … 30 min delays)
)
# A sheet with more order lines than this is rendered in parts (a sign-in sheet by slots, a delivery sheet by
# pickup points), one task each, then merged: a big close spreads over every rendering worker, and no render
# takes more than a few seconds (about 60 pages a part).
SHEET_PART_LINES = env.int("SHEET_PART_LINES", default=400)
FOLLOWUP_QUEUED_GRACE_SECONDS = 120  # queued this recently: it may still wait in the broker, leave it
CELERY_TASK_SOFT_TIME_LIMIT = FOLLOWUP_TIME_LIMITS["celery"][0]
CELERY_TASK_TIME_LIMIT = FOLLOWUP_TIME_LIMITS["celery"][1]
# Redis hands an unacknowledged task to another worker after this long (the default, 1 hour, would leave a
# killed worker's tasks waiting that long): above the longest hard time limit, so no task runs twice at once.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
# A task running when the broker connection drops cannot be acknowledged: stop it (Celery 6's default); its
# follow-up is taken again once its lease has passed.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# A rendering worker restarts its process once it holds this much (KiB): WeasyPrint's memory is not returned.
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", default=400_000)
# Fan-out tasks in the public schema; each enqueues one task per collective (orders.tasks). They expire
# before the next beat: while the workers are down, beat's ticks do not pile up (the next run catches up).
CELERY_BEAT_SCHEDULE: dict = {
    "followups-sweep": {
        "task": "marketplace.tasks.followups_sweep",
        "schedule": crontab(),  # every minute: what a lost task, a dead worker or a broker outage left
        "options": {"expires": 55},
    },
    "due-sales": {
        "task": "orders.tasks.tenants_due_sales",
        "schedule": crontab(),  # every minute: the collectives that are due in the clock's due-index
        "options": {"expires": 55},
    },
    "clock-check": {
        "task": "orders.tasks.tenants_clock_check",
        # every hour: every collective (its schedules, and the safety net of the due-index)
        "schedule": crontab(minute=7),
        "options": {"expires": 3300},
    },
}

CACHES = {
    "default": {
        # Redis, but pages go on when it does not answer (marketplace.cache), after at most a second or two.
        "BACKEND": "marketplace.cache.TolerantRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
    }
}

INVITATION_VALID_DAYS = 14
# The one-time sign-in that lands a new collective's creator on its sub-domain (marketplace.SignInHandoff):
# used by the redirect that follows at once, so a short life is enough.
SIGNIN_HANDOFF_SECONDS = 120

# Stripe (card payments through Stripe Checkout on each collective's connected account). Secrets come only
# from the environment. STRIPE_API_BASE points the official library elsewhere than api.stripe.com: `make dev`
# and the tests set it to the local Stripe double (devtools/stripe_double) when no real key is given.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
# One secret per webhook endpoint (platform events and connected-account events may use two endpoints).
STRIPE_WEBHOOK_SECRETS = env.list("STRIPE_WEBHOOK_SECRETS", default=[])
# A card authorisation stays capturable for 7 days on most cards: keep a day of margin.
STRIPE_AUTHORIZATION_DAYS = env.int("STRIPE_AUTHORIZATION_DAYS", default=6)
# The instance runs as a Stripe Connect platform: a collective may then pay its producers by Connect
# transfers (charges on the platform, producers' Express accounts), instead of SEPA files only.
STRIPE_CONNECT_PLATFORM = env.bool("STRIPE_CONNECT_PLATFORM", default=False)
# A Stripe call or a PDF render inside a transaction would hold its row locks that long (marketplace.guards):
# "log" reports it as an error, "raise" refuses it, "allow" stays silent.
SLOW_WORK_IN_TRANSACTION = env("SLOW_WORK_IN_TRANSACTION", default="log")

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
# Database sessions (the public schema), a change written as one UPDATE instead of BEGIN, UPDATE, COMMIT.
SESSION_ENGINE = "marketplace.sessions"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "stripe": {"level": "WARNING"},  # one line per API call otherwise
    },
}

# Set to ".<BASE_DOMAIN>" in production so that one sign-in covers the public site and every collective.
SESSION_COOKIE_DOMAIN = env("SESSION_COOKIE_DOMAIN", default=None)
CSRF_COOKIE_DOMAIN = SESSION_COOKIE_DOMAIN

# Members' rights (RGPD) -------------------------------------------------------------------------------------
# The legal notice (« Mentions légales ») names who runs the platform and who hosts it.
PLATFORM_OPERATOR_NAME = env("PLATFORM_OPERATOR_NAME", default="Association Étal (exploitant à renseigner)")
PLATFORM_OPERATOR_ADDRESS = env("PLATFORM_OPERATOR_ADDRESS", default="")
PLATFORM_OPERATOR_EMAIL = env("PLATFORM_OPERATOR_EMAIL", default="contact@etal.localhost")
PLATFORM_PUBLICATION_DIRECTOR = env("PLATFORM_PUBLICATION_DIRECTOR", default="")
PLATFORM_HOST_NAME = env("PLATFORM_HOST_NAME", default="")
PLATFORM_HOST_ADDRESS = env("PLATFORM_HOST_ADDRESS", default="")
# Retention (stated on the privacy pages): catalogue import files are kept this many days; invitations never
# accepted INVITATION_VALID_DAYS after they expired; sessions end after SESSION_COOKIE_AGE (Django: 2 weeks)
# and expired ones are deleted by the same nightly job.
IMPORT_JOB_RETENTION_DAYS = env.int("IMPORT_JOB_RETENTION_DAYS", default=7)
# « Rejoindre comme producteur »: a refused application is kept this long after the answer, then deleted.
PRODUCER_APPLICATION_REFUSED_RETENTION_DAYS = env.int(
    "PRODUCER_APPLICATION_REFUSED_RETENTION_DAYS", default=90
)
# The public application and « Lancer un drive » forms, per address (allauth's rate-limit syntax).
PUBLIC_FORM_RATE_LIMIT = env.str("PUBLIC_FORM_RATE_LIMIT", default="10/h/ip")
CELERY_BEAT_SCHEDULE["data-retention"] = {
    "task": "marketplace.tasks.data_retention_run",
    "schedule": crontab(hour=3, minute=17),  # every night
    "options": {"expires": 3600},
}

# A deleted collective can be restored for this many days; then the nightly purge writes a last archive to
# private storage (under COLLECTIVE_ARCHIVES_FOLDER) and drops its schema and files (marketplace.archives).
COLLECTIVE_GRACE_DAYS = env.int("COLLECTIVE_GRACE_DAYS", default=30)
COLLECTIVE_ARCHIVES_FOLDER = "archives"
CELERY_BEAT_SCHEDULE["spare-schemas"] = {
    "task": "marketplace.tasks.spares_fill",
    "schedule": crontab(minute="*/10"),  # after a deploy's migrations: stale spares replaced
    "options": {"expires": 540},
}
CELERY_BEAT_SCHEDULE["collectives-purge"] = {
    "task": "marketplace.tasks.collectives_purge",
    "schedule": crontab(hour=3, minute=47),  # every night
    "options": {"expires": 3600},
}

# --- Security headers (issue 13) ---------------------------------------------------------------------------
# Sent in every environment (production included) by marketplace.headers. The pages use no inline script,
# style attribute or event handler, and every asset is local: nothing 'unsafe-inline', no CDN. form-action
# also gets, at each response, the platform's hosts and the Stripe pages (marketplace.headers.form_targets).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
# Stripe's hosted pages the card flow and Connect onboarding redirect to after a form (form-action).
STRIPE_HOSTED_ORIGINS = env.list(
    "STRIPE_HOSTED_ORIGINS", default=["https://checkout.stripe.com", "https://connect.stripe.com"]
)
# Browser features: none, except the camera for the page itself (the day page will scan QR codes).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "camera": ["self"],
    **{
        feature: []
        for feature in [
            "accelerometer",
            "autoplay",
            "browsing-topics",
            "display-capture",
            "encrypted-media",
            "geolocation",
            "gyroscope",
            "hid",
            "magnetometer",
            "microphone",
            "midi",
            "payment",
            "screen-wake-lock",
            "serial",
            "usb",
            "xr-spatial-tracking",
        ]
    },
}
# SecurityMiddleware: these are Django's defaults, stated so that the policy is read in one place.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Behind a reverse proxy: sign-in rate limits (issue 13) -------------------------------------------------
# allauth limits sign-ins per client address. Behind N reverse proxies of ours, the address it must use is the
# N-th entry from the right of X-Forwarded-For (each proxy appends the address it saw); 0 (development, no
# proxy) ignores that header, which any client can write. docker-compose.yml sets 1 (one proxy on the host).
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Or a header the proxy sets to the client's address, overwriting the client's own (e.g. X-Real-IP).
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = env("TRUSTED_CLIENT_IP_HEADER", default=None)
# allauth's defaults, stated: 30 sign-in attempts a minute per address; failed ones 10 a minute per address
# and 5 in 5 minutes per account *and address* (marketplace.adapters: a stranger cannot lock a member out).
ACCOUNT_RATE_LIMITS = {"login": "30/m/ip", "login_failed": "10/m/ip,5/5m/key"}
# « Proposer un point de retrait » (public, no account, marketplace.point_proposals): 5 an hour per address.
ACCOUNT_RATE_LIMITS["point_proposal"] = "5/h/ip"
# A proposed pickup point nobody accepted is deleted after this many days, with its contact; an accepted one
# too, counted from its acceptance (the point itself lives on in the collective that accepted it).
POINT_PROPOSAL_KEEP_DAYS = 90

# --- Operations: health (issue 20) -------------------------------------------------------------------------
# /sante/ is the load balancer's floor (no query); /sante/detail/ (public host, staff, marketplace.health)
# checks PostgreSQL, Redis (cache and broker), both storages, a Celery worker per queue and beat's clock.
# A monitor without a staff session sends `Authorization: Bearer <HEALTH_CHECK_TOKEN>` (empty: staff only).
HEALTH_CHECK_TOKEN = env("HEALTH_CHECK_TOKEN", default="")
HEALTH_CELERY_TIMEOUT = env.float("HEALTH_CELERY_TIMEOUT", default=1.0)  # seconds a worker has to answer
HEALTH_BEAT_MAX_AGE = env.int("HEALTH_BEAT_MAX_AGE", default=180)  # seconds since beat's last tick

# --- Operations: e-mail that arrives (issue 20) ------------------------------------------------------------
# SMTP through EMAIL_URL stays the default. EMAIL_PROVIDER=brevo|mailjet|postmark|sendgrid|mailgun|… sends
# through that provider's API (django-anymail); its settings are the environment variables named after it
# (BREVO_API_KEY; MAILJET_API_KEY and MAILJET_SECRET_KEY; POSTMARK_SERVER_TOKEN…). Its tracking webhook is
# https://user:password@<BASE_DOMAIN>/anymail/<provider>/tracking/, ANYMAIL_WEBHOOK_SECRET="user:password"
# (the URL exists only once that secret is set): bounces and complaints mark the address (email_delivery).
SHARED_APPS.append("anymail")
INSTALLED_APPS.append("anymail")
EMAIL_PROVIDER = env("EMAIL_PROVIDER", default="")
ANYMAIL = {"WEBHOOK_SECRET": env("ANYMAIL_WEBHOOK_SECRET", default="")}
if EMAIL_PROVIDER:
    EMAIL_BACKEND = f"anymail.backends.{EMAIL_PROVIDER}.EmailBackend"
    _provider_prefix = f"{EMAIL_PROVIDER.upper()}_"
    ANYMAIL.update({name: value for name, value in env.ENVIRON.items() if name.startswith(_provider_prefix)})

# --- Operations: errors and logs (issue 20) ----------------------------------------------------------------
# Each line carries the collective's schema and the request id (marketplace.observability). LOG_FORMAT=json
# for the log collector (production's default), "text" to read in a terminal. No e-mail or phone in logs:
# Django's and allauth's loggers stay at WARNING (their INFO lines may name an address).
LOG_FORMAT = env("LOG_FORMAT", default="text")
LOGGING["filters"] = {"context": {"()": "marketplace.observability.ContextFilter"}}
LOGGING["formatters"] = {
    "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(schema)s %(request_id)s] %(message)s"},
    "json": {"()": "marketplace.observability.JsonFormatter"},
}
LOGGING["handlers"]["console"].update({"filters": ["context"], "formatter": LOG_FORMAT})
LOGGING["loggers"].update(
    {"allauth": {"level": "WARNING"}, "django": {"level": "WARNING"}, "django.server": {"level": "INFO"}}
)
# Sentry (or a compatible catcher such as GlitchTip) only when SENTRY_DSN is set: nothing is sent otherwise.
SENTRY_DSN = env("SENTRY_DSN", default="")
# Named after the settings module (production, dev…) unless given.
SENTRY_ENVIRONMENT = env(
    "SENTRY_ENVIRONMENT", default=env("DJANGO_SETTINGS_MODULE", default="config.settings.dev").rsplit(".")[-1]
)
if SENTRY_DSN:
    from marketplace.observability import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
