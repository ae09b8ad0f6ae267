"""Every write of the pickup-points app: points, hours, closures, distributions, slots and bookings.

Row locks come from `locks` only (see its docstring for the order). Counters move with conditional UPDATEs
whose row count is checked: `PickupSlot.reserved` is never read, incremented and written back.
Over 400 lines: slot generation, closures and bookings share the same locks and slot rules.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from marketplace import rows
from marketplace import services as marketplace_services
from marketplace.models import Collective, Invitation, Membership, Role, User
from pickup_points import locks
from pickup_points.models import (
    CalendarKey,
    Closure,
    Distribution,
    OpeningHours,
    PickupPoint,
    PickupSlot,
    SlotBooking,
    Weekday,
)
from pickup_points.signals import slot_freed

# (weekday 0-6, starts at, ends at), wall-clock times of the collective's time zone.
HoursRange = tuple[int, time, time]


class BookingRefused(Exception):
    """A slot cannot be booked or released; the message says why in words a member understands."""


class SlotFull(BookingRefused):
    """The slot is full, closed or gone: the member must choose another one."""


class AlreadyBooked(BookingRefused):
    """The household already has a slot for this distribution."""


class SlotElsewhere(BookingRefused):
    """The slot belongs to another distribution than the one asked for (the caller words it)."""


def _aware(moment: datetime) -> datetime:
    """A wall-clock time of the collective's zone as an aware UTC datetime. A time skipped by the spring
    change (02:30 on the last Sunday of March) lands after the gap, like a clock put forward."""
    return moment.replace(tzinfo=timezone.get_default_timezone()).astimezone(UTC)


def _time_label(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


def day_label(day: date) -> str:
    return formats.date_format(day, "l j F Y")


def slot_label(slot: PickupSlot) -> str:
    return _("%(start)s – %(end)s") % {"start": _time_label(slot.starts_at), "end": _time_label(slot.ends_at)}


def slot_ranges(
    *, day: date, hours: Iterable[tuple[time, time]], minutes: int
) -> list[tuple[datetime, datetime]]:
    """The slots of one day: each range of hours cut every `minutes` of wall-clock time, the last slot of
    a range ending at its closing time (so it may be shorter). Slots swallowed by a clock change are left
    out."""
    ranges: list[tuple[datetime, datetime]] = []
    for starts_at, ends_at in sorted(hours):
        cursor = datetime.combine(day, starts_at)
        closing = datetime.combine(day, ends_at)
        while cursor < closing:
            following = min(cursor + timedelta(minutes=minutes), closing)
            start, end = _aware(cursor), _aware(following)
            if ranges and start < ranges[-1][1]:  # wall-clock times skipped in spring map onto later ones
                start = ranges[-1][1]
            if end > start:
                ranges.append((start, end))
            cursor = following
    return ranges


def hours_problems(hours: Sequence[HoursRange]) -> list[str]:
    """What is wrong with a set of opening hours, in French: end before start, overlapping ranges."""
    problems = []
    for weekday, starts_at, ends_at in hours:
        if ends_at <= starts_at:
            problems.append(
                _("Le %(day)s, l'heure de fin (%(end)s) doit être après l'heure de début (%(start)s).")
                % {"day": Weekday(weekday).label, "start": f"{starts_at:%H:%M}", "end": f"{ends_at:%H:%M}"}
            )
    ordered = sorted(hours)
    for (day_a, start_a, end_a), (day_b, start_b, end_b) in zip(ordered, ordered[1:], strict=False):
        if day_a == day_b and start_b < end_a and end_a > start_a:
            problems.append(
                _("Le %(day)s, les horaires %(first)s et %(second)s se chevauchent.")
                % {
                    "day": Weekday(day_a).label,
                    "first": f"{start_a:%H:%M}–{end_a:%H:%M}",
                    "second": f"{start_b:%H:%M}–{end_b:%H:%M}",
                }
            )
    return problems


# Points ------------------------------------------------------------------------------------------------

POINT_FIELDS = {
    "name",
    "address",
    "postcode",
    "town",
    "map_url",
    "access_instructions",
    "rules",
    "accessibility",
    "slot_minutes",
    "slot_capacity",
    "is_active",
}


@transaction.atomic
def point_create(
    *,
    name: str,
    address: str,
    town: str,
    postcode: str = "",
    map_url: str = "",
    access_instructions: str = "",
    rules: str = "",
    accessibility: str = "",
    slot_minutes: int = 15,
    slot_capacity: int = 6,
) -> PickupPoint:
    point = PickupPoint(
        name=name.strip(),
        address=address.strip(),
        postcode=postcode.strip(),
        town=town.strip(),
        map_url=map_url.strip(),
        access_instructions=access_instructions.strip(),
        rules=rules.strip(),
        accessibility=accessibility.strip(),
        slot_minutes=slot_minutes,
        slot_capacity=slot_capacity,
    )
    point.full_clean()
    point.save()
    return point


@dataclass
class PointUpdated:
    point: PickupPoint
    # Upcoming distributions whose slots were kept as they were because households had already booked there.
    kept: list[Distribution] = field(default_factory=list)


def _hours_of(point: PickupPoint) -> list[HoursRange]:
    return sorted(point.opening_hours.values_list("weekday", "starts_at", "ends_at"))


@transaction.atomic
def point_update(*, point: PickupPoint, hours: Sequence[HoursRange] | None = None, **fields) -> PointUpdated:
    """Change a point's description and rules. New hours or slot length regenerate the slots of upcoming
    distributions nobody has booked at this point yet; a new default capacity applies to the upcoming slots
    that had the old default. Bookings are never dropped: a slot may end up holding more than its capacity."""
    unknown = set(fields) - POINT_FIELDS
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    locked = locks.point_lock(point.pk)
    old_minutes, old_capacity, old_hours = locked.slot_minutes, locked.slot_capacity, _hours_of(locked)
    for name, value in fields.items():
        setattr(locked, name, value.strip() if isinstance(value, str) else value)
    locked.full_clean()
    locked.save()

    new_hours = old_hours if hours is None else sorted(hours)
    if new_hours != old_hours:
        problems = hours_problems(new_hours)
        if problems:
            raise ValidationError(problems)
        locked.opening_hours.all().delete()
        rows = [
            OpeningHours(point=locked, weekday=weekday, starts_at=starts_at, ends_at=ends_at)
            for weekday, starts_at, ends_at in new_hours
        ]
        for row in rows:
            row.full_clean()
        OpeningHours.objects.bulk_create(rows)

    today = timezone.localdate()
    kept = []
    if new_hours != old_hours or locked.slot_minutes != old_minutes:
        upcoming = list(Distribution.objects.filter(points=locked, date__gte=today).order_by("date", "pk"))
        slots = locks.slots_lock(point_id=locked.pk, distribution_ids=[d.pk for d in upcoming])
        booked = set(
            SlotBooking.objects.filter(slot__in=slots).values_list("distribution_id", flat=True).distinct()
        )
        for distribution in upcoming:
            if distribution.pk in booked:
                kept.append(distribution)
                continue
            PickupSlot.objects.filter(point=locked, distribution=distribution).delete()
            _slots_generate(distribution=distribution, point=locked)
    if locked.slot_capacity != old_capacity:
        PickupSlot.objects.filter(point=locked, distribution__date__gte=today, capacity=old_capacity).update(
            capacity=locked.slot_capacity
        )
    return PointUpdated(point=locked, kept=kept)


@transaction.atomic
def point_staff_add(*, collective: Collective, point: PickupPoint, user: User) -> PickupPoint:
    """Assign an account holding the pickup-point staff role to a point (a no-op if it already is)."""
    is_staff = Membership.objects.filter(
        collective=collective, user=user, status=Membership.Status.ACTIVE, roles__contains=[Role.POINT_STAFF]
    ).exists()
    if not is_staff:
        raise ValidationError(
            _("Cette personne n'a pas le rôle « équipe d'un point de retrait » dans le collectif.")
        )
    point.staff.add(user)
    return point


@transaction.atomic
def point_staff_remove(*, point: PickupPoint, user: User) -> PickupPoint:
    point.staff.remove(user)
    return point


@transaction.atomic
def point_staff_invite(
    *, collective: Collective, point: PickupPoint, email: str, invited_by: User
) -> Invitation:
    """Invite someone by e-mail to join the staff of this point; accepting assigns them (see receivers)."""
    email = email.strip().lower()
    if Membership.objects.filter(
        collective=collective,
        user__email__iexact=email,
        status=Membership.Status.ACTIVE,
        roles__contains=[Role.POINT_STAFF],
    ).exists():
        raise ValidationError(
            {
                "email": _(
                    "Cette personne fait déjà partie des équipes de points de retrait : "
                    "choisissez-la dans la liste ci-dessus."
                )
            }
        )
    return marketplace_services.invitation_create(
        collective=collective,
        created_by=invited_by,
        role=Role.POINT_STAFF,
        email=email,
        scope={"pickup_point": point.pk},
        scope_label=point.name,
    )


def staff_assign_from_invitation(*, invitation: Invitation, membership: Membership) -> None:
    """Called when an invitation is accepted, in the collective's schema: idempotent."""
    point_id = (invitation.scope or {}).get("pickup_point")
    if invitation.role != Role.POINT_STAFF or not point_id:
        return
    point = PickupPoint.objects.filter(pk=point_id).first()
    if point is not None:
        point.staff.add(membership.user)


