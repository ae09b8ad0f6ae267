"""Logs and errors that say where they come from: each log line and each Sentry event carries the
collective's schema and the request id (an incoming well-formed X-Request-ID, else a new one, echoed back).

Imported by the settings (sentry_init) and by LOGGING (the filter and formatter): nothing Django at import.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid

access_logger = logging.getLogger("marketplace.requests")
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_WELL_FORMED = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def _schema() -> str:
    try:
        from django.db import connection

        return getattr(connection, "schema_name", "-") or "-"
    except Exception:  # before Django is set up (a log line while importing settings)
        return "-"


class RequestIdMiddleware:
    """First in MIDDLEWARE: every log line of the request and its Sentry events carry this id."""

    def __init__(self, get_response):
        from django.core.signals import request_finished

        self.get_response = get_response
        # Django logs a 4xx/5xx response after the middleware chain returned: the id is cleared only once
        # the response is finished.
        request_finished.connect(_request_id_clear, dispatch_uid="marketplace.observability.request_id")

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _WELL_FORMED.match(incoming) else uuid.uuid4().hex
        request_id_var.set(request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        # The path only: a query string may carry an address (a search, a sign-in link).
        # Only when written: reading request.user costs a session and a user query on pages that never did.
        if access_logger.isEnabledFor(logging.DEBUG):
            user_id = getattr(getattr(request, "user", None), "pk", None)
            access_logger.debug(
                "%s %s %s user=%s", request.method, request.path, response.status_code, user_id
            )
        return response


def _request_id_clear(**kwargs) -> None:
    request_id_var.set("-")


class ContextFilter(logging.Filter):
    """Adds `schema` (the collective's, or public) and `request_id` (or the Celery task's id) to records."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.schema = _schema()
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for the log collector in production."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "schema": getattr(record, "schema", "-"),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _sentry_before_send(event, hint):
    tags = event.setdefault("tags", {})
    tags.setdefault("schema", _schema())
    tags.setdefault("request_id", request_id_var.get())
    return event


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float = 0.0) -> None:
    """Errors of Django and Celery to Sentry (or any Sentry-compatible catcher), without personal data."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        # A frame's variables may hold a member's address or name (request.user, a form's data): not sent.
        include_local_variables=False,
        traces_sample_rate=traces_sample_rate,
        before_send=_sentry_before_send,
    )


REQUEST_ID_HEADER = "etal_request_id"


def celery_request_id_publish(headers: dict | None = None, **kwargs) -> None:
    """celery.signals.before_task_publish: a task queued while serving a request (directly or as a follow-up
    handed over on commit) carries that request's id in its message headers."""
    request_id = request_id_var.get()
    if headers is not None and request_id != "-":
        headers.setdefault(REQUEST_ID_HEADER, request_id)


def celery_task_context(task_id: str | None = None, task=None, **kwargs) -> None:
    """celery.signals.task_prerun: a task's log lines carry the id of the request that queued it, else the
    task's own id (beat's ticks, the sweeper's re-queues)."""
    request = getattr(task, "request", None)
    queued_by = getattr(request, REQUEST_ID_HEADER, None) or (getattr(request, "headers", None) or {}).get(
        REQUEST_ID_HEADER
    )
    request_id_var.set(
        queued_by if isinstance(queued_by, str) and _WELL_FORMED.match(queued_by) else task_id or "-"
    )
