"""E-mail that arrives: the provider's tracking webhook (anymail, public host, basic auth) marks a bounced or
complained-about address, and coordinators see it on their members page, with the phone to call instead."""

from __future__ import annotations

import base64
import json
import re

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings

from marketplace.models import Membership, Role, User
from tests.conftest import words

pytestmark = pytest.mark.django_db

BADGE = "Ne reçoit pas les e-mails : appelez-le·la"


def _auth(secret: str) -> str:
    return "Basic " + base64.b64encode(secret.encode()).decode()


def _postmark(client, payload: dict, secret: str = settings.ANYMAIL["WEBHOOK_SECRET"]):
    return client.post(
        "/anymail/postmark/tracking/",
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=_auth(secret),
    )


def _bounce(email: str) -> dict:
    """Postmark's bounce webhook, as anymail's own tests post it."""
    return {
        "RecordType": "Bounce",
        "ID": 901542550,
        "Type": "HardBounce",
        "TypeCode": 1,
        "Name": "Hard bounce",
        "MessageID": "2706ee8a-737c-4285-b032-ccd317af53ed",
        "ServerID": 23,
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": email,
        "From": "no-reply@etal.localhost",
        "BouncedAt": "2026-04-27T16:28:50.3963933-04:00",
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Bienvenue",
    }


def _member_with_phone(alpha) -> User:
    alpha.member.phone = "06 12 34 56 78"
    alpha.member.save(update_fields=["phone"])
    return alpha.member


def test_a_bounce_shows_on_the_coordinators_members_page(browse, public_host, alpha):
    member = _member_with_phone(alpha)
    coordinator = browse(alpha, alpha.coordinator)
    assert BADGE not in words(coordinator.get("/membres/"))

    response = _postmark(browse(public_host), _bounce(member.email.upper()))
    assert response.status_code == 200

    page = words(coordinator.get("/membres/"))
    assert f"{BADGE} au 06 12 34 56 78" in page
    assert page.count(BADGE) == 1  # the member, nobody else
    assert page.count("06 12 34 56 78") == 1  # the number once, in the sentence that says to call
    member.refresh_from_db()
    assert member.email_undeliverable_reason == "bounced"


def test_a_spam_complaint_marks_the_address_too(browse, public_host, alpha):
    complaint = {
        "RecordType": "SpamComplaint",
        "ID": 42,
        "Type": "SpamComplaint",
        "Email": alpha.producer.email,
        "BouncedAt": "2026-04-27T16:28:50Z",
        "MessageID": "x",
    }
    assert _postmark(browse(public_host), complaint).status_code == 200
    page = words(browse(alpha, alpha.coordinator).get("/membres/"))
    assert BADGE in page  # no phone known: the badge without a number
    alpha.producer.refresh_from_db()
    assert alpha.producer.email_undeliverable_reason == "complained"


def test_a_webhook_with_the_wrong_secret_changes_nothing(browse, public_host, alpha):
    for secret in ["fournisseur:autre", ""]:
        response = _postmark(browse(public_host), _bounce(alpha.member.email), secret=secret)
        assert response.status_code in {400, 401, 403}
    response = browse(public_host).post(
        "/anymail/postmark/tracking/",
        json.dumps(_bounce(alpha.member.email)),
        content_type="application/json",
    )
    assert response.status_code in {400, 401, 403}
    alpha.member.refresh_from_db()
    assert alpha.member.email_undeliverable_at is None
    assert BADGE not in words(browse(alpha, alpha.coordinator).get("/membres/"))


def test_the_webhook_lives_on_the_public_host_only(browse, alpha):
    response = _postmark(browse(alpha), _bounce(alpha.member.email))
    assert response.status_code == 404
    alpha.member.refresh_from_db()
    assert alpha.member.email_undeliverable_at is None


def test_another_collectives_coordinator_sees_nothing_of_it(browse, public_host, alpha, beta):
    _postmark(browse(public_host), _bounce(alpha.member.email))
    page = words(browse(beta, beta.coordinator).get("/membres/"))
    assert BADGE not in page
    assert alpha.member.email not in page
    # Once the member also belongs to beta, beta's coordinator sees the same account's mark.
    Membership.objects.create(user=alpha.member, collective=beta.collective, roles=[Role.MEMBER])
    assert BADGE in words(browse(beta, beta.coordinator).get("/membres/"))


def test_members_and_producers_do_not_reach_the_members_page(browse, public_host, alpha):
    _postmark(browse(public_host), _bounce(alpha.member.email))
    for person in [alpha.member, alpha.producer]:
        response = browse(alpha, person).get("/membres/")
        assert response.status_code in {302, 403}
        assert BADGE not in words(response)


def test_a_later_delivery_clears_the_mark(browse, public_host, alpha):
    _postmark(browse(public_host), _bounce(alpha.member.email))
    delivery = {
        "RecordType": "Delivery",
        "MessageID": "y",
        "Recipient": alpha.member.email,
        "DeliveredAt": "2026-05-01T10:00:00Z",
        "Details": "Test delivery",
    }
    assert _postmark(browse(public_host), delivery).status_code == 200
    assert BADGE not in words(browse(alpha, alpha.coordinator).get("/membres/"))


def _confirm_link(client, mailbox) -> str:
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+)", mailbox[-1].body)
    assert link, mailbox[-1].body
    return link.group(1)


def test_confirming_the_address_again_clears_the_mark(browse, public_host, alpha, mailoutbox):
    _postmark(browse(public_host), _bounce(alpha.member.email))
    member = browse(alpha, alpha.member)
    response = member.post("/accounts/email/", {"action_send": "", "email": alpha.member.email})
    assert response.status_code in {200, 302}
    assert _member_marked(alpha.member)
    member.post(_confirm_link(member, mailoutbox))
    assert not _member_marked(alpha.member)
    assert BADGE not in words(browse(alpha, alpha.coordinator).get("/membres/"))


def test_changing_the_address_clears_the_mark(browse, public_host, alpha, mailoutbox):
    EmailAddress.objects.create(user=alpha.member, email=alpha.member.email, primary=True, verified=True)
    _postmark(browse(public_host), _bounce(alpha.member.email))
    member = browse(alpha, alpha.member)
    member.post("/accounts/email/", {"action_add": "", "email": "maud.nouvelle@exemple.test"})
    member.post(_confirm_link(member, mailoutbox))
    assert _member_marked(alpha.member)  # a second address confirmed: the account's own is still the one
    member.post("/accounts/email/", {"action_primary": "", "email": "maud.nouvelle@exemple.test"})
    alpha.member.refresh_from_db()
    assert alpha.member.email == "maud.nouvelle@exemple.test"
    assert not _member_marked(alpha.member)


def _member_marked(user: User) -> bool:
    user.refresh_from_db()
    return user.email_undeliverable_at is not None