# Closures ----------------------------------------------------------------------------------------------


@transaction.atomic
def closure_create(*, point: PickupPoint, starts_on: date, ends_on: date, reason: str) -> Closure:
    """Close a point on some dates. Refused when a distribution on those dates already has bookings at the
    point; otherwise that distribution's slots at the point are removed."""
    closure = Closure(point=point, starts_on=starts_on, ends_on=ends_on, reason=reason.strip())
    closure.full_clean()
    locked = locks.point_lock(point.pk)
    distributions = list(
        Distribution.objects.filter(points=locked, date__range=(starts_on, ends_on)).order_by("date", "pk")
    )
    slots = locks.slots_lock(point_id=locked.pk, distribution_ids=[d.pk for d in distributions])
    booked = dict(
        SlotBooking.objects.filter(slot__in=slots)
        .values_list("distribution_id")
        .annotate(count=Count("pk"))
        .order_by()
    )
    problems = [
        ngettext(
            "La distribution du %(day)s a déjà %(count)s réservation à ce point : impossible de le fermer "
            "ce jour-là. Annulez ou déplacez d'abord cette réservation.",
            "La distribution du %(day)s a déjà %(count)s réservations à ce point : impossible de le fermer "
            "ce jour-là. Annulez ou déplacez d'abord ces réservations.",
            booked[distribution.pk],
        )
        % {"day": day_label(distribution.date), "count": booked[distribution.pk]}
        for distribution in distributions
        if distribution.pk in booked
    ]
    if problems:
        raise ValidationError(problems)
    PickupSlot.objects.filter(pk__in=[slot.pk for slot in slots]).delete()
    closure.save()
    return closure


