"""The town-hall kit: a printable PDF (French) for a pickup point's team. Pages 1–2: the distribution
protocol, with the point's real slots (stagger arrivals, signage, hand-over without contact, hygiene);
last page: an A4 poster with the collective's name, the point, the next distribution and a QR code to the
collective's shop. Rendered by WeasyPrint from templates/pickup_points/sheets/kit.html, never inside a
transaction (the view and the acceptance's e-mail task call it after their commit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import segno
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify
from weasyprint import HTML

from marketplace.guards import slow_work_outside_transactions
from marketplace.models import Collective
from pickup_points import services
from pickup_points.models import Distribution, PickupPoint, PickupSlot


@dataclass(frozen=True)
class KitSlot:
    starts_at: datetime
    ends_at: datetime
    capacity: int


@dataclass(frozen=True)
class NextDistribution:
    day: date
    starts_at: datetime | None
    ends_at: datetime | None


def shop_url(collective: Collective) -> str:
    """Where the poster's QR code leads: the collective's home page, which shows the sale that is open."""
    return collective.base_url + "/"


def qr_data_uri(payload: str) -> str:
    return segno.make(payload, error="m").png_data_uri(scale=12, border=2)


def _next_distribution(point: PickupPoint) -> tuple[NextDistribution | None, list[KitSlot]]:
    distribution = (
        Distribution.objects.filter(points=point, date__gte=timezone.localdate())
        .order_by("date", "pk")
        .first()
    )
    if distribution is None:
        return None, []
    slots = [
        KitSlot(slot.starts_at, slot.ends_at, slot.capacity)
        for slot in PickupSlot.objects.filter(distribution=distribution, point=point).order_by("starts_at")
    ]
    starts = slots[0].starts_at if slots else None
    ends = slots[-1].ends_at if slots else None
    return NextDistribution(distribution.date, starts, ends), slots


def _weekly_slots(point: PickupPoint) -> tuple[str, list[KitSlot]]:
    """Without an upcoming distribution: the slots of the point's first weekday of distribution hours."""
    hours = list(point.opening_hours.order_by("weekday", "starts_at"))
    if not hours:
        return "", []
    weekday = hours[0].weekday
    today = timezone.localdate()
    day = today + timedelta(days=(weekday - today.weekday()) % 7)
    ranges = services.slot_ranges(
        day=day,
        hours=[(h.starts_at, h.ends_at) for h in hours if h.weekday == weekday],
        minutes=point.slot_minutes,
    )
    return hours[0].get_weekday_display(), [KitSlot(start, end, point.slot_capacity) for start, end in ranges]


def kit_context(*, collective: Collective, point: PickupPoint) -> dict:
    next_distribution, slots = _next_distribution(point)
    weekday = ""
    if not slots:
        weekday, slots = _weekly_slots(point)
    url = shop_url(collective)
    return {
        "collective": collective,
        "point": point,
        "next_distribution": next_distribution,
        "slots": slots,
        "slots_weekday": weekday,
        "shop_url": url,
        "qr": qr_data_uri(url),
        "made_at": timezone.localtime(),
    }


def kit_filename(point: PickupPoint) -> str:
    return f"kit-point-de-retrait-{slugify(point.name) or point.pk}.pdf"


def kit_pdf(*, collective: Collective, point: PickupPoint) -> bytes:
    slow_work_outside_transactions("PDF render")
    html = render_to_string("pickup_points/sheets/kit.html", kit_context(collective=collective, point=point))
    return HTML(string=html).write_pdf()
