"""Reads for the views and templates of the pickup-points app."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from marketplace.models import Collective, Membership, Role, User
from pickup_points.models import CalendarKey, Closure, Distribution, PickupPoint, PickupSlot, SlotBooking


def points_visible(*, user: User, membership: Membership | None) -> QuerySet[PickupPoint]:
    """Coordinators see every point of the collective; staff only the points they are assigned to."""
    if membership is None:
        return PickupPoint.objects.none()
    if membership.has_role(Role.COORDINATOR):
        return PickupPoint.objects.all()
    if membership.has_role(Role.POINT_STAFF):
        return PickupPoint.objects.filter(staff=user)
    return PickupPoint.objects.none()


def points_overview(*, user: User, membership: Membership | None) -> QuerySet[PickupPoint]:
    """The points list: staff, hours and upcoming distributions of each point, in a fixed query count."""
    upcoming = (
        Distribution.objects.filter(date__gte=timezone.localdate())
        .select_related("sale")
        .order_by("date", "pk")
    )
    return (
        points_visible(user=user, membership=membership)
        .prefetch_related(
            Prefetch("staff", queryset=User.objects.order_by("last_name", "first_name", "email")),
            "opening_hours",
            Prefetch("distributions", queryset=upcoming, to_attr="upcoming_distributions"),
        )
        .order_by("-is_active", "name", "pk")
    )


def points_active() -> QuerySet[PickupPoint]:
    return PickupPoint.objects.filter(is_active=True).order_by("name", "pk")


def closures_of(*, point: PickupPoint) -> QuerySet[Closure]:
    return point.closures.order_by("starts_on", "pk")


def staff_candidates(*, collective: Collective, point: PickupPoint) -> QuerySet[User]:
    """Accounts with the pickup-point staff role in the collective, not yet assigned to this point."""
    return (
        User.objects.filter(
            memberships__collective=collective,
            memberships__status=Membership.Status.ACTIVE,
            memberships__roles__contains=[Role.POINT_STAFF],
        )
        .exclude(pk__in=point.staff.values("pk"))
        .order_by("last_name", "first_name", "email")
    )


def point_staff(*, point: PickupPoint) -> QuerySet[User]:
    return point.staff.order_by("last_name", "first_name", "email")


def distributions_upcoming() -> QuerySet[Distribution]:
    """Distributions from today on, with their points and their number of bookings (`booking_count`)."""
    return (
        Distribution.objects.filter(date__gte=timezone.localdate())
        .select_related("sale")
        .prefetch_related("points")
        .annotate(booking_count=Count("bookings"))
        .order_by("date", "pk")
    )


def distributions_past(*, limit: int = 10) -> QuerySet[Distribution]:
    """The most recent past distributions, latest first."""
    return (
        Distribution.objects.filter(date__lt=timezone.localdate())
        .select_related("sale")
        .prefetch_related("points")
        .order_by("-date", "-pk")[:limit]
    )


def _closure_on(day: date) -> Prefetch:
    """Prefetch a point's closures covering `day` as `day_closures`; `_day_closure_set` turns them into
    `day_closure` (one closure or None)."""
    closures = Closure.objects.filter(starts_on__lte=day, ends_on__gte=day)
    return Prefetch("closures", queryset=closures, to_attr="day_closures")


def _day_closure_set(points: list[PickupPoint]) -> list[PickupPoint]:
    for point in points:
        point.day_closure = point.day_closures[0] if point.day_closures else None
    return points


def distribution_points_summary(*, distribution: Distribution) -> list[PickupPoint]:
    """Each point of a distribution with its number of slots and bookings that day, and the closure covering
    that day if any (`day_closure`)."""
    here = Q(slots__distribution=distribution)
    points = (
        distribution.points.annotate(
            slot_count=Count("slots", filter=here, distinct=True),
            booking_count=Count("slots__bookings", filter=here),
        )
        .prefetch_related(_closure_on(distribution.date))
        .order_by("name", "pk")
    )
    return _day_closure_set(list(points))


def day_slots(*, distribution: Distribution, point: PickupPoint) -> QuerySet[PickupSlot]:
    """The slots of one point on one distribution day (their counter `reserved` says how many booked)."""
    return PickupSlot.objects.filter(distribution=distribution, point=point).order_by("starts_at", "pk")


def slots_overbooked(*, point: PickupPoint) -> QuerySet[PickupSlot]:
    """Upcoming slots of a point that hold more bookings than their capacity (kept on purpose)."""
    return (
        PickupSlot.objects.filter(
            point=point, distribution__date__gte=timezone.localdate(), reserved__gt=F("capacity")
        )
        .select_related("distribution")
        .order_by("starts_at")
    )


def point_closure_on(*, point: PickupPoint, day: date) -> Closure | None:
    return point.closures.filter(starts_on__lte=day, ends_on__gte=day).first()


def upcoming_distributions(*, user: User) -> list[Distribution]:
    """Distributions from today on, each with the household's booking (or None) as `my_booking`."""
    distributions = list(
        Distribution.objects.filter(date__gte=timezone.localdate())
        .select_related("sale")
        .prefetch_related("points")
        .order_by("date", "pk")
    )
    bookings = {
        booking.distribution_id: booking
        for booking in SlotBooking.objects.filter(user=user, distribution__in=distributions).select_related(
            "slot__point"
        )
    }
    for distribution in distributions:
        distribution.my_booking = bookings.get(distribution.pk)
    return distributions


