"""Settings of the load benchmark (bench/order_load.py): the test settings, with allauth's log-in rate
limits off (every simulated member signs in from 127.0.0.1) and Celery tasks queued to Redis as in
production (database 14, emptied by the benchmark) instead of run inside the request."""

from urllib.parse import urlsplit, urlunsplit

from .test import *  # noqa: F403

ACCOUNT_RATE_LIMITS = False
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_URL = urlunsplit(urlsplit(REDIS_URL)._replace(path="/14"))  # noqa: F405
