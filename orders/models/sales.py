"""A collective's shop settings, recurring schedules, sales and their offers."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.core.signals import request_finished, request_started
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketplace.money import money
from orders.models.payments import PaymentMethod
from orders.sales.recurrence import MonthlyRule, WeeklyRule
from pickup_points.models import Distribution, PickupPoint
from producers import weighing
from producers.models import Producer, Product, Unit

# The settings read during one web request, per schema: a checkout reads them in its view (the methods
# offered) and again in its service (the method chosen); one query is enough. None outside a request (a
# worker's task reads them afresh each time).
_read_in_request: ContextVar[dict[str, ShopSettings] | None] = ContextVar("shop_settings_read", default=None)


def _request_begins(**_kwargs) -> None:
    _read_in_request.set({})


def _request_ends(**_kwargs) -> None:
    _read_in_request.set(None)


request_started.connect(_request_begins, dispatch_uid="orders.shop_settings.request_started")
request_finished.connect(_request_ends, dispatch_uid="orders.shop_settings.request_finished")


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

    wait_hold_minutes = models.PositiveSmallIntegerField(
        _("délai pour accepter une place de liste d'attente (minutes)"),
        default=120,
        validators=[MinValueValidator(15), MaxValueValidator(72 * 60)],
        help_text=_(
            "Une place libérée est réservée ce temps-là au premier de la liste d'attente (jamais au-delà "
            "de la clôture), puis proposée au suivant."
        ),
    )

    credit_allowed = models.BooleanField(
        _("avoirs et versements d'avance"),
        default=False,
        help_text=_(
            "Un membre peut garder en avoir ce qui lui est dû, verser d'avance, et payer une commande "
            "avec son avoir."
        ),
    )
    credit_overdraft = models.DecimalField(
        _("découvert autorisé (€)"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("500"))],
        help_text=_("Jusqu'où le solde d'avoir d'un membre peut descendre sous zéro (0 : jamais)."),
    )
    # Producers' statements (orders.statements): the collective's commission on what producers sell, and
    # the account the SEPA transfers to producers leave from.
    commission_percent = models.DecimalField(
        _("commission du collectif (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("50"))],
        help_text=_("Retenue sur les ventes TTC de chaque producteur, hors taxes."),
    )
    commission_vat_rate = models.DecimalField(
        _("TVA sur la commission (%)"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("20.0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("30"))],
        help_text=_("0 si le collectif n'est pas assujetti à la TVA."),
    )
    bank_holder = models.CharField(_("titulaire du compte du collectif"), max_length=70, blank=True)
    bank_iban = models.CharField(_("IBAN du collectif"), max_length=34, blank=True)
    bank_bic = models.CharField(_("BIC du collectif"), max_length=11, blank=True)

    class Payout(models.TextChoices):
        SEPA = "sepa", _("Fichier de virements SEPA")
        CONNECT = "connect", _("Stripe Connect")

    producer_payout = models.CharField(
        _("paiement des producteurs"),
        max_length=10,
        choices=Payout.choices,
        default=Payout.SEPA,
        help_text=_(
            "Stripe Connect : les paiements par carte arrivent sur la plateforme, chaque producteur reçoit "
            "son dû sur son compte Stripe dès son relevé établi, la commission va au compte du collectif."
        ),
    )

    class Meta:
        verbose_name = _("réglages des ventes")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="shop_settings_single_row")]

    def __str__(self) -> str:
        return ", ".join(self.payment_methods)

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        read = _read_in_request.get()
        if read is not None:
            read.pop(connection.schema_name, None)  # type: ignore[attr-defined]

    @classmethod
    def read_with_request(cls, found: ShopSettings | None) -> None:
        """The settings were read with another row of this request (`found`: None when never saved):
        current() answers with them, no query more. Outside a request nothing is kept."""
        read = _read_in_request.get()
        if read is not None:
            read[connection.schema_name] = found or cls._unsaved()  # type: ignore[attr-defined]

    @classmethod
    def _unsaved(cls) -> ShopSettings:
        return cls(pk=1, payment_methods=[PaymentMethod.CASH])  # the defaults: cash only

    @classmethod
    def current(cls) -> ShopSettings:
        """The saved settings, or the defaults (cash only) unsaved: reading never writes. Read once per web
        request (and again after they are saved)."""
        read = _read_in_request.get()
        schema = connection.schema_name  # type: ignore[attr-defined]  # django-tenants' connection
        if read is not None and schema in read:
            return read[schema]
        found = cls.objects.filter(pk=1).first() or cls._unsaved()
        if read is not None:
            read[schema] = found
        return found

    @property
    def pays_by_connect(self) -> bool:
        return self.producer_payout == self.Payout.CONNECT

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

    # The members who have not ordered are reminded this long before the closing (orders.closing.jobs).
    REMINDER_BEFORE_CLOSING = timedelta(hours=24)

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
    # Set once, after the distribution, by the job that takes what it handed over out of the producers'
    # central stocks (orders.closing.jobs.sale_stock_deliver).
    stock_delivered_at = models.DateTimeField(null=True, blank=True, editable=False)
    schedule = models.ForeignKey(
        RecurringSchedule, on_delete=models.SET_NULL, null=True, blank=True, related_name="sales"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Bumped by every change of the sale's offers (orders.sales.services): part of the key of the sale
    # page's cached offer list (orders.checkout.offer_list), read with the sale at no extra cost.
    offers_version = models.PositiveIntegerField(default=0, editable=False)

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

    def clock_next(self) -> datetime | None:
        """The sale's next moment for the clock before its close (its opening e-mail, its reminder, its
        closing), as orders.closing.due reads it for all sales at once; None when unpublished or closed."""
        if not self.is_published or self.closed_at is not None:
            return None
        moments = [self.closes_at]
        if self.opened_notified_at is None:
            moments.append(self.opens_at)
        reminder = self.closes_at - self.REMINDER_BEFORE_CLOSING
        if self.reminded_at is None and self.opens_at < reminder:
            moments.append(reminder)
        return min(moments)


class Offer(models.Model):
    """A product in one sale, its price frozen when the sale was made: members pay what they saw."""

    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="offers")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="offers")
    producer = models.ForeignKey(Producer, on_delete=models.PROTECT, related_name="offers")
    name = models.CharField(_("nom"), max_length=120)
    unit = models.CharField(_("unité"), max_length=12, choices=Unit.choices)
    price = models.DecimalField(_("prix TTC (€)"), max_digits=12, decimal_places=2)
    # Set when a price agreement covered the sale's opening (producers.agreements): « prix garanti jusqu'au ».
    guaranteed_until = models.DateField(null=True, blank=True)
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
        """What members may still order: this sale's quantity left, within the producer's central stock when
        the product is a shared one (read with select_related("product__shared_product"), as sale_offers
        does, so that the sale page takes no query per offer)."""
        own = None if self.quantity is None else max(self.quantity - self.sold, 0)
        central = self.product.central_available
        if central is None:
            return own
        return central if own is None else min(own, central)

    @property
    def unit_amount(self) -> Decimal:
        """What one unit costs the member: the price, or the estimated price of one weighed piece."""
        if self.is_variable_weight and self.estimated_weight_kg:
            return money(self.price * self.estimated_weight_kg)
        return self.price

    def amount_for(self, quantity: int) -> Decimal:
        """What `quantity` units cost, rounded once for the line (as the order line will be)."""
        return money(self.unit_amount * quantity)

    def pieces_text(self, quantity: int | None = None) -> str:
        """« 1 pièce ≈ 300 g ≈ 7,20 € » for a weighed offer (producers.weighing, the one wording)."""
        pieces = quantity or 1
        return weighing.pieces_text(
            pieces=pieces, piece_kg=self.estimated_weight_kg, amount=self.amount_for(pieces)
        )
