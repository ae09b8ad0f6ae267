"""Every movement of a member's money in the collective, with its reason: the ledger.

One entry per movement, signed from the member's side: positive in their favour (a payment, a due lowered,
credit kept), negative against them (an order due, a refund they received, credit spent). So a member's
balance is the sum of their entries: negative, they owe; positive, the collective owes them.

Entries hang on an order (what it cost, how it was paid and given back) or on the member's account itself
(order NULL: top-ups and credit, « avoir »). Moving credit onto an order is two entries of opposite signs.

`MemberAccount` is the account part's running balance, moved only with its entries, under its row lock, so
that a CHECK constraint keeps it above the collective's floor even when spends race each other; it is
derivable from the entries (ledger.selectors.account_balance_from_entries) and a test checks they agree.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LedgerEntry(models.Model):
    class Kind(models.TextChoices):
        ORDER_DUE = "order_due", _("commande")
        ORDER_CHANGE = "order_change", _("commande modifiée")
        WEIGHING = "weighing", _("pesée")
        ORDER_CANCELLED = "order_cancelled", _("commande annulée")
        GOODWILL = "goodwill", _("geste commercial")
        CARD_PAYMENT = "card_payment", _("paiement par carte")
        CAPTURE = "capture", _("autorisation débitée")
        ONSITE_PAYMENT = "onsite_payment", _("paiement sur place")
        REFUND = "refund", _("remboursement")
        CREDIT_KEPT = "credit_kept", _("avoir")
        CREDIT_SPENT = "credit_spent", _("avoir utilisé")
        TOPUP = "topup", _("versement d'avance")
        # The solidarity fund (orders.models.solidarity): what flows in and out of it, and why.
        TIER_DISCOUNT = "tier_discount", _("remise solidaire")
        TIER_SUPPORT = "tier_support", _("soutien")
        GIFT = "gift", _("don au fonds solidaire")
        SUSPENDED_BASKET = "suspended_basket", _("panier suspendu")
        FUND_SHORT = "fund_short", _("remise non couverte par le fonds")

    class Account(models.TextChoices):
        MEMBER = "member", _("membre")
        FUND = "fund", _("fonds solidaire")

    # What the order costs (its due and the changes of it); money in and out; credit moves.
    DUE_KINDS = (Kind.ORDER_DUE, Kind.ORDER_CHANGE, Kind.WEIGHING, Kind.ORDER_CANCELLED)
    MONEY_KINDS = (Kind.CARD_PAYMENT, Kind.CAPTURE, Kind.ONSITE_PAYMENT, Kind.REFUND, Kind.TOPUP)
    CREDIT_KINDS = (Kind.CREDIT_KEPT, Kind.CREDIT_SPENT)
    # An order's share of the fund: its tier's difference with the base price (projected, see ledger.fund).
    TIER_KINDS = (Kind.TIER_DISCOUNT, Kind.TIER_SUPPORT)
    GIFT_KINDS = (Kind.GIFT, Kind.SUSPENDED_BASKET)

    # Whose account moves: the member's (signed from their side) or the solidarity fund's (signed from the
    # fund's side: + into the fund). A fund entry's user is the member it concerns (the giver, the order's).
    account = models.CharField(_("compte"), max_length=6, choices=Account.choices, default=Account.MEMBER)
    # DO_NOTHING: accounts live in the public schema (see Order.user).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+")
    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    kind = models.CharField(_("nature"), max_length=20, choices=Kind.choices)
    amount = models.DecimalField(_("montant"), max_digits=12, decimal_places=2)
    method = models.CharField(_("moyen de paiement"), max_length=20, blank=True)
    reason = models.CharField(_("motif"), max_length=200)
    payment = models.ForeignKey(
        "orders.Payment", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    refund = models.ForeignKey(
        "orders.Refund", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    # What must be written once (a goodwill adjustment for one Stripe refund…): a unique key.
    key = models.CharField(max_length=80, unique=True, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("date"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("écriture")
        verbose_name_plural = _("écritures")
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["user", "created_at"], name="ledger_user_created"),
            models.Index(fields=["account", "created_at"], name="ledger_account_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_entry_not_zero"),
            models.CheckConstraint(
                # Equalities, not IN: PostgreSQL prints an IN list differently once a schema is cloned.
                condition=Q(order__isnull=False)
                | Q(kind="topup")
                | Q(kind="credit_kept")
                | Q(kind="credit_spent")
                | Q(kind="gift")
                | Q(kind="suspended_basket"),
                name="ledger_account_entries_are_credit_topup_or_gift",
            ),
            models.CheckConstraint(
                condition=Q(account="member")
                | Q(kind="tier_discount")
                | Q(kind="tier_support")
                | Q(kind="gift")
                | Q(kind="suspended_basket"),
                name="ledger_fund_entries_kinds",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.amount}"


class MemberAccount(models.Model):
    """The running balance of a member's account part (entries without an order), kept with them."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+")
    balance = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    # How far below zero the collective let this account go, copied at each move (ShopSettings).
    overdraft = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=-F("overdraft")), name="member_account_above_floor"
            ),
            models.CheckConstraint(condition=Q(overdraft__gte=0), name="member_account_overdraft_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.balance}"