@transaction.atomic
def closure_delete(*, closure: Closure) -> None:
    """Reopen the point on those dates: upcoming distributions there get their slots back."""
    locked = locks.point_lock(closure.point_id)
    starts_on, ends_on = closure.starts_on, closure.ends_on
    closure.delete()
    remaining = list(locked.closures.all())
    for distribution in Distribution.objects.filter(
        points=locked, date__range=(max(starts_on, timezone.localdate()), ends_on)
    ):
        if any(other.covers(distribution.date) for other in remaining):
            continue
        if not PickupSlot.objects.filter(point=locked, distribution=distribution).exists():
            _slots_generate(distribution=distribution, point=locked)


# Distributions and slots -------------------------------------------------------------------------------


def _slots_generate(*, distribution: Distribution, point: PickupPoint) -> list[PickupSlot]:
    """The point's slots for that day, from its hours, slot length and capacity; none on a closure date.
    The caller holds the point's lock."""
    if point.closures.filter(starts_on__lte=distribution.date, ends_on__gte=distribution.date).exists():
        return []
    hours = list(
        point.opening_hours.filter(weekday=distribution.date.weekday()).values_list("starts_at", "ends_at")
    )
    if not hours and distribution.hours_start and distribution.hours_end:
        hours = [(distribution.hours_start, distribution.hours_end)]
    slots = [
        PickupSlot(
            distribution=distribution, point=point, starts_at=start, ends_at=end, capacity=point.slot_capacity
        )
        for start, end in slot_ranges(day=distribution.date, hours=hours, minutes=point.slot_minutes)
    ]
    for slot in slots:
        # Computed from validated rules; the database constraints still stand guard.
        slot.full_clean(validate_unique=False, validate_constraints=False)
    return PickupSlot.objects.bulk_create(slots)


