"""Sales (ordering windows), their offers, recurring schedules, orders and order lines (tenant models)."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketplace.money import money
from marketplace.storage import private_storage
from orders.recurrence import MonthlyRule, WeeklyRule
from pickup_points.models import Distribution, PickupPoint, SlotBooking
from producers.models import Producer, Product, Unit

MAX_LINE_QUANTITY = 99


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


class ShopSettings(models.Model):
    """The collective's ordering settings: one row per collective schema."""

    payment_methods = ArrayField(
        models.CharField(max_length=20, choices=PaymentMethod.choices),
        default=list,
        verbose_name=_("moyens de paiement acceptés"),
    )
    weight_margin_percent = models.PositiveSmallIntegerField(
        _("marge sur les produits au poids (%)"),
        default=15,
        validators=[MaxValueValidator(50)],
        help_text=_(
            "Payé par carte, un produit au poids est autorisé pour son estimation plus cette marge : "
            "le membre n'est jamais débité davantage."
        ),
    )
    card_hold_minutes = models.PositiveSmallIntegerField(
        _("délai de paiement par carte (minutes)"),
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)],
        help_text=_("Une commande non payée dans ce délai est annulée : produits et créneau sont libérés."),
    )

    class Meta:
        verbose_name = _("réglages des ventes")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="shop_settings_single_row")]

    def __str__(self) -> str:
        return ", ".join(self.payment_methods)

    @classmethod
    def current(cls) -> ShopSettings:
        """The saved settings, or the defaults (cash only) unsaved: reading never writes."""
        return cls.objects.filter(pk=1).first() or cls(pk=1, payment_methods=[PaymentMethod.CASH])

    def accepted_methods(self, *, card_ready: bool) -> list[tuple[str, str]]:
        """The methods members may choose; card only while the collective's Stripe account takes charges."""
        return [
            (value, label)
            for value, label in PaymentMethod.choices
            if value in self.payment_methods and (value != PaymentMethod.CARD or card_ready)
        ]


