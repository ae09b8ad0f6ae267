"""Signals other apps listen to."""

from django.dispatch import Signal

# Sent inside the transaction that freed places in a slot (a booking released, capacity raised, slot
# reopened), with `slot_id`: the ordering app offers them to the slot's waiting list after the commit.
slot_freed = Signal()