@transaction.atomic
def distribution_create(
    *, date: date, points: Iterable[PickupPoint], label: str = "", hours: tuple[time, time] | None = None
) -> Distribution:
    """A pickup day at the given points, with each point's slots generated from its rules. `hours` (the
    sale's distribution hours) stand in at a point that has no hours on that weekday."""
    point_ids = sorted({point.pk for point in points})
    errors = {}
    if date < timezone.localdate():
        errors["date"] = _("La date de la distribution doit être aujourd'hui ou plus tard.")
    if not point_ids:
        errors["points"] = _("Choisissez au moins un point de retrait.")
    if errors:
        raise ValidationError(errors)
    locked = locks.points_lock(point_ids)
    inactive = [point.name for point in locked if not point.is_active]
    if inactive:
        raise ValidationError(
            {
                "points": _("Ces points de retrait sont désactivés : %(names)s.")
                % {"names": ", ".join(inactive)}
            }
        )
    distribution = Distribution(date=date, label=label.strip())
    if hours:
        distribution.hours_start, distribution.hours_end = hours
    distribution.full_clean()
    distribution.save()
    distribution.points.set(locked)
    for point in locked:
        _slots_generate(distribution=distribution, point=point)
    return distribution


@transaction.atomic
def slot_add(
    *, distribution: Distribution, point: PickupPoint, starts_at: time, ends_at: time, capacity: int
) -> PickupSlot:
    """Open an extra slot at a point for one distribution; it may not overlap the point's other slots."""
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("L'heure de fin doit être après l'heure de début.")})
    if capacity < 1:
        raise ValidationError({"capacity": _("Un créneau doit accueillir au moins 1 foyer.")})
    locked = locks.point_lock(point.pk)
    if not distribution.points.filter(pk=locked.pk).exists():
        raise ValueError("the point does not serve this distribution")
    closure = locked.closures.filter(starts_on__lte=distribution.date, ends_on__gte=distribution.date).first()
    if closure is not None:
        raise ValidationError(
            _("Le point est fermé ce jour-là (%(reason)s) : retirez d'abord la fermeture.")
            % {"reason": closure.reason}
        )
    start = _aware(datetime.combine(distribution.date, starts_at))
    end = _aware(datetime.combine(distribution.date, ends_at))
    overlapping = (
        PickupSlot.objects.filter(
            point=locked, distribution=distribution, starts_at__lt=end, ends_at__gt=start
        )
        .order_by("starts_at")
        .first()
    )
    if overlapping is not None:
        raise ValidationError(
            _("Ce créneau chevauche le créneau %(slot)s.") % {"slot": slot_label(overlapping)}
        )
    slot = PickupSlot(
        distribution=distribution, point=locked, starts_at=start, ends_at=end, capacity=capacity
    )
    slot.full_clean()
    slot.save()
    return slot


