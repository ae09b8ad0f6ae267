"""E-mail that arrives: the transactional provider's tracking webhook (django-anymail, on the public host,
with its basic auth) marks an address as undeliverable on a bounce, a spam complaint or a provider's refusal;
a later delivery to it clears the mark, and so does the member changing or confirming again their address
(allauth's signals). Coordinators see the mark on their members page."""

from __future__ import annotations

import logging

from allauth.account.signals import email_changed, email_confirmed
from anymail.signals import EventType, tracking
from django.dispatch import receiver

from marketplace import services
from marketplace.models import UndeliverableReason

logger = logging.getLogger(__name__)

_UNDELIVERABLE = {
    EventType.BOUNCED: UndeliverableReason.BOUNCED,
    EventType.COMPLAINED: UndeliverableReason.COMPLAINED,
    EventType.REJECTED: UndeliverableReason.REJECTED,
}


@receiver(tracking, dispatch_uid="marketplace.email_delivery.tracking_received")
def tracking_received(sender, event, esp_name: str, **kwargs) -> None:
    if not event.recipient:
        return
    reason = _UNDELIVERABLE.get(event.event_type)
    if reason is not None:
        marked = services.user_email_mark_undeliverable(
            email=event.recipient, reason=reason, at=event.timestamp
        )
        # No address in the log: the event's id and the provider say enough to find it there.
        logger.info(
            "E-mail undeliverable (%s, %s event %s): %d account(s)", reason, esp_name, event.event_id, marked
        )
    elif event.event_type == EventType.DELIVERED:
        services.user_email_mark_deliverable(email=event.recipient, at=event.timestamp)


@receiver(email_changed, dispatch_uid="marketplace.email_delivery.email_changed")
def address_changed(sender, request, user, from_email_address, to_email_address, **kwargs) -> None:
    services.user_email_mark_clear(user_id=user.pk)


@receiver(email_confirmed, dispatch_uid="marketplace.email_delivery.email_confirmed")
def address_confirmed(sender, request, email_address, **kwargs) -> None:
    """Confirming the account's own address proves it receives mail; another address changes nothing yet."""
    if email_address.email.lower() == email_address.user.email.lower():
        services.user_email_mark_clear(user_id=email_address.user_id)
