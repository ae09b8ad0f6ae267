"""Money through Stripe beyond an order's payment: producers' connected accounts (Express) and the Connect
transfers paying their statements (and the collective's commission), the reversals when a refund follows,
card top-ups of a member's account, and the copy of Stripe's balance kept for the treasurer's reconciliation.

Every row that asks Stripe for something is written first (an outbox row with a follow-up) and completed
after the call, under lock: a crash between the call and the attach is repaired by the retry, which sends
the same idempotency key (built from the row's id), so Stripe answers with the transfer it already made.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models.payments import Refund
from orders.models.sales import Sale
from orders.models.statements import Statement
from producers.models import Producer


class ProducerStripeAccount(models.Model):
    """A producer's Stripe Express account, where Connect transfers pay their statements."""

    producer = models.OneToOneField(Producer, on_delete=models.CASCADE, related_name="stripe_account")
    account_id = models.CharField(max_length=64, unique=True)
    payouts_enabled = models.BooleanField(default=False)
    details_submitted = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.account_id


class StripeTransfer(models.Model):
    """One Connect transfer for one statement: the producer's due, or the collective's commission."""

    class Kind(models.TextChoices):
        PRODUCER = "producer", _("producteur")
        COMMISSION = "commission", _("commission du collectif")

    class Status(models.TextChoices):
        WAITING = "waiting", _("en attente du compte Stripe")
        PENDING = "pending", _("en cours")
        SENT = "sent", _("versé")
        FAILED = "failed", _("refusé par Stripe")

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="stripe_transfers")
    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="stripe_transfers")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    transfer_group = models.CharField(max_length=80)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    destination = models.CharField(max_length=64, blank=True)
    stripe_transfer_id = models.CharField(max_length=120, unique=True, null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "kind"], name="stripe_transfer_once_per_statement"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="stripe_transfer_amount_positive"),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(stripe_transfer_id__isnull=False),
                name="stripe_transfer_sent_has_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.statement_id} {self.amount}"

    @property
    def reversed_amount(self) -> Decimal:
        return sum(
            (item.amount for item in self.reversals.all() if item.status != StripeReversal.Status.FAILED),
            Decimal("0"),
        )


class StripeReversal(models.Model):
    """The share of a refund taken back from a producer's transfer (once per refund and transfer)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("en cours")
        SENT = "sent", _("repris")
        FAILED = "failed", _("refusé par Stripe")

    transfer = models.ForeignKey(StripeTransfer, on_delete=models.PROTECT, related_name="reversals")
    refund = models.ForeignKey(Refund, on_delete=models.PROTECT, related_name="stripe_reversals")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    stripe_reversal_id = models.CharField(max_length=120, unique=True, null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["transfer", "refund"], name="stripe_reversal_once_per_refund"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="stripe_reversal_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.transfer_id} −{self.amount}"


class CardTopUp(models.Model):
    """A member tops up their account by card (Stripe Checkout); its ledger entry is written once, when
    Stripe says the money arrived (key `card-topup-<id>`)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("en attente")
        SUCCEEDED = "succeeded", _("reçu")
        CANCELED = "canceled", _("abandonné")

    # DO_NOTHING: accounts live in the public schema (see Order.user).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+")
    amount = models.DecimalField(_("montant"), max_digits=12, decimal_places=2)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    stripe_account = models.CharField(max_length=64, blank=True)
    stripe_session_id = models.CharField(max_length=120, unique=True, null=True, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=120, unique=True, null=True, blank=True)
    checkout_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="card_topup_amount_positive")]

    def __str__(self) -> str:
        return f"{self.user_id} +{self.amount}"


class StripeSync(models.Model):
    """A month of Stripe's balance, read by a follow-up (« Mettre à jour depuis Stripe ») and kept as rows
    so that the reconciliation page never calls Stripe itself."""

    month = models.DateField(unique=True)  # the 1st of the month
    requested_at = models.DateTimeField(default=timezone.now)
    fetched_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class StripeBalanceLine(models.Model):
    """One of Stripe's balance transactions (a charge, a refund, a transfer, a payout…) as read."""

    sync = models.ForeignKey(StripeSync, on_delete=models.CASCADE, related_name="lines")
    account = models.CharField(max_length=64, blank=True)  # "" : the platform's balance
    txn_id = models.CharField(max_length=120)
    type = models.CharField(max_length=40)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    fee = models.DecimalField(max_digits=12, decimal_places=2)
    net = models.DecimalField(max_digits=12, decimal_places=2)
    created = models.DateTimeField()
    source_id = models.CharField(max_length=120, blank=True)
    payment_intent_id = models.CharField(max_length=120, blank=True)
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["created", "pk"]
        constraints = [models.UniqueConstraint(fields=["sync", "txn_id"], name="stripe_balance_line_once")]

    def __str__(self) -> str:
        return f"{self.type} {self.amount}"