@transaction.atomic
def slot_update(*, slot: PickupSlot, capacity: int | None = None, is_open: bool | None = None) -> PickupSlot:
    """Change one slot's capacity or open/close it. Existing bookings always stay, even above capacity."""
    locked = locks.slot_lock(slot.pk)
    free_before = locked.remaining if locked.is_open else 0
    if capacity is not None:
        if capacity < 1:
            raise ValidationError(
                {
                    "capacity": _(
                        "Un créneau doit accueillir au moins 1 foyer : pour ne plus prendre de réservations, "
                        "fermez le créneau."
                    )
                }
            )
        locked.capacity = capacity
    if is_open is not None:
        locked.is_open = is_open
    locked.full_clean()
    # Only these two columns: `reserved` moves through its own conditional updates.
    locked.save(update_fields=["capacity", "is_open"])
    if (locked.remaining if locked.is_open else 0) > free_before:
        slot_freed.send(sender=PickupSlot, slot_id=locked.pk)
    return locked


# Bookings ----------------------------------------------------------------------------------------------


def _unavailable(slot: PickupSlot) -> SlotFull:
    now = PickupSlot.objects.filter(pk=slot.pk).values("is_open").first()
    if now is None:
        return SlotFull(_("Ce créneau n'existe plus : choisissez-en un autre."))
    if not now["is_open"]:
        return SlotFull(
            _("Le créneau %(slot)s vient d'être fermé : choisissez-en un autre.") % {"slot": slot_label(slot)}
        )
    return SlotFull(
        _(
            "Désolé, le créneau %(slot)s est complet : quelqu'un vient de prendre la dernière place. "
            "Choisissez un autre créneau."
        )
        % {"slot": slot_label(slot)}
    )


# Only the slot's own columns are compared with what moves (`reserved`): PostgreSQL re-checks the whole WHERE
# on the row's latest version when it waits for a concurrent booking, so the last place goes to one
# transaction only. The point and the distribution are checked in the same statement (they do not move).
_SLOT_TAKE = f"""
    UPDATE {PickupSlot._meta.db_table} AS s SET reserved = s.reserved + 1
    WHERE s.id = %(slot)s AND s.is_open AND s.reserved < s.capacity
      AND (%(distribution)s::bigint IS NULL OR s.distribution_id = %(distribution)s::bigint)
      AND EXISTS (SELECT 1 FROM {PickupPoint._meta.db_table} p WHERE p.id = s.point_id AND p.is_active)
      AND EXISTS (
        SELECT 1 FROM {Distribution._meta.db_table} d WHERE d.id = s.distribution_id AND d.date >= %(today)s
      )
    RETURNING {rows.columns(PickupSlot, "s")}
"""  # noqa: S608 - the models' tables


def _take_refusal(slot_id: int, user: User, distribution_id: int | None) -> BookingRefused:
    """Why a slot could not be taken (read only when it could not), in the order a member reads it."""
    slot = PickupSlot.objects.select_related("distribution", "point").filter(pk=slot_id).first()
    if distribution_id is not None and (slot is None or slot.distribution_id != distribution_id):
        return SlotElsewhere()
    if slot is None:
        return SlotFull(_("Ce créneau n'existe plus : choisissez-en un autre."))
    if slot.distribution.is_past:
        return BookingRefused(_("Cette distribution est passée."))
    if not slot.point.is_active:
        return SlotFull(_("Ce point de retrait ne prend plus de réservations : choisissez-en un autre."))
    if SlotBooking.objects.filter(user=user, distribution_id=slot.distribution_id).exists():
        return AlreadyBooked(_("Vous avez déjà un créneau pour cette distribution."))
    return _unavailable(slot)