def booking_of(*, user: User, distribution: Distribution) -> SlotBooking | None:
    return (
        SlotBooking.objects.filter(user=user, distribution=distribution).select_related("slot__point").first()
    )


def points_for_booking(*, distribution: Distribution) -> list[PickupPoint]:
    """The active points of a distribution with their open slots that day (`day_slots`) and the closure
    covering that day if any (`day_closure`)."""
    slots = PickupSlot.objects.filter(distribution=distribution, is_open=True).order_by("starts_at", "pk")
    points = (
        distribution.points.filter(is_active=True)
        .prefetch_related(
            Prefetch("slots", queryset=slots, to_attr="day_slots"), _closure_on(distribution.date)
        )
        .order_by("name", "pk")
    )
    return _day_closure_set(list(points))


# Slots and hours as members read them --------------------------------------------------------------------


def slot_when(slot: PickupSlot, days: dict | None = None) -> str:
    """« vendredi 18 décembre, 17:00 – 17:15 », in the active language and the collective's time zone.
    `days`: a dict kept by a caller listing many slots, so that each day's words are formatted once."""
    starts, ends = timezone.localtime(slot.starts_at), timezone.localtime(slot.ends_at)
    day = None if days is None else days.get(starts.date())
    if day is None:
        day = formats.date_format(starts, "l j F")
        if days is not None:
            days[starts.date()] = day
    return _("%(day)s, %(start)s – %(end)s") % {
        "day": day,
        "start": formats.time_format(starts, "H:i"),
        "end": formats.time_format(ends, "H:i"),
    }


def _hhmm(value: datetime) -> str:
    return formats.time_format(timezone.localtime(value), "H:i")


@dataclass(frozen=True)
class PointHours:
    """When a point hands baskets out on a distribution day: its slots, merged where they touch."""

    point: PickupPoint
    ranges: list[tuple[datetime, datetime]]

    @cached_property  # read several times by a page (each a date formatting)
    def times(self) -> tuple[tuple[str, str], ...]:
        return tuple((_hhmm(start), _hhmm(end)) for start, end in self.ranges)

    @property
    def text(self) -> str:
        """« 11:00 – 13:00 » or « 09:30 – 12:00, 14:00 – 16:00 »."""
        return ", ".join(f"{start} – {end}" for start, end in self.times)


@dataclass(frozen=True)
class DistributionHours:
    day: date
    points: list[PointHours]

    @cached_property  # a template asks three times (whether, then start and end)
    def uniform(self) -> tuple[str, str] | None:
        """(start, end) when every point opens once at the same hours; None when they differ."""
        times = {hours.times for hours in self.points}
        if len(times) == 1 and len(self.points[0].times) == 1:
            return self.points[0].times[0]
        return None

    @property
    def per_point(self) -> str:
        """« Salle des fêtes : 11:00 – 13:00 ; Centre social : 14:00 – 17:00 »."""
        return " ; ".join(
            _("%(point)s : %(hours)s") % {"point": hours.point.name, "hours": hours.text}
            for hours in self.points
        )


