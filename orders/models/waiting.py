"""Waiting lists on full slots: a member waits for a place in a slot; a freed place is offered to the first
in line as a hold (the place is counted in the slot's `reserved`, so nobody else can take it), for a set time,
then to the next. Everything lapses when the sale closes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SlotWait(models.Model):
    """One member's place in the waiting list of one slot. Entries never move back to WAITING: an offer that
    lapses or is declined ends the entry, and the next in line is offered the place."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("en attente")
        OFFERED = "offered", _("place réservée pour vous")
        ACCEPTED = "accepted", _("place obtenue")
        EXPIRED = "expired", _("offre expirée")
        LEFT = "left", _("désinscrit")
        LAPSED = "lapsed", _("vente close")

    OPEN = (Status.WAITING, Status.OFFERED)

    sale = models.ForeignKey("orders.Sale", on_delete=models.CASCADE, related_name="slot_waits")
    slot = models.ForeignKey("pickup_points.PickupSlot", on_delete=models.CASCADE, related_name="waits")
    # DO_NOTHING as pickup_points.PointStaff.user: accounts live in the public schema.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    joined_at = models.DateTimeField(default=timezone.now, editable=False)
    offered_at = models.DateTimeField(null=True, blank=True)
    offered_until = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["joined_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["slot", "user"],
                # Two equalities, not IN: PostgreSQL prints IN back in a form that re-reads differently,
                # and a cloned schema must equal a migrated one (tests/marketplace/test_tenancy.py).
                condition=Q(status="waiting") | Q(status="offered"),
                name="slot_wait_once_open",
                violation_error_message=_("Vous êtes déjà sur la liste d'attente de ce créneau."),
            ),
            models.CheckConstraint(
                condition=~Q(status="offered") | Q(offered_until__isnull=False),
                name="slot_wait_offer_has_end",
            ),
        ]
        indexes = [
            models.Index(
                fields=["slot", "joined_at", "id"],
                condition=Q(status="waiting"),
                name="slot_wait_line",
            ),
            models.Index(fields=["offered_until"], condition=Q(status="offered"), name="slot_wait_offers"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.slot_id} ({self.status})"

    @property
    def is_offered(self) -> bool:
        return self.status == self.Status.OFFERED
