"""Settings of the load benchmark (bench/order_load.py): the test settings, with allauth's log-in rate
limits off (every simulated member signs in from 127.0.0.1)."""

from .test import *  # noqa: F403

ACCOUNT_RATE_LIMITS = False
