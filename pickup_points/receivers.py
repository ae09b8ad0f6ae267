"""Reactions to other apps' signals."""

from __future__ import annotations

from django.dispatch import receiver
from django.urls import reverse
from django.utils.translation import gettext as _

from marketplace.home import FirstStep
from marketplace.models import Invitation
from marketplace.personal_data import Provider
from marketplace.signals import invitation_accepted
from pickup_points import groups, services
from pickup_points.models import CalendarKey, LabGroupMember, PickupPoint, PointStaff, SlotBooking


@receiver(invitation_accepted, sender=Invitation, dispatch_uid="pickup_points.staff_from_invitation")
def assign_staff_from_invitation(sender, *, invitation, membership, **kwargs) -> None:
    """An invitation to the staff of a point (scope {"pickup_point": id}) assigns the account to it."""
    services.staff_assign_from_invitation(invitation=invitation, membership=membership)


@receiver(invitation_accepted, sender=Invitation, dispatch_uid="pickup_points.lab_group_from_cooptation")
def join_lab_group_from_cooptation(sender, *, invitation, membership, **kwargs) -> None:
    """A member co-opted by a member joins the co-opter's lab group."""
    groups.lab_group_join_from_invitation(invitation=invitation, membership=membership)


# Members' rights (marketplace.personal_data) ----------------------------------------------------------------


def _export(user) -> dict:
    bookings = SlotBooking.objects.filter(user=user).select_related("slot__point").order_by("slot__starts_at")
    return {
        "slot_bookings": [
            {
                "point": booking.slot.point.name,
                "starts_at": booking.slot.starts_at,
                "ends_at": booking.slot.ends_at,
                "basket_number": booking.basket_number,
                "status": str(booking.get_status_display()),
                "checked_in_at": booking.checked_in_at,
            }
            for booking in bookings
        ],
        "lab_group": [
            link.group.name for link in LabGroupMember.objects.filter(user=user).select_related("group")
        ],
        "pickup_point_staff_of": [
            link.point.name for link in PointStaff.objects.filter(user=user).select_related("point")
        ],
    }


def _erase(user, ghost) -> None:
    """Past bookings stay (the slot's counts), without the household; staff assignments end."""
    SlotBooking.objects.filter(user=user).update(user=ghost)
    PointStaff.objects.filter(user=user).delete()
    CalendarKey.objects.filter(user=user).delete()  # the secret feed address dies with the account
    LabGroupMember.objects.filter(user=user).delete()
    LabGroupMember.objects.filter(coopted_by=user).update(coopted_by=None)


personal_data = Provider(name="pickup_points", export=_export, erase=_erase)


def first_steps(request) -> list[FirstStep]:
    """« Premiers pas » (marketplace.home): a pickup point with its distribution hours. A point without
    hours yet leads to its hours page."""
    with_hours = PickupPoint.objects.filter(opening_hours__isnull=False).exists()
    waiting = None if with_hours else PickupPoint.objects.order_by("pk").first()
    url = reverse("point_hours", kwargs={"point_id": waiting.pk}) if waiting else reverse("point_create")
    if with_hours:
        url = reverse("point_list")
    return [
        FirstStep(
            position=20, label=_("Ouvrir un point de retrait et ses horaires"), url=url, done=with_hours
        )
    ]
