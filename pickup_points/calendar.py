"""Open calendars: a booking's invitation (.ics) and a collective's feed of its distributions.

Times are written in the collective's zone (Europe/Paris) with its VTIMEZONE, so that a calendar program
shows 17:00 on both sides of a summer-time change. UIDs are stable (schema, kind and row ids), so that a
program importing the file again, or refreshing the feed, updates the event instead of adding a copy.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from pickup_points.models import Distribution, PickupPoint, PickupSlot, SlotBooking

PRODID = "-//Etal//Calendrier des distributions//FR"


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment, _zone())


def _calendar(*, name: str, method: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    return calendar


def _add_zone(calendar: Calendar, moments: list[datetime]) -> None:
    """The VTIMEZONE of the events, its changes listed only around their dates (icalendar lists every
    change from 1970 otherwise: a long file for a phone to fetch each time it refreshes the feed)."""
    today = timezone.localdate()
    days = [_local(moment).date() for moment in moments] or [today]
    calendar.add_missing_timezones(
        first_date=min(days) - timedelta(days=366), last_date=max(days) + timedelta(days=366)
    )


def _place(point: PickupPoint) -> str:
    return f"{point.name}, {point.full_address}"


def _point_notes(point: PickupPoint) -> list[str]:
    notes = []
    if point.access_instructions:
        notes.append(_("Accès : %(text)s") % {"text": point.access_instructions})
    if point.rules:
        notes.append(_("Consignes : %(text)s") % {"text": point.rules})
    return notes


def booking_uid(*, schema_name: str, booking: SlotBooking) -> str:
    return f"booking-{booking.pk}@{schema_name}.etal"


def booking_ics(*, collective, booking: SlotBooking, url: str = "") -> bytes:
    """The invitation of one household's slot: when, where (with the address), which basket number."""
    slot = booking.slot
    point = slot.point
    calendar = _calendar(name=collective.name, method="PUBLISH")
    event = Event()
    event.add("uid", booking_uid(schema_name=collective.schema_name, booking=booking))
    event.add("dtstamp", timezone.now())
    event.add("dtstart", _local(slot.starts_at))
    event.add("dtend", _local(slot.ends_at))
    event.add(
        "summary",
        _("Retrait du panier n° %(number)s – %(collective)s")
        % {"number": booking.basket_number, "collective": collective.name},
    )
    event.add("location", vText(_place(point)))
    lines = [
        _("Panier n° %(number)s") % {"number": booking.basket_number},
        _("Collectif : %(name)s") % {"name": collective.name},
        _("Lieu : %(place)s") % {"place": _place(point)},
        *_point_notes(point),
    ]
    if url:
        lines.append(url)
        event.add("url", url)
    event.add("description", "\n".join(lines))
    if collective.contact_email:
        organizer = vCalAddress(f"mailto:{collective.contact_email}")
        organizer.params["cn"] = vText(collective.name)
        event["organizer"] = organizer
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    calendar.add_component(event)
    _add_zone(calendar, [slot.starts_at, slot.ends_at])
    return calendar.to_ical()


def distribution_uid(*, schema_name: str, distribution: Distribution, point: PickupPoint) -> str:
    return f"distribution-{distribution.pk}-point-{point.pk}@{schema_name}.etal"


def distributions_feed(
    *, collective, distributions: Iterable[Distribution], slots: Iterable[PickupSlot], base_url: str = ""
) -> bytes:
    """The collective's distributions, one event per distribution and point, from its first slot's start
    to its last slot's end (the distribution's hours when no slot is generated yet, else the whole day).
    Names no one."""
    spans: dict[tuple[int, int], list[datetime]] = {}
    for slot in slots:
        span = spans.setdefault((slot.distribution_id, slot.point_id), [slot.starts_at, slot.ends_at])
        span[0], span[1] = min(span[0], slot.starts_at), max(span[1], slot.ends_at)
    calendar = _calendar(name=_("Distributions – %(name)s") % {"name": collective.name})
    zone = _zone()
    moments: list[datetime] = []
    for distribution in distributions:
        for point in distribution.points.all():
            span = spans.get((distribution.pk, point.pk))
            if span is None and distribution.hours_start and distribution.hours_end:
                span = [
                    datetime.combine(distribution.date, distribution.hours_start, tzinfo=zone),
                    datetime.combine(distribution.date, distribution.hours_end, tzinfo=zone),
                ]
            event = Event()
            event.add(
                "uid",
                distribution_uid(schema_name=collective.schema_name, distribution=distribution, point=point),
            )
            event.add("dtstamp", timezone.now())
            if span is None:  # no slot and no hours known yet: the day itself
                event.add("dtstart", distribution.date)
                event.add("dtend", distribution.date + timedelta(days=1))
            else:
                event.add("dtstart", _local(span[0]))
                event.add("dtend", _local(span[1]))
                moments += span
            title = distribution.title or _("Distribution")
            closure = next(
                (c for c in point.closures.all() if c.starts_on <= distribution.date <= c.ends_on), None
            )
            if closure is not None:
                # Kept with its UID and cancelled, so that a subscribed calendar removes what it showed.
                event.add("status", "CANCELLED")
                title = _("Point fermé (%(reason)s) : pas de distribution") % {"reason": closure.reason}
            event.add("summary", f"{title} – {point.name}")
            event.add("location", vText(_place(point)))
            event.add("description", "\n".join([collective.name, _place(point), *_point_notes(point)]))
            if base_url:
                event.add("url", base_url)
            event.add("transp", "TRANSPARENT")
            calendar.add_component(event)
    _add_zone(calendar, moments)
    return calendar.to_ical()