def slot_take(*, slot_id: int, user: User, distribution_id: int | None = None) -> PickupSlot:
    """Take one place in a slot (of `distribution_id`, when given), atomically: when several people race
    for the last place, exactly one gets it and the others get SlotFull. One conditional UPDATE; the
    booking itself is written by locks.basket_book, the last statement of the caller's transaction (which
    must roll back if it fails)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _SLOT_TAKE,
            {"slot": slot_id, "distribution": distribution_id, "today": timezone.localdate()},
        )
        row = cursor.fetchone()
    if row is None:
        raise _take_refusal(slot_id, user, distribution_id)
    return rows.instance(PickupSlot, row)


BOOKING_ONCE = "slot_booking_once_per_distribution"  # the constraint's name (models.SlotBooking)


def booking_duplicate(error: IntegrityError) -> AlreadyBooked | None:
    """The refusal for a household booking a distribution twice at once (a double click), or None when
    `error` is about something else."""
    if getattr(getattr(error.__cause__, "diag", None), "constraint_name", None) == BOOKING_ONCE:
        return AlreadyBooked(_("Vous avez déjà un créneau pour cette distribution."))
    return None


@transaction.atomic
def slot_reserve(*, slot_id: int, user: User) -> SlotBooking:
    """Take one place in a slot for a household and number its basket (see slot_take and
    locks.basket_book). Works inside the caller's transaction (a savepoint): a refusal leaves it usable,
    but the distribution's counter stays locked until the caller commits."""
    slot = slot_take(slot_id=slot_id, user=user)
    try:
        return locks.basket_book(slot=slot, user_id=user.pk)
    except IntegrityError as error:  # rolls this atomic block back: the place taken above is given back
        refusal = booking_duplicate(error)
        if refusal is None:
            raise
        raise refusal from error


@transaction.atomic
def slot_release(*, booking: SlotBooking) -> None:
    """Give a booked place back (a cancelled order, a member changing their mind). Releasing twice is a
    no-op; a basket already collected or marked missed is not released."""
    locks.slot_lock(booking.slot_id)
    current = locks.booking_lock(booking.pk)
    if current is None:
        return
    if current.status != SlotBooking.Status.BOOKED:
        raise BookingRefused(_("Ce panier a déjà été pointé : la réservation ne peut plus être annulée."))
    current.delete()
    freed = PickupSlot.objects.filter(pk=booking.slot_id, reserved__gt=0).update(reserved=F("reserved") - 1)
    if freed != 1:
        raise RuntimeError(f"slot {booking.slot_id}: booking counter out of step")
    slot_freed.send(sender=PickupSlot, slot_id=booking.slot_id)


@transaction.atomic
def booking_check_in(*, booking: SlotBooking, collected: bool) -> SlotBooking:
    """Record on the day whether the household collected its basket (may be corrected later)."""
    locked = locks.booking_lock(booking.pk)
    if locked is None:
        raise SlotBooking.DoesNotExist
    locked.status = SlotBooking.Status.COLLECTED if collected else SlotBooking.Status.MISSED
    locked.checked_in_at = timezone.now() if collected else None
    locked.full_clean(validate_constraints=False)
    locked.save(update_fields=["status", "checked_in_at"])
    return locked


# The distributions feed of a collective open by invitation only: one secret address per member.


@transaction.atomic
def calendar_key_ensure(*, user: User) -> CalendarKey:
    """The member's secret feed address, made on first use (a second request at once finds the first)."""
    key, _created = CalendarKey.objects.get_or_create(
        user=user, defaults={"token": secrets.token_urlsafe(32)}
    )
    return key


@transaction.atomic
def calendar_key_renew(*, user: User) -> CalendarKey:
    """Revoke the member's feed address and give a new one: calendars subscribed to the old one stop."""
    CalendarKey.objects.filter(user=user).delete()
    return CalendarKey.objects.create(user=user, token=secrets.token_urlsafe(32))
