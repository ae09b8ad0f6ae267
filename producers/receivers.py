"""What the producers app does when something happens elsewhere."""

from __future__ import annotations

from marketplace.models import Role
from producers import services
from producers.models import Producer


def link_account_on_invitation_accepted(sender, *, invitation, membership, **kwargs) -> None:
    """An invitation scoped to a producer links the account that accepted it to that producer.

    Sent inside the acceptance transaction, in the collective's schema; accepting twice links once.
    A producer deleted since the invitation was sent leaves the account with its role and nothing else.
    """
    producer_id = (invitation.scope or {}).get("producer")
    if invitation.role != Role.PRODUCER or not producer_id:
        return
    producer = Producer.objects.filter(pk=producer_id).first()
    if producer is not None:
        services.producer_account_link(producer=producer, user=membership.user)
