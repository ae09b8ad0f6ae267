"""Waiting lists on full slots and sold-out products: a member waits for a place in a slot (or units of a
product); what frees up is offered to the first in line as a hold (counted in the slot's `reserved`, or the
offer's `sold`, so nobody else can take it), for a set time, then to the next. Everything lapses when the
sale closes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WaitEntry(models.Model):
    """What every waiting-list entry has: who waits, since when, the hold offered to them (until when) and
    when the entry ended. Entries never move back to waiting: a hold that lapses or is declined ends the
    entry, and the next in line is offered it."""

    # DO_NOTHING as pickup_points.PointStaff.user: accounts live in the public schema.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+")
    joined_at = models.DateTimeField(default=timezone.now, editable=False)
    offered_at = models.DateTimeField(null=True, blank=True)
    offered_until = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["joined_at", "pk"]

    @property
    def is_offered(self) -> bool:
        return self.status == self.Status.OFFERED  # type: ignore[attr-defined]


class SlotWait(WaitEntry):
    """One member's place in the waiting list of one slot."""

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
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    # Joined for a whole full pickup point (« le premier créneau libéré »): one entry per slot of the point,
    # and once the member has a place in one of them, the others end.
    point_wide = models.BooleanField(default=False)

    class Meta(WaitEntry.Meta):
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


class OfferWait(WaitEntry):
    """One member's place in the waiting list of a sold-out product of a sale, for a number of units. Units
    freed (an order cancelled or lowered, a quantity raised) are offered to the first in line as a hold: they
    are counted in the offer's `sold` (and a shared product's central stock), so nobody else can take them,
    for a set time, then they go to the next. Everything lapses when the sale closes."""

    class Status(models.TextChoices):  # the values of SlotWait's, in a product's words
        WAITING = "waiting", _("en attente")
        OFFERED = "offered", _("réservé pour vous")
        ACCEPTED = "accepted", _("ajouté à la commande")
        EXPIRED = "expired", _("réservation expirée")
        LEFT = "left", _("désinscrit")
        LAPSED = "lapsed", _("vente close")

    OPEN = (Status.WAITING, Status.OFFERED)

    sale = models.ForeignKey("orders.Sale", on_delete=models.CASCADE, related_name="offer_waits")
    offer = models.ForeignKey("orders.Offer", on_delete=models.CASCADE, related_name="waits")
    wanted = models.PositiveSmallIntegerField(_("quantité souhaitée"), default=1)
    held = models.PositiveSmallIntegerField(_("quantité réservée"), default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)

    class Meta(WaitEntry.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["offer", "user"],
                condition=Q(status="waiting") | Q(status="offered"),  # two equalities: see SlotWait
                name="offer_wait_once_open",
                violation_error_message=_("Vous êtes déjà sur la liste d'attente de ce produit."),
            ),
            models.CheckConstraint(condition=Q(wanted__gte=1), name="offer_wait_wants_some"),
            # A hold has an end and at least one unit; never more than was asked for (`held` stays on an
            # ended entry: what was offered).
            models.CheckConstraint(
                condition=~Q(status="offered") | Q(offered_until__isnull=False, held__gte=1),
                name="offer_wait_offer_has_end",
            ),
            models.CheckConstraint(condition=Q(held__lte=models.F("wanted")), name="offer_wait_holds_asked"),
        ]
        indexes = [
            models.Index(
                fields=["offer", "joined_at", "id"],
                condition=Q(status="waiting"),
                name="offer_wait_line",
            ),
            models.Index(fields=["offered_until"], condition=Q(status="offered"), name="offer_wait_offers"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → offer {self.offer_id} × {self.wanted} ({self.status})"
