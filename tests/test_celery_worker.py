"""A real Celery worker, fed through the real Redis broker, sends the invitation e-mail."""

import time

import pytest
from django.core import mail


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
