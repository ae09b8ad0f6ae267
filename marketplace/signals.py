"""Signals other apps listen to."""

from django.dispatch import Signal

# Sent inside the acceptance transaction, in the collective's schema, with `invitation` and `membership`:
# tenant apps link the account to what `invitation.scope` names (a producer, a pickup point…).
invitation_accepted = Signal()
