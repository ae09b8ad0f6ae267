"""Solidarity prices: a collective's price tiers, each member's tier, and the solidarity fund's account.

A tier moves every price of a member by a percentage of the base price (« solidaire » −30 %, « de soutien »
+15 %). Suppliers are always paid the base price; the difference goes to or comes from the solidarity fund,
whose running balance (`SolidarityFund`, one row) moves only with its ledger entries (LedgerEntry with
account = fund), under its row lock (orders.locks.fund_lock), and a CHECK keeps it at or above zero.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PriceTier(models.Model):
    name = models.CharField(_("nom du tarif"), max_length=40)
    percent = models.DecimalField(
        _("écart au prix de base (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("-90")), MaxValueValidator(Decimal("100"))],
        help_text=_(
            "Négatif pour une remise (−30 : prix moins 30 %), positif pour un soutien (15 : prix plus 15 %)."
        ),
    )
    description = models.CharField(_("pour qui"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("ordre d'affichage"), default=0)
    is_active = models.BooleanField(_("proposé aux membres"), default=True)

    class Meta:
        verbose_name = _("tarif")
        verbose_name_plural = _("tarifs")
        ordering = ["position", "percent", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__gte=Decimal("-90")) & Q(percent__lte=Decimal("100")),
                name="price_tier_percent_range",
            ),
            models.UniqueConstraint(fields=["name"], name="price_tier_name_once"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_discount(self) -> bool:
        return self.percent < 0


class MemberTier(models.Model):
    """A member's tier in this collective: chosen by the member (a self-declaration, no proof is kept) or
    assigned by a coordinator. No row: the base price."""

    # DO_NOTHING: accounts live in the public schema (see Order.user).
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+")
    tier = models.ForeignKey(PriceTier, on_delete=models.PROTECT, related_name="members")
    chosen_by_member = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("tarif d'un membre")
        verbose_name_plural = _("tarifs des membres")

    def __str__(self) -> str:
        return f"{self.user_id} {self.tier_id}"


class SolidarityFund(models.Model):
    """The fund's running balance (one row per collective), kept with its entries like a member's account."""

    balance = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))

    class Meta:
        verbose_name = _("fonds solidaire")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="solidarity_fund_single_row"),
            models.CheckConstraint(condition=Q(balance__gte=0), name="solidarity_fund_never_negative"),
        ]

    def __str__(self) -> str:
        return str(self.balance)
