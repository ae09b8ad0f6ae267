"""How an order is paid: payment methods and statuses, payments (card or on site) and refunds."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PaymentMethod(models.TextChoices):
    CARD = "card", _("Carte bancaire en ligne")
    CASH = "cash", _("Espèces, sur place")
    CHEQUE = "cheque", _("Chèque, sur place")
    TRANSFER = "transfer", _("Virement bancaire")
    FOOD_VOUCHER = "food_voucher", _("Chèques alimentaires / titres-restaurant, sur place")


ON_SITE_METHODS = [method for method in PaymentMethod.values if method != PaymentMethod.CARD]


class PaymentStatus(models.TextChoices):
    """Where an order's money stands (kept on the order by payments.order_payment_refresh)."""

    DUE = "due", _("à régler")
    AWAITING = "awaiting", _("paiement en attente")
    AUTHORIZED = "authorized", _("carte autorisée, débit après pesée")
    PARTIAL = "partial", _("réglée en partie")
    PAID = "paid", _("payée")
    REFUNDED = "refunded", _("remboursée")


class Payment(models.Model):
    """Money received for an order: a card payment through Stripe Checkout (on the collective's connected
    account) or a payment recorded on site. Card payments change status only in payments.payment_sync, from
    what Stripe says (a verified event or a server-side retrieval)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("en attente")
        AUTHORIZED = "authorized", _("autorisé")
        SUCCEEDED = "succeeded", _("reçu")
        FAILED = "failed", _("refusé")
        CANCELED = "canceled", _("abandonné")

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(_("moyen de paiement"), max_length=20, choices=PaymentMethod.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    # Received (captured, or recorded on site); for an authorisation, what may still be captured.
    amount = models.DecimalField(_("montant"), max_digits=12, decimal_places=2, default=Decimal("0"))
    amount_authorized = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    capture_method = models.CharField(max_length=10, blank=True)
    stripe_account = models.CharField(max_length=64, blank=True)
    stripe_session_id = models.CharField(max_length=120, unique=True, null=True, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=120, unique=True, null=True, blank=True)
    checkout_url = models.URLField(max_length=500, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    note = models.CharField(_("précision"), max_length=200, blank=True)
    # Food vouchers: who issued them (the treasurer claims each issuer's total).
    issuer = models.ForeignKey(
        "orders.VoucherIssuer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("émetteur"),
    )
    # A transfer: the day the money reached the collective's bank, as the treasurer read it.
    received_on = models.DateField(_("reçu le"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(amount_authorized__gte=0), name="payment_authorized_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order} {self.method} {self.amount}"

    @property
    def is_card(self) -> bool:
        return self.method == PaymentMethod.CARD

    @property
    def refunded(self) -> Decimal:
        return sum(
            (refund.amount for refund in self.refunds.all() if refund.status != Refund.Status.FAILED),
            Decimal("0"),
        )


class Refund(models.Model):
    """Money given back on a payment, with its reason; card refunds are sent to Stripe by a task."""

    class Status(models.TextChoices):
        PENDING = "pending", _("en cours")
        SUCCEEDED = "succeeded", _("effectué")
        FAILED = "failed", _("échoué")

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(_("montant"), max_digits=12, decimal_places=2)
    reason = models.CharField(_("motif"), max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    stripe_refund_id = models.CharField(max_length=120, unique=True, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self) -> str:
        return f"{self.payment} −{self.amount}"
