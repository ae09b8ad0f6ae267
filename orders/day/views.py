"""The distribution-day page (moved from pickup_points): each slot's baskets with their orders, on-site
payments, weighing and settling. Staff see every basket of their point; a producer, any point but only the
baskets (and lines) holding their products. Same URL paths and names as before (point_day…).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.models import Role
from marketplace.money import euros
from marketplace.permissions import role_required
from orders.day.selectors import day_baskets
from orders.models import Order, OrderLine
from orders.payments import services as payment_services
from orders.payments.forms import OnSitePaymentForm, WeightForm, form_apply
from orders.payments.views import settle_and_tell
from pickup_points import selectors
from pickup_points.models import Distribution, PickupPoint, SlotBooking
from pickup_points.pages import DAY_ROLES, STAFF_ROLES, day_url, distribution_at
from producers import selectors as producer_selectors


def _day_access(request, point_id: int) -> tuple[PickupPoint, list[int] | None]:
    """The point and whose baskets the account sees there: every basket (None) for its staff and the
    coordinators; for a producer, any point of the collective but only the baskets of their producers."""
    point = selectors.points_visible(user=request.user, membership=request.membership).filter(pk=point_id)
    if point := point.first():
        return point, None
    if not request.membership.has_role(Role.PRODUCER):
        raise Http404  # staff of another point
    producer_ids = list(
        producer_selectors.producers_managed_by(user=request.user, membership=request.membership).values_list(
            "pk", flat=True
        )
    )
    if not producer_ids:  # a producer account not linked to any producer yet has nothing to weigh
        raise PermissionDenied
    return get_object_or_404(PickupPoint, pk=point_id), producer_ids


def _onsite_form(order: Order) -> OnSitePaymentForm:
    return OnSitePaymentForm.for_order(order, order.balance, prefix=f"order{order.pk}")


def _render_point_day(
    request,
    point: PickupPoint,
    distribution: Distribution,
    producer_ids: list[int] | None,
    *,
    payment_forms: dict | None = None,
    weight_forms: dict | None = None,
    status: int = 200,
):
    """The distribution-day page. Forms given (bound, with errors) replace the blank ones of their basket."""
    payment_forms, weight_forms = payment_forms or {}, weight_forms or {}
    slots = day_baskets(distribution=distribution, point=point, producer_ids=producer_ids)
    bookings = [booking for slot in slots for booking in slot.day_bookings]
    counts = dict.fromkeys(SlotBooking.Status.values, 0)
    for booking in bookings:
        counts[booking.status] += 1
        order = booking.day_order
        if order is None:
            continue
        if producer_ids is None:
            order.payment_form = payment_forms.get(order.pk) or _onsite_form(order)
        for line in order.day_lines:
            if line.is_variable_weight:
                line.weight_form = weight_forms.get(line.pk) or WeightForm(
                    prefix=f"line{line.pk}", initial={"weight_kg": line.weight_kg}
                )
    context = {
        "point": point,
        "distribution": distribution,
        "slots": slots,
        "total": len(bookings),
        "collected": counts[SlotBooking.Status.COLLECTED],
        "missed": counts[SlotBooking.Status.MISSED],
        "closure": selectors.point_closure_on(point=point, day=distribution.date),
        "manages": producer_ids is None,
    }
    return render(request, "pickup_points/point_day.html", context, status=status)


def _day_order(request, order_id: int) -> Order:
    """An order picked up at a point the account manages (its booking says where and when), or 404."""
    order = get_object_or_404(
        Order.objects.filter(booking__isnull=False).select_related(
            "booking__slot__point", "booking__distribution"
        ),
        pk=order_id,
    )
    visible = selectors.points_visible(user=request.user, membership=request.membership)
    if not visible.filter(pk=order.booking.slot.point_id).exists():
        raise Http404
    return order


@role_required(*DAY_ROLES)
def point_day(request, point_id: int, distribution_id: int):
    point, producer_ids = _day_access(request, point_id)
    distribution = distribution_at(point, distribution_id)
    return _render_point_day(request, point, distribution, producer_ids)


@require_POST
@role_required(*STAFF_ROLES)
def point_day_payment(request, order_id: int):
    order = _day_order(request, order_id)
    booking = order.booking
    form = OnSitePaymentForm(request.POST, prefix=f"order{order.pk}")
    if form_apply(
        form, lambda data: payment_services.onsite_payment_record(order_id=order.pk, by=request.user, **data)
    ):
        messages.success(
            request,
            _("Panier n° %(number)s : paiement de %(amount)s enregistré.")
            % {"number": booking.basket_number, "amount": euros(form.cleaned_data["amount"])},
        )
        return redirect(day_url(booking))
    return _render_point_day(
        request, booking.slot.point, booking.distribution, None, payment_forms={order.pk: form}, status=400
    )


@require_POST
@role_required(*DAY_ROLES)
def point_day_weigh(request, line_id: int):
    line = get_object_or_404(
        OrderLine.objects.filter(order__booking__isnull=False, is_variable_weight=True).select_related(
            "offer", "order__booking__slot", "order__booking__distribution"
        ),
        pk=line_id,
    )
    booking = line.order.booking
    point, producer_ids = _day_access(request, booking.slot.point_id)
    if producer_ids is not None and line.offer.producer_id not in producer_ids:
        raise Http404
    form = WeightForm(request.POST, prefix=f"line{line.pk}")
    if form_apply(
        form, lambda data: payment_services.line_weigh(line_id=line.pk, weight_kg=data["weight_kg"])
    ):
        line.refresh_from_db(fields=["weighed_amount"])
        messages.success(
            request,
            _("Panier n° %(number)s : %(name)s pesé, %(amount)s.")
            % {"number": booking.basket_number, "name": line.name, "amount": euros(line.weighed_amount)},
        )
        return redirect(day_url(booking))
    return _render_point_day(
        request, point, booking.distribution, producer_ids, weight_forms={line.pk: form}, status=400
    )


@require_POST
@role_required(*STAFF_ROLES)
def point_day_settle(request, order_id: int):
    order = _day_order(request, order_id)
    settle_and_tell(request, order, basket=order.booking.basket_number)
    return redirect(day_url(order.booking))
