"""Pickup points, their hours and closures, distributions (pickup days), time slots and slot bookings.

Everything here lives in the collective's schema; staff and households are accounts of the public schema.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# A slot never lasts more than a working day; a longer one is a typing mistake.
SLOT_MINUTES_MAX = 8 * 60
SLOT_CAPACITY_MAX = 500


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("lundi")
    TUESDAY = 1, _("mardi")
    WEDNESDAY = 2, _("mercredi")
    THURSDAY = 3, _("jeudi")
    FRIDAY = 4, _("vendredi")
    SATURDAY = 5, _("samedi")
    SUNDAY = 6, _("dimanche")


class PickupPoint(models.Model):
    """Where members collect their orders: a town-hall room, a social centre, an association's premises."""

    name = models.CharField(_("nom du point de retrait"), max_length=120)
    address = models.CharField(_("adresse"), max_length=200)
    postcode = models.CharField(
        _("code postal"),
        max_length=5,
        blank=True,
        validators=[RegexValidator(r"^\d{5}$", _("Un code postal a 5 chiffres, par ex. 47000."))],
    )
    town = models.CharField(_("commune"), max_length=120)
    map_url = models.URLField(
        _("lien vers la carte"),
        blank=True,
        help_text=_(
            "Facultatif : un lien OpenStreetMap vers le lieu, par ex. https://www.openstreetmap.org/…"
        ),
    )
    access_instructions = models.TextField(
        _("comment accéder au lieu"),
        blank=True,
        max_length=2000,
        help_text=_("Entrée, étage, stationnement…"),
    )
    rules = models.TextField(
        _("règles à respecter"),
        blank=True,
        max_length=2000,
        help_text=_("Consignes sanitaires ou pratiques affichées aux membres : sacs, masque, distance…"),
    )
    accessibility = models.TextField(
        _("accessibilité"),
        blank=True,
        max_length=1000,
        help_text=_("Accès en fauteuil roulant, marches, aide possible…"),
    )
    slot_minutes = models.PositiveSmallIntegerField(
        _("durée d'un créneau (minutes)"),
        default=15,
        validators=[
            MinValueValidator(1, _("La durée d'un créneau doit être d'au moins 1 minute.")),
            MaxValueValidator(SLOT_MINUTES_MAX, _("Un créneau ne peut pas dépasser 8 heures.")),
        ],
    )
    slot_capacity = models.PositiveSmallIntegerField(
        _("foyers par créneau"),
        default=6,
        validators=[
            MinValueValidator(1, _("Un créneau doit accueillir au moins 1 foyer.")),
            MaxValueValidator(SLOT_CAPACITY_MAX, _("500 foyers par créneau au plus.")),
        ],
        help_text=_("Nombre de foyers qui peuvent réserver un même créneau."),
    )
    is_active = models.BooleanField(
        _("point ouvert aux réservations"),
        default=True,
        help_text=_("Un point désactivé n'est plus proposé pour les nouvelles distributions."),
    )
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="PointStaff",
        blank=True,
        related_name="staffed_pickup_points",
        verbose_name=_("équipe"),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("point de retrait")
        verbose_name_plural = _("points de retrait")
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(slot_minutes__gt=0),
                name="pickup_point_slot_minutes_positive",
                violation_error_message=_("La durée d'un créneau doit être d'au moins 1 minute."),
            ),
            models.CheckConstraint(
                condition=Q(slot_capacity__gt=0),
                name="pickup_point_slot_capacity_positive",
                violation_error_message=_("Un créneau doit accueillir au moins 1 foyer."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def full_address(self) -> str:
        return ", ".join(part for part in [self.address, f"{self.postcode} {self.town}".strip()] if part)


class PointStaff(models.Model):
    """An account assigned to a point's staff. DO_NOTHING: accounts live in the public schema, where this
    table does not exist, so deleting an account must not look for these rows; the foreign key still
    refuses to delete an account that is assigned somewhere."""

    point = models.ForeignKey(PickupPoint, on_delete=models.CASCADE, related_name="staff_links")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+")
    assigned_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["point", "user"], name="point_staff_once")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.point_id}"


