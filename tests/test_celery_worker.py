"""A real Celery worker, fed through the real Redis broker, sends the invitation e-mail."""

import logging
import time

import pytest
from django.core import mail

from marketplace.observability import ContextFilter


@pytest.mark.django_db(transaction=True)
def test_invitation_email_is_sent_by_the_worker(real_worker, browse, alpha):
    coordinator = browse(alpha, alpha.coordinator)
    response = coordinator.post("/invitations/", {"email": "nouvelle@exemple.test", "role": "producer"})
    assert response.status_code == 200
    deadline = time.monotonic() + 20
    while not mail.outbox and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["nouvelle@exemple.test"]
    assert "Invitation à rejoindre Drive Alpha" in message.subject
    assert "http://alpha.localhost/invitation/" in message.body


class _Records(logging.Handler):
    """Keeps the records of the worker's thread, with the context the production handlers add."""

    def __init__(self):
        super().__init__(level=logging.INFO)
        self.addFilter(ContextFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.mark.django_db(transaction=True)
def test_the_task_a_request_queued_logs_that_request_s_id(real_worker, browse, alpha):
    records = _Records()
    trace = logging.getLogger("marketplace.followups")
    level = trace.level
    trace.setLevel(logging.INFO)
    trace.addHandler(records)
    try:
        coordinator = browse(alpha, alpha.coordinator)
        response = coordinator.post(
            "/invitations/",
            {"email": "nouvelle@exemple.test", "role": "producer"},
            HTTP_X_REQUEST_ID="req-invitation-0001",
        )
        assert response["X-Request-ID"] == "req-invitation-0001"
        deadline = time.monotonic() + 20
        while not mail.outbox and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(mail.outbox) == 1
        deadline = time.monotonic() + 5  # the follow-up's line comes just after the e-mail left
        while (
            not any("done" in record.getMessage() for record in records.records)
            and time.monotonic() < deadline
        ):
            time.sleep(0.1)
    finally:
        trace.removeHandler(records)
        trace.setLevel(level)
    done = [record for record in records.records if "invitation_send) done" in record.getMessage()]
    assert done, [record.getMessage() for record in records.records]
    assert {record.request_id for record in done} == {"req-invitation-0001"}
