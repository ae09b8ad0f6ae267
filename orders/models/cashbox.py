"""The treasurer's books per distribution: each point's cash box (what was counted against what the ledger
expects, per method, the difference with its reason, closed once), and the issuers of food vouchers."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pickup_points.models import Distribution, PickupPoint


class VoucherIssuer(models.Model):
    """Who issues the food vouchers a collective accepts (a CCAS, a meal-voucher company…): the treasurer
    claims each one's total. Kept, never deleted once used; an issuer no longer accepted is made inactive."""

    name = models.CharField(_("émetteur"), max_length=120, unique=True)
    is_active = models.BooleanField(_("accepté"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("émetteur de bons")
        verbose_name_plural = _("émetteurs de bons")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CashBox(models.Model):
    """A point's cash box at one distribution: counted per method, then closed once by the treasury."""

    class Method(models.TextChoices):
        CASH = "cash", _("Espèces")
        CHEQUE = "cheque", _("Chèques")

    distribution = models.ForeignKey(Distribution, on_delete=models.PROTECT, related_name="+")
    point = models.ForeignKey(PickupPoint, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(_("clôturée le"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("caisse")
        verbose_name_plural = _("caisses")
        constraints = [
            models.UniqueConstraint(fields=["distribution", "point"], name="cash_box_one_per_point_and_day"),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_by__isnull=False), name="cash_box_closed_by"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.distribution_id}/{self.point_id}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class CashCount(models.Model):
    """What was counted for one method, against what the ledger expected at that moment. Never changed: a
    correction is a new count, and the latest of each method stands."""

    cash_box = models.ForeignKey(CashBox, on_delete=models.PROTECT, related_name="counts")
    method = models.CharField(_("moyen de paiement"), max_length=10, choices=CashBox.Method.choices)
    counted = models.DecimalField(_("compté"), max_digits=12, decimal_places=2)
    expected = models.DecimalField(_("attendu"), max_digits=12, decimal_places=2)
    difference = models.DecimalField(_("écart"), max_digits=12, decimal_places=2)
    reason = models.CharField(_("motif de l'écart"), max_length=200, blank=True)
    # The form's token: a double submit (or a reload of the POST) records one count.
    key = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+")
    created_at = models.DateTimeField(_("date"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("comptage de caisse")
        verbose_name_plural = _("comptages de caisse")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(counted__gte=0), name="cash_count_not_negative"),
            models.CheckConstraint(
                condition=Q(difference=F("counted") - F("expected")), name="cash_count_difference"
            ),
            models.CheckConstraint(
                condition=Q(difference=0) | ~Q(reason=""), name="cash_count_difference_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cash_box_id} {self.method} {self.counted}"

    @property
    def has_difference(self) -> bool:
        return self.difference != Decimal("0")
