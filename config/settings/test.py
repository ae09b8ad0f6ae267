import os
from urllib.parse import urlsplit, urlunsplit

from .base import *  # noqa: F403

DEBUG = False
PUBLIC_PORT = ""
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Tasks run in-process in unit tests so that their e-mails can be read; tests/jobs start a real worker.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
MEDIA_ROOT = BASE_DIR / ".local" / "test-media"  # noqa: F405
PRIVATE_ROOT = BASE_DIR / ".local" / "test-private"  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# No spare schemas (marketplace.spares) made behind every collective a test creates: tests/marketplace/
# test_spares.py makes its own.
TENANT_SPARE_SCHEMAS = 0
# The test database is thrown away: its commits need not wait for the disk (the transactional tests, the live
# server's requests and the worker's tasks commit thousands of times; each waits ~2 ms for the WAL's fsync,
# more when the machine is busy). Only durability after a server crash is given up; what a concurrent
# transaction sees is unchanged.
DATABASES["default"].setdefault("OPTIONS", {})  # noqa: F405
DATABASES["default"]["OPTIONS"]["options"] = (  # noqa: F405
    DATABASES["default"]["OPTIONS"].get("options", "") + " -c synchronous_commit=off"  # noqa: F405
).strip()

# The tests' cache (allauth's log-in rate limits live there) gets a Redis database of its own, emptied at
# the start of every session, so that a run never inherits a lock-out from the previous one.
_redis = urlsplit(REDIS_URL)  # noqa: F405
# TEST_CACHE_DB keeps two runs on one machine (two work trees) apart.
_cache_db = env.int("TEST_CACHE_DB", default=15)  # noqa: F405
# Under `pytest -n 2` (make test) each process gets its own broker and cache databases and file folders, as
# it gets its own test database (pytest-django): a real worker of one never takes the other's tasks.
_xdist = os.environ.get("PYTEST_XDIST_WORKER", "")
if _xdist.startswith("gw"):
    _index = int(_xdist[2:])
    _cache_db -= _index
    CELERY_BROKER_URL = urlunsplit(_redis._replace(path=f"/{1 + _index}"))
    MEDIA_ROOT = BASE_DIR / ".local" / f"test-media-{_xdist}"  # noqa: F405
    PRIVATE_ROOT = BASE_DIR / ".local" / f"test-private-{_xdist}"  # noqa: F405
CACHES["default"]["LOCATION"] = urlunsplit(_redis._replace(path=f"/{_cache_db}"))  # noqa: F405

# Most tests run inside their own transaction (pytest-django): the guard test runs outside one and raises.
SLOW_WORK_IN_TRANSACTION = "allow"

# The e-mail provider's tracking webhook (anymail) is mounted only with a secret (basic auth).
ANYMAIL = {**ANYMAIL, "WEBHOOK_SECRET": "fournisseur:secret-du-webhook"}  # noqa: F405
