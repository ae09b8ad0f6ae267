"""Producers' statements (« relevés »): what each producer sold in a sale, minus the collective's commission,
and how it is paid (SEPA credit-transfer files). A statement never changes once issued: a correction is a new
statement that supersedes it."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import connection, models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketplace.storage import private_storage
from orders.models.sales import Sale
from producers.models import Producer, Unit


def statement_file_path(instance, filename: str) -> str:
    """Under the collective's own folder of the private storage: statements are the producers' books."""
    return f"{connection.schema_name}/statements/{filename}"


class ProducerBankAccount(models.Model):
    """Where a producer is paid: the account holder and IBAN (BIC optional inside the SEPA area)."""

    producer = models.OneToOneField(Producer, on_delete=models.CASCADE, related_name="bank_account")
    holder = models.CharField(_("titulaire du compte"), max_length=70)
    iban = models.CharField(_("IBAN"), max_length=34)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("coordonnées bancaires d'un producteur")

    def __str__(self) -> str:
        return f"{self.holder} {self.iban[:4]}…"

    @property
    def iban_display(self) -> str:
        """« FR76 •••• 0189 »: enough for the producer to recognise it, not enough to copy it."""
        return f"{self.iban[:4]} •••• {self.iban[-4:]}"


class StatementRun(models.Model):
    """Marks that a sale's statements were issued (once; corrections are issued by hand)."""

    sale = models.OneToOneField(Sale, on_delete=models.CASCADE, related_name="statement_run")
    issued_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return str(self.sale_id)


class Transfer(models.Model):
    """A SEPA credit-transfer file (pain.001) prepared for the bank, paying some statements at once."""

    class Status(models.TextChoices):
        PREPARED = "prepared", _("virement préparé")
        PAID = "paid", _("payé")

    message_id = models.CharField(max_length=35, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    # DO_NOTHING: accounts live in the public schema (see Order.user).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+", null=True
    )
    execution_date = models.DateField(_("date d'exécution demandée"))
    total = models.DecimalField(max_digits=12, decimal_places=2)
    count = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREPARED)
    paid_on = models.DateField(_("payé le"), null=True, blank=True)
    file = models.FileField(upload_to=statement_file_path, storage=private_storage, max_length=255)

    class Meta:
        verbose_name = _("virement SEPA")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(total__gt=0), name="transfer_total_positive"),
            models.CheckConstraint(
                condition=Q(status="prepared") | Q(paid_on__isnull=False), name="transfer_paid_has_date"
            ),
        ]

    def __str__(self) -> str:
        return self.message_id


class Statement(models.Model):
    """One producer's statement for one sale: gross sales (final amounts, weighed where weighed), the
    collective's commission excl. VAT and its VAT, and what is due. Immutable once issued except for its
    payment status and its file."""

    class Status(models.TextChoices):
        ISSUED = "issued", _("à payer")
        PREPARED = "prepared", _("virement préparé")
        PAID = "paid", _("payé")
        REPLACED = "replaced", _("remplacé par un relevé corrigé")

    number = models.PositiveIntegerField(_("numéro"), unique=True)
    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="statements")
    producer = models.ForeignKey(Producer, on_delete=models.PROTECT, related_name="statements")
    issued_at = models.DateTimeField(default=timezone.now)
    gross = models.DecimalField(_("ventes TTC"), max_digits=12, decimal_places=2)
    commission_percent = models.DecimalField(max_digits=5, decimal_places=2)
    commission_vat_rate = models.DecimalField(max_digits=4, decimal_places=1)
    commission_ht = models.DecimalField(max_digits=12, decimal_places=2)
    commission_vat = models.DecimalField(max_digits=12, decimal_places=2)
    # A correction of a statement already paid (or being paid) deducts what that one pays.
    already_paid = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    due = models.DecimalField(_("net à payer"), max_digits=12, decimal_places=2)
    corrects = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="correction"
    )
    is_current = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ISSUED)
    transfer = models.ForeignKey(
        Transfer, on_delete=models.PROTECT, null=True, blank=True, related_name="statements"
    )
    paid_on = models.DateField(_("payé le"), null=True, blank=True)
    # Paid by a Stripe Connect transfer (orders.models.connect.StripeTransfer) instead of a SEPA file.
    stripe_paid_at = models.DateTimeField(_("versé par Stripe le"), null=True, blank=True)
    file = models.FileField(
        upload_to=statement_file_path, storage=private_storage, max_length=255, blank=True
    )
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("relevé producteur")
        verbose_name_plural = _("relevés producteurs")
        ordering = ["-issued_at", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["sale", "producer"], condition=Q(is_current=True), name="statement_one_current"
            ),
            models.CheckConstraint(
                condition=Q(due=F("gross") - F("commission_ht") - F("commission_vat") - F("already_paid")),
                name="statement_due_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(status="issued")
                | Q(status="replaced")
                | Q(transfer__isnull=False)
                | Q(stripe_paid_at__isnull=False),
                name="statement_paid_through_transfer",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"R-{self.number:05d}"

    @property
    def commission(self) -> Decimal:
        return self.commission_ht + self.commission_vat


class StatementLine(models.Model):
    """What was sold to whom, copied when the statement is issued: members appear by basket number only."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="lines")
    basket = models.CharField(_("panier"), max_length=30)
    name = models.CharField(max_length=120)
    unit = models.CharField(max_length=12, choices=Unit.choices)
    quantity = models.PositiveIntegerField()
    weight_kg = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    vat_rate = models.DecimalField(max_digits=3, decimal_places=1)
    amount = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.name}"


class MonthlyStatement(models.Model):
    """A producer's month: every statement issued in that month, in one PDF (made again as the month
    fills, e-mailed once the month is over)."""

    producer = models.ForeignKey(Producer, on_delete=models.CASCADE, related_name="monthly_statements")
    month = models.DateField()  # the 1st of the month
    file = models.FileField(upload_to=statement_file_path, storage=private_storage, max_length=255)
    created_at = models.DateTimeField(default=timezone.now)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-month", "producer__name"]
        constraints = [
            models.UniqueConstraint(fields=["producer", "month"], name="monthly_statement_once"),
        ]

    def __str__(self) -> str:
        return f"{self.producer_id} {self.month:%Y-%m}"