class OpeningHours(models.Model):
    """One range of distribution hours on one weekday; a weekday may have several (morning, evening)."""

    point = models.ForeignKey(PickupPoint, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(_("jour"), choices=Weekday.choices)
    starts_at = models.TimeField(_("de"))
    ends_at = models.TimeField(_("à"))

    class Meta:
        verbose_name = _("horaire")
        verbose_name_plural = _("horaires")
        ordering = ["weekday", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="opening_hours_ends_later",
                violation_error_message=_("L'heure de fin doit être après l'heure de début."),
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="opening_hours_weekday_range"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("L'heure de fin doit être après l'heure de début.")})


class Closure(models.Model):
    """Dates (inclusive) when a point is closed: no slot is generated there on those days."""

    point = models.ForeignKey(PickupPoint, on_delete=models.CASCADE, related_name="closures")
    starts_on = models.DateField(_("fermé du"))
    ends_on = models.DateField(_("au"))
    reason = models.CharField(_("motif"), max_length=200, help_text=_("Affiché aux membres."))

    class Meta:
        verbose_name = _("fermeture")
        verbose_name_plural = _("fermetures")
        ordering = ["starts_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="closure_ends_after_start",
                violation_error_message=_(
                    "La date de fin doit être la date de début ou une date ultérieure."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.point} {self.starts_on}–{self.ends_on}"

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError(
                {"ends_on": _("La date de fin doit être la date de début ou une date ultérieure.")}
            )

    def covers(self, day) -> bool:
        return self.starts_on <= day <= self.ends_on


class Distribution(models.Model):
    """A pickup day: members collect at one of its points, in one of the slots generated for it."""

    date = models.DateField(_("date de la distribution"))
    label = models.CharField(_("intitulé"), max_length=120, blank=True)
    points = models.ManyToManyField(
        PickupPoint, related_name="distributions", verbose_name=_("points de retrait")
    )
    # The hours of the sale this distribution belongs to: used at a point that has no distribution hours on
    # that weekday (a monthly order form delivered "7 days after closing" falls on any day of the week).
    hours_start = models.TimeField(_("début"), null=True, blank=True)
    hours_end = models.TimeField(_("fin"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("distribution")
        verbose_name_plural = _("distributions")
        ordering = ["date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(hours_start__isnull=True, hours_end__isnull=True)
                | Q(hours_end__gt=F("hours_start")),
                name="distribution_hours_end_later",
            ),
        ]

    def __str__(self) -> str:
        return self.title or str(self.date)

    @property
    def sale_or_none(self):
        """The sale whose pickup day this is, or None for a stand-alone distribution. Points know sales only
        through the reverse accessor (orders builds on this app); `select_related("sale")` makes it free."""
        return getattr(self, "sale", None)  # the reverse one-to-one raises AttributeError when absent

    @property
    def title(self) -> str:
        """What tells two distributions of one day apart: the sale's current title, else the label."""
        sale = self.sale_or_none
        return sale.title if sale is not None else self.label

    @property
    def is_past(self) -> bool:
        return self.date < timezone.localdate()


class PickupSlot(models.Model):
    """A time range at one point on one distribution day, for at most `capacity` households.

    `reserved` counts the bookings and only moves through conditional UPDATEs (services.slot_reserve and
    slot_release). It may exceed `capacity` on purpose: lowering the capacity never drops bookings, so the
    capacity is enforced when booking rather than by a constraint.
    """

    distribution = models.ForeignKey(Distribution, on_delete=models.CASCADE, related_name="slots")
    point = models.ForeignKey(PickupPoint, on_delete=models.CASCADE, related_name="slots")
    starts_at = models.DateTimeField(_("début"))
    ends_at = models.DateTimeField(_("fin"))
    capacity = models.PositiveSmallIntegerField(
        _("foyers par créneau"), validators=[MaxValueValidator(SLOT_CAPACITY_MAX)]
    )
    reserved = models.PositiveIntegerField(_("réservations"), default=0)
    is_open = models.BooleanField(_("ouvert"), default=True)

    class Meta:
        verbose_name = _("créneau")
        verbose_name_plural = _("créneaux")
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="pickup_slot_ends_later",
                violation_error_message=_("Un créneau doit finir après son début."),
            ),
            models.CheckConstraint(condition=Q(capacity__gte=0), name="pickup_slot_capacity_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="pickup_slot_reserved_not_negative"),
            models.UniqueConstraint(
                fields=["distribution", "point", "starts_at"],
                name="pickup_slot_once_per_start",
                violation_error_message=_("Un créneau commence déjà à cette heure."),
            ),
        ]
        indexes = [models.Index(fields=["point", "distribution"], name="pickup_slot_point_distribution")]

    def __str__(self) -> str:
        return f"{self.point} {timezone.localtime(self.starts_at):%Y-%m-%d %H:%M}"

    @property
    def remaining(self) -> int:
        return max(self.capacity - self.reserved, 0)

    @property
    def is_bookable(self) -> bool:
        return self.is_open and self.reserved < self.capacity

    @property
    def is_overbooked(self) -> bool:
        return self.reserved > self.capacity


class SlotBooking(models.Model):
    """One household's place in a slot. Cancelling deletes the row (and frees the place)."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("attendu")
        COLLECTED = "collected", _("retiré")
        MISSED = "missed", _("non retiré")

    slot = models.ForeignKey(PickupSlot, on_delete=models.PROTECT, related_name="bookings")
    # Copied from the slot so that the database can enforce one booking per household and distribution.
    distribution = models.ForeignKey(Distribution, on_delete=models.PROTECT, related_name="bookings")
    # DO_NOTHING for the same reason as PointStaff.user: the database still refuses to orphan a booking.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+", verbose_name=_("foyer")
    )
    basket_number = models.PositiveIntegerField(_("numéro de panier"))
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.BOOKED)
    checked_in_at = models.DateTimeField(_("retiré à"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("réservation de créneau")
        verbose_name_plural = _("réservations de créneaux")
        ordering = ["basket_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "distribution"],
                name="slot_booking_once_per_distribution",
                violation_error_message=_("Ce foyer a déjà un créneau pour cette distribution."),
            ),
            models.UniqueConstraint(
                fields=["distribution", "basket_number"], name="slot_booking_basket_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(basket_number__gt=0), name="slot_booking_basket_number_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"n° {self.basket_number} {self.user}"


class BasketCounter(models.Model):
    """The last basket number given in a distribution. Bumped by one upsert, the last statement of a booking
    (locks.basket_book): its row lock is held only until that transaction commits, so bookings of one
    distribution do not wait on one another while the rest of their work (an order, its lines) is done."""

    distribution = models.OneToOneField(
        Distribution, on_delete=models.CASCADE, primary_key=True, related_name="basket_counter"
    )
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("compteur de paniers")
        verbose_name_plural = _("compteurs de paniers")

    def __str__(self) -> str:
        return f"{self.distribution_id}: {self.last}"


class CalendarKey(models.Model):
    """A member's secret address of the distributions feed, for a collective open by invitation only (an
    open collective's feed is public). Renewing it deletes the row: the old address answers 404 at once."""

    # DO_NOTHING for the same reason as PointStaff.user.
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("adresse d'agenda")
        verbose_name_plural = _("adresses d'agenda")

    def __str__(self) -> str:
        return str(self.user_id)


class LabGroup(models.Model):
    """A « groupe lab » of the buying group: a site, a neighbourhood or a social centre, with its usual pickup
    point and its own living lab (producers.lab). Each member belongs to one group at most."""

    class Kind(models.TextChoices):
        SITE = "site", _("site")
        NEIGHBOURHOOD = "quartier", _("quartier")
        SOCIAL_CENTRE = "centre_social", _("centre social")

    name = models.CharField(_("nom du groupe"), max_length=120)
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices, default=Kind.NEIGHBOURHOOD)
    pickup_point = models.ForeignKey(
        PickupPoint,
        verbose_name=_("point de retrait habituel"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="lab_groups",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("groupe lab")
        verbose_name_plural = _("groupes lab")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="lab_group_name_unique",
                violation_error_message=_("Un groupe porte déjà ce nom."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class LabGroupMember(models.Model):
    """A member's group. One row per account (unique): moving a member changes the row. `coopted_by` keeps who
    brought the member in, when they came by co-optation: co-optation links are per group."""

    group = models.ForeignKey(LabGroup, on_delete=models.CASCADE, related_name="member_links")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+")
    coopted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True, blank=True, related_name="+"
    )
    joined_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user"], name="lab_group_member_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.group_id}"
