"""Slow or remote work (a Stripe call, a PDF render) never runs inside a transaction: its row locks would
wait on it. SLOW_WORK_IN_TRANSACTION says what such a call does: "log" an error (production), "raise"
(tests/orders/test_no_remote_work_in_transactions.py), "allow" (the tests that run inside their own
transaction, as pytest-django's do)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)


class SlowWorkInTransaction(RuntimeError):
    """A Stripe call or a PDF render inside a transaction."""


def slow_work_outside_transactions(what: str) -> None:
    if not connection.in_atomic_block or settings.SLOW_WORK_IN_TRANSACTION == "allow":
        return
    if settings.SLOW_WORK_IN_TRANSACTION == "raise":
        raise SlowWorkInTransaction(f"{what} inside a transaction")
    logger.error("%s inside a transaction", what, stack_info=True)
