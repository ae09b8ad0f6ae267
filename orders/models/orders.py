"""Sales (ordering windows), their offers, recurring schedules, orders and order lines (tenant models)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketplace.money import money
from orders.models.payments import PaymentMethod, PaymentStatus
from orders.models.sales import Offer, Sale
from pickup_points.models import SlotBooking
from producers import weighing
from producers.models import Unit

MAX_LINE_QUANTITY = 99


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
    # The member's price tier when the order was last placed or changed (orders.pricing), and the percentage
    # its lines were priced at: 0 when the fund could not cover a discount (the base price).
    price_tier = models.ForeignKey(
        "orders.PriceTier", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    tier_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
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
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)  # the member's (their tier's)
    # What the supplier is paid: the base price and the line's amount at it (sheets, statements).
    base_unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    base_amount = models.DecimalField(max_digits=12, decimal_places=2)
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

    @property
    def base_final_amount(self) -> Decimal:
        """What the supplier is paid for the line: at the base price, weighed where weighed."""
        if self.weighed_amount is not None and self.weight_kg is not None:
            return money(self.base_unit_price * self.weight_kg)
        return self.base_amount

    @property
    def fund_share(self) -> Decimal:
        """What the line gives to the fund (support) or takes from it (a discount, negative)."""
        return self.final_amount - self.base_final_amount

    def pieces_text(self, quantity: int | None = None) -> str:
        """« 3 pièces ≈ 900 g ≈ 21,60 € », once weighed « 3 pièces, 912 g : 21,89 € » (producers.weighing).
        The estimated weight per piece is the offer's, frozen with the sale."""
        return weighing.pieces_text(
            pieces=self.quantity,
            piece_kg=self.offer.estimated_weight_kg,
            amount=self.amount,
            weighed_kg=self.weight_kg,
            weighed_amount=self.weighed_amount,
        )


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
