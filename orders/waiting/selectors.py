"""Reads of the waiting lists: a member's own entries with their place in line, the checkout's marks, the
coordinator's counts. A member never sees who else waits, only how many are before them."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from orders.models import Offer, OfferWait, Sale, SlotWait
from pickup_points.models import PickupSlot


def wait_for_email(*, wait_id: int) -> SlotWait:
    return SlotWait.objects.select_related("sale", "slot__point").get(pk=wait_id)


def offer_wait_for_email(*, wait_id: int) -> OfferWait:
    return OfferWait.objects.select_related("sale", "offer").get(pk=wait_id)


def _ahead(model=SlotWait, line: str = "slot_id") -> Subquery:
    """How many wait before the entry in its slot's (or product's) line."""
    before = (
        model.objects.filter(**{line: OuterRef(line)}, status=model.Status.WAITING)
        .filter(
            Q(joined_at__lt=OuterRef("joined_at")) | Q(joined_at=OuterRef("joined_at"), pk__lt=OuterRef("pk"))
        )
        .order_by()
        .values(line)
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(before, output_field=IntegerField()), 0)


def waits_of_member(*, user) -> QuerySet[SlotWait]:
    """The member's entries of sales not closed yet, and the last ones ended there (one query)."""
    return (
        SlotWait.objects.filter(user=user, sale__closed_at__isnull=True)
        .select_related("sale", "slot__point")
        .annotate(ahead=_ahead())
        .order_by("slot__starts_at", "-joined_at")
    )


def offer_waits_of_member(*, user) -> QuerySet[OfferWait]:
    """The member's entries on sold-out products of sales not closed yet (one query)."""
    return (
        OfferWait.objects.filter(user=user, sale__closed_at__isnull=True)
        .select_related("sale", "offer")
        .annotate(ahead=_ahead(OfferWait, "offer_id"))
        .order_by("sale__closes_at", "offer__name", "-joined_at")
    )


def member_offer_waits(*, sale: Sale, user) -> dict[int, OfferWait]:
    """Offer id → the member's open entry on that product's list, for the sale page."""
    return {
        wait.offer_id: wait
        for wait in OfferWait.objects.filter(sale=sale, user=user, status__in=OfferWait.OPEN).order_by("pk")
    }


def member_slot_waits(*, sale: Sale, user) -> dict[int, SlotWait]:
    """Slot id → the member's open entry there, for the checkout's slot list."""
    return {
        wait.slot_id: wait
        for wait in SlotWait.objects.filter(sale=sale, user=user, status__in=SlotWait.OPEN).order_by("pk")
    }


def sale_wait_counts(*, sale: Sale) -> dict[str, int]:
    """How many wait, how many have a place held, on how many slots; the same for the sold-out products
    (`products_waiting`, `products_offered`, `products`): the coordinator's lines."""
    counts = SlotWait.objects.filter(sale=sale, status__in=SlotWait.OPEN).aggregate(
        waiting=Count("pk", filter=Q(status=SlotWait.Status.WAITING)),
        offered=Count("pk", filter=Q(status=SlotWait.Status.OFFERED)),
        slots=Count("slot_id", distinct=True),
    )
    counts.update(
        OfferWait.objects.filter(sale=sale, status__in=OfferWait.OPEN).aggregate(
            products_waiting=Count("pk", filter=Q(status=OfferWait.Status.WAITING)),
            products_offered=Count("pk", filter=Q(status=OfferWait.Status.OFFERED)),
            products=Count("offer_id", distinct=True),
        )
    )
    return counts


def slot_exists(*, slot_id: int) -> bool:
    return PickupSlot.objects.filter(pk=slot_id).exists()


def sale_of_wait(*, wait_id: int, user) -> int | None:
    return SlotWait.objects.filter(pk=wait_id, user=user).values_list("sale_id", flat=True).first()


def offer_wait_of_member(*, wait_id: int, user) -> OfferWait | None:
    return OfferWait.objects.filter(pk=wait_id, user=user).select_related("sale").first()


def offer_of_sale(*, sale_id: int, offer_id: int) -> bool:
    return Offer.objects.filter(pk=offer_id, sale_id=sale_id).exists()


def point_of_sale(*, sale_id: int, point_id: int) -> bool:
    """Whether the pickup point has slots in the published sale's distribution."""
    return PickupSlot.objects.filter(
        point_id=point_id, distribution__sale__pk=sale_id, distribution__sale__is_published=True
    ).exists()
