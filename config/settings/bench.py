"""Settings of the load benchmark (bench/order_load.py): the test settings, with allauth's log-in rate
limits off (every simulated member signs in from 127.0.0.1) and Celery tasks queued to Redis as in
production (database 14, emptied by the benchmark) instead of run inside the request."""

from urllib.parse import urlsplit, urlunsplit

from .test import *  # noqa: F403

ACCOUNT_RATE_LIMITS = False
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_URL = urlunsplit(urlsplit(REDIS_URL)._replace(path="/14"))  # noqa: F405

# The servers benchmarked keep production's database connections (config/settings/production.py): persistent,
# checked before reuse, and commits that wait for the disk (the tests' synchronous_commit=off taken off).
DATABASES["default"]["CONN_MAX_AGE"] = 60  # noqa: F405
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405
DATABASES["default"]["OPTIONS"]["options"] = (  # noqa: F405
    DATABASES["default"]["OPTIONS"]["options"].replace("-c synchronous_commit=off", "").strip()  # noqa: F405
)
