"""A real Celery worker, fed through the real Redis broker, sends the invitation e-mail."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from config.celery import app


@pytest.fixture
def real_worker(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield
    finally:
        app.conf.task_always_eager = True


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