class RecurringSchedule(models.Model):
    """Creates the next sales by itself: weekly (drive) or monthly (buying group order form)."""

    class Kind(models.TextChoices):
        WEEKLY = "weekly", _("Chaque semaine")
        MONTHLY = "monthly", _("Chaque mois")

    title = models.CharField(_("intitulé des ventes"), max_length=120)
    kind = models.CharField(_("rythme"), max_length=10, choices=Kind.choices, default=Kind.WEEKLY)
    # Weekly: Monday = 0.
    open_weekday = models.PositiveSmallIntegerField(
        _("jour d'ouverture"), default=5, validators=[MaxValueValidator(6)]
    )
    close_weekday = models.PositiveSmallIntegerField(
        _("jour de clôture"), default=1, validators=[MaxValueValidator(6)]
    )
    distribution_weekday = models.PositiveSmallIntegerField(
        _("jour de distribution"), default=4, validators=[MaxValueValidator(6)]
    )
    # Monthly: days of the month (beyond the month's end → its last day).
    open_day = models.PositiveSmallIntegerField(
        _("jour d'ouverture du mois"), default=1, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    close_day = models.PositiveSmallIntegerField(
        _("jour de clôture du mois"), default=15, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    distribution_after_days = models.PositiveSmallIntegerField(
        _("distribution, jours après la clôture"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    open_time = models.TimeField(_("heure d'ouverture"), default=time(8, 0))
    close_time = models.TimeField(_("heure de clôture"), default=time(23, 59))
    distribution_start = models.TimeField(_("début de la distribution"), default=time(17, 0))
    distribution_end = models.TimeField(_("fin de la distribution"), default=time(19, 0))
    points = models.ManyToManyField(PickupPoint, verbose_name=_("points de retrait"), related_name="+")
    producers = models.ManyToManyField(Producer, verbose_name=_("producteurs"), related_name="+")
    sales_ahead = models.PositiveSmallIntegerField(
        _("ventes créées à l'avance"), default=2, validators=[MinValueValidator(1), MaxValueValidator(6)]
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("programmation récurrente")
        constraints = [
            models.CheckConstraint(
                condition=Q(distribution_end__gt=F("distribution_start")),
                name="schedule_distribution_ends_later",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def rule(self) -> WeeklyRule | MonthlyRule:
        common = {
            "open_time": self.open_time,
            "close_time": self.close_time,
            "distribution_start": self.distribution_start,
            "distribution_end": self.distribution_end,
        }
        if self.kind == self.Kind.WEEKLY:
            return WeeklyRule(
                open_weekday=self.open_weekday,
                close_weekday=self.close_weekday,
                distribution_weekday=self.distribution_weekday,
                **common,
            )
        return MonthlyRule(
            open_day=self.open_day,
            close_day=self.close_day,
            distribution_after_days=self.distribution_after_days,
            **common,
        )


class Sale(models.Model):
    """An ordering window (vente / bon de commande) and its distribution."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("brouillon")
        SCHEDULED = "scheduled", _("programmée")
        OPEN = "open", _("ouverte")
        CLOSED = "closed", _("close")

    title = models.CharField(_("intitulé"), max_length=120)
    opens_at = models.DateTimeField(_("ouverture des commandes"))
    closes_at = models.DateTimeField(_("clôture des commandes"))
    distribution = models.OneToOneField(
        Distribution, on_delete=models.PROTECT, related_name="sale", verbose_name=_("distribution")
    )
    distribution_starts_at = models.DateTimeField(_("début de la distribution"))
    distribution_ends_at = models.DateTimeField(_("fin de la distribution"))
    producers = models.ManyToManyField(Producer, verbose_name=_("producteurs"), related_name="sales")
    is_published = models.BooleanField(_("publiée"), default=False)
    # Set once by the closing job (jobs issue), in the same transaction as the closing work.
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set once by the opening and reminder jobs, in the same transaction that queues their e-mails.
    opened_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    schedule = models.ForeignKey(
        RecurringSchedule, on_delete=models.SET_NULL, null=True, blank=True, related_name="sales"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("vente")
        verbose_name_plural = _("ventes")
        ordering = ["-opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")), name="sale_closes_after_opening"
            ),
            models.CheckConstraint(
                condition=Q(distribution_starts_at__gte=F("closes_at")),
                name="sale_distribution_after_closing",
            ),
            models.CheckConstraint(
                condition=Q(distribution_ends_at__gt=F("distribution_starts_at")),
                name="sale_distribution_ends_later",
            ),
            models.UniqueConstraint(
                fields=["schedule", "opens_at"],
                condition=Q(schedule__isnull=False),
                name="sale_once_per_schedule_occurrence",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def status_at(self, moment) -> str:
        if not self.is_published:
            return self.Status.DRAFT
        if self.closed_at or moment >= self.closes_at:
            return self.Status.CLOSED
        if moment < self.opens_at:
            return self.Status.SCHEDULED
        return self.Status.OPEN

    @property
    def status(self) -> str:
        return self.status_at(timezone.now())

    def get_status_display(self) -> str:
        return self.Status(self.status).label

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class Offer(models.Model):
    """A product in one sale, its price frozen when the sale was made: members pay what they saw."""

    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="offers")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="offers")
    producer = models.ForeignKey(Producer, on_delete=models.PROTECT, related_name="offers")
    name = models.CharField(_("nom"), max_length=120)
    unit = models.CharField(_("unité"), max_length=12, choices=Unit.choices)
    price = models.DecimalField(_("prix TTC (€)"), max_digits=12, decimal_places=2)
    vat_rate = models.DecimalField(_("taux de TVA"), max_digits=3, decimal_places=1)
    is_variable_weight = models.BooleanField(default=False)
    estimated_weight_kg = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    # NULL: unlimited.
    quantity = models.PositiveIntegerField(_("quantité proposée"), null=True, blank=True)
    sold = models.PositiveIntegerField(_("quantité vendue"), default=0)

    class Meta:
        verbose_name = _("produit de la vente")
        verbose_name_plural = _("produits de la vente")
        ordering = ["producer__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["sale", "product"], name="offer_once_per_sale"),
            models.CheckConstraint(condition=Q(price__gt=0), name="offer_price_positive"),
            # The last line of defence against overselling: the counter can never pass the quantity.
            models.CheckConstraint(
                condition=Q(quantity__isnull=True) | Q(sold__lte=F("quantity")), name="offer_never_oversold"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def remaining(self) -> int | None:
        return None if self.quantity is None else max(self.quantity - self.sold, 0)

    @property
    def unit_amount(self) -> Decimal:
        """What one unit costs the member: the price, or the estimated price of one weighed piece."""
        if self.is_variable_weight and self.estimated_weight_kg:
            return money(self.price * self.estimated_weight_kg)
        return self.price


class Order(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed", _("validée")
        CANCELLED = "cancelled", _("annulée")

    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="orders")
    # DO_NOTHING: accounts live in the public schema, where Django cannot look for tenant rows; the
    # database's foreign key still refuses to delete an account that has orders.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+")
    number = models.CharField(_("numéro de commande"), max_length=20, unique=True)
    booking = models.OneToOneField(
        SlotBooking, on_delete=models.SET_NULL, null=True, blank=True, related_name="order"
    )
    basket_number = models.PositiveIntegerField(_("numéro de panier"), null=True, blank=True)
    payment_method = models.CharField(_("paiement"), max_length=20, choices=PaymentMethod.choices)
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.PLACED)
    total = models.DecimalField(_("total TTC"), max_digits=12, decimal_places=2, default=Decimal("0"))
    payment_status = models.CharField(
        _("règlement"), max_length=12, choices=PaymentStatus.choices, default=PaymentStatus.DUE
    )
    # Card orders not paid yet keep their stock and place until then (then the release job cancels them).
    hold_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("commande")
        verbose_name_plural = _("commandes")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["sale", "user"],
                condition=Q(status="placed"),
                name="order_one_placed_per_member_and_sale",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
        ]

    # The only moves an order's status may make, and the history kinds that may record each.
    TRANSITIONS = {
        (Status.PLACED, Status.CANCELLED): {"cancelled", "released"},
    }

    def __str__(self) -> str:
        return self.number

    def transition(self, *, to: str, kind: str, note: str = "", at=None) -> OrderEvent:
        """Move to status `to`, recorded as `kind`: the one way an order changes status (django-oscar's
        set_status). Refuses a move that is not allowed; returns the history row, not saved yet, so that a
        job moving many orders writes them in one INSERT. A cancelled order gives up its place and number."""
        allowed = self.TRANSITIONS.get((self.status, to), set())
        if kind not in allowed:
            raise ValueError(f"order {self.number}: {self.status} → {to} as {kind} is not allowed")
        self.status = to
        if to == self.Status.CANCELLED:
            self.booking = None
            self.basket_number = None  # the number may go to another household's booking
        return OrderEvent(order=self, kind=kind, note=note[:300], at=at or timezone.now())

    @property
    def is_placed(self) -> bool:
        return self.status == self.Status.PLACED

    @property
    def has_variable_weight(self) -> bool:
        return any(line.is_variable_weight for line in self.lines.all())

    @property
    def is_weighed(self) -> bool:
        """Every weighed line has its real weight (true for orders without weighed goods)."""
        return all(line.weight_kg is not None for line in self.lines.all() if line.is_variable_weight)

    @property
    def final_total(self) -> Decimal:
        """The amount due: the real amounts of weighed lines, the estimate for lines not weighed yet."""
        return sum((line.final_amount for line in self.lines.all()), Decimal("0"))


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="lines")
    name = models.CharField(max_length=120)
    unit = models.CharField(max_length=12, choices=Unit.choices)
    quantity = models.PositiveIntegerField(_("quantité"))
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    vat_rate = models.DecimalField(max_digits=3, decimal_places=1)
    is_variable_weight = models.BooleanField(default=False)
    # Incl. VAT, rounded once per line (estimated for variable weight until weighed).
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    # Variable weight: the total weight of the line's pieces once weighed, and the amount it gives.
    weight_kg = models.DecimalField(
        _("poids pesé (kg)"), max_digits=8, decimal_places=3, null=True, blank=True
    )
    weighed_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["offer__producer__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["order", "offer"], name="order_line_once_per_offer"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0) & Q(quantity__lte=MAX_LINE_QUANTITY),
                name="order_line_quantity_range",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="order_line_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(weight_kg__isnull=True) | (Q(is_variable_weight=True) & Q(weight_kg__gt=0)),
                name="order_line_weight_only_for_weighed_goods",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.name}"

    @property
    def final_amount(self) -> Decimal:
        return self.weighed_amount if self.weighed_amount is not None else self.amount


class OrderEvent(models.Model):
    """History of an order: every status change or edit writes one row (Order.transition for a change of
    status, services.order_event for the others)."""

    class Kind(models.TextChoices):
        PLACED = "placed", _("passée")
        UPDATED = "updated", _("modifiée")
        CANCELLED = "cancelled", _("annulée")
        RELEASED = "released", _("libérée, faute de paiement")
        LINES_CANCELLED = "lines_cancelled", _("produits retirés")
        SETTLED = "settled", _("réglée")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    note = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.order} {self.kind}"


def sheet_path_for(sale: Sale, filename: str) -> str:
    """Sheets live under the collective's own folder of the private storage, never in public media."""
    return f"{connection.schema_name}/sheets/sale-{sale.pk}/{filename}"


def sheet_path(sheet: Sheet, filename: str) -> str:
    return sheet_path_for(sheet.sale, filename)


class Sheet(models.Model):
    """A PDF made for a sale: what a producer brings, a pickup point's sign-in sheet, the coordinator's
    summary, or a supplier's purchase order (buying groups). Made again, it replaces the previous one."""

    class Kind(models.TextChoices):
        PRODUCER = "producer", _("Bon de livraison producteur")
        POINT = "point", _("Feuille d'émargement")
        SUMMARY = "summary", _("Récapitulatif de la vente")
        PURCHASE_ORDER = "purchase_order", _("Bon de commande fournisseur")

    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="sheets")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    producer = models.ForeignKey(Producer, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    point = models.ForeignKey(PickupPoint, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    title = models.CharField(max_length=200)
    file = models.FileField(upload_to=sheet_path, storage=private_storage, max_length=255)
    pages = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    # Set when the sheet has been e-mailed to whom it concerns; a sheet made again is sent again.
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["sale", "kind", "producer", "point"],
                nulls_distinct=False,
                name="sheet_once_per_subject",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class MemberPreferences(models.Model):
    """A member's choices in one collective (a row only once they changed something)."""

    # DO_NOTHING: accounts live in the public schema (see Order.user).
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+")
    reminders = models.BooleanField(
        _("recevoir un rappel la veille de la clôture si je n'ai pas commandé"), default=True
    )

    class Meta:
        verbose_name = _("préférences d'un membre")
        verbose_name_plural = _("préférences des membres")

    def __str__(self) -> str:
        return str(self.user_id)


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

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
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