def _hours(slots: Iterable[tuple[int, PickupPoint, datetime, datetime]]) -> dict[int, DistributionHours]:
    """Distribution id → its hours, from its slots as (distribution id, point, start, end), in the order of
    the points' names then start times."""
    merged: dict[int, dict[int, tuple[PickupPoint, list[tuple[datetime, datetime]]]]] = {}
    for distribution_id, slot_point, starts_at, ends_at in slots:
        point, ranges = merged.setdefault(distribution_id, {}).setdefault(slot_point.pk, (slot_point, []))
        if ranges and starts_at <= ranges[-1][1]:
            ranges[-1] = (ranges[-1][0], max(ranges[-1][1], ends_at))
        else:
            ranges.append((starts_at, ends_at))
    result = {}
    for distribution_id, points in merged.items():
        hours = [PointHours(point=point, ranges=ranges) for point, ranges in points.values()]
        day = timezone.localtime(min(hours_.ranges[0][0] for hours_ in hours)).date()
        result[distribution_id] = DistributionHours(day=day, points=hours)
    return result


def distribution_hours(*, distribution_ids: list[int]) -> dict[int, DistributionHours]:
    """The real pickup hours of distributions, from their slots at active points (one query); a
    distribution without slots is left out (its sale's own hours are all there is)."""
    slots = (
        PickupSlot.objects.filter(distribution_id__in=distribution_ids, point__is_active=True)
        .select_related("point")
        .order_by("distribution_id", "point__name", "point_id", "starts_at")
    )
    return _hours((slot.distribution_id, slot.point, slot.starts_at, slot.ends_at) for slot in slots)


def distribution_hours_column(distribution: str) -> str:
    """A column for another statement (the sale page's): the slots of the distribution whose id is the SQL
    expression `distribution`, at active points, as JSON for `distribution_hours_read` (NULL: no slot)."""
    slot, point = PickupSlot._meta.db_table, PickupPoint._meta.db_table
    return (
        "(SELECT json_agg(json_build_array(sl.point_id, p.name, sl.starts_at, sl.ends_at) "  # noqa: S608
        f"ORDER BY p.name, sl.point_id, sl.starts_at) FROM {slot} sl JOIN {point} p ON p.id = sl.point_id "
        f"WHERE sl.distribution_id = {distribution} AND p.is_active)"
    )


def distribution_hours_read(*, distribution_id: int, column: list | None) -> DistributionHours | None:
    """A distribution's hours (as distribution_hours) from its `distribution_hours_column`, read with
    another statement; only the points' names come with it."""
    if not column:
        return None
    points: dict[int, PickupPoint] = {}  # one instance per point, not one per slot
    slots = []
    for point_id, name, starts, ends in column:
        point = points.get(point_id)
        if point is None:
            point = points[point_id] = PickupPoint(pk=point_id, name=name)
        slots.append((distribution_id, point, datetime.fromisoformat(starts), datetime.fromisoformat(ends)))
    return _hours(slots)[distribution_id]


FEED_DAYS_BACK = 30


def feed_distributions(*, today: date) -> tuple[list[Distribution], list[PickupSlot]]:
    """The distributions of the feed (from a month ago on; a sale's only once it is published) with their
    points, and their slots (for each point's first start and last end)."""
    distributions = list(
        Distribution.objects.filter(date__gte=today - timedelta(days=FEED_DAYS_BACK))
        .filter(Q(sale__isnull=True) | Q(sale__is_published=True))
        .select_related("sale")
        # Active points only, as booking and the sale's hours see them.
        .prefetch_related(
            Prefetch(
                "points",
                queryset=PickupPoint.objects.filter(is_active=True)
                .prefetch_related("closures")
                .order_by("name", "pk"),
            )
        )
        .order_by("date", "pk")
    )
    slots = list(
        PickupSlot.objects.filter(distribution__in=[d.pk for d in distributions]).only(
            "distribution_id", "point_id", "starts_at", "ends_at"
        )
    )
    return distributions, slots


def calendar_key_member(*, token: str, collective: Collective) -> User | None:
    """The active member whose secret feed address this is, or None (unknown, renewed, or left)."""
    key = CalendarKey.objects.filter(token=token).select_related("user").first()
    if key is None:
        return None
    active = Membership.objects.filter(
        user=key.user, collective=collective, status=Membership.Status.ACTIVE
    ).exists()
    return key.user if active else None


def calendar_key_of(*, user: User) -> CalendarKey | None:
    return CalendarKey.objects.filter(user=user).first()
