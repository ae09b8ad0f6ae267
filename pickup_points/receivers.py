"""Reactions to other apps' signals."""

from __future__ import annotations

from django.dispatch import receiver

from marketplace.models import Invitation
from marketplace.signals import invitation_accepted
from pickup_points import services


@receiver(invitation_accepted, sender=Invitation, dispatch_uid="pickup_points.staff_from_invitation")
def assign_staff_from_invitation(sender, *, invitation, membership, **kwargs) -> None:
    """An invitation to the staff of a point (scope {"pickup_point": id}) assigns the account to it."""
    services.staff_assign_from_invitation(invitation=invitation, membership=membership)
