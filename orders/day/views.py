"""The distribution-day page (moved from pickup_points): each slot's baskets with their orders, on-site
payments, weighing and settling. Staff see every basket of their point; a producer, any point but only the
baskets (and lines) holding their products. Same URL paths and names as before (point_day…).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.models import Role
from marketplace.money import euros
from marketplace.permissions import role_required
from marketplace.selectors import collective_is_public
from orders.day.selectors import booking_at, booking_for_query, day_baskets
from orders.models import Order, OrderLine
from orders.payments import services as payment_services
from orders.payments.forms import OnSitePaymentForm, WeightForm, form_apply, voucher_issuers_accepted
from orders.payments.views import settle_and_tell
from pickup_points import basket_codes, selectors
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


def _onsite_form(order: Order, issuers) -> OnSitePaymentForm:
    return OnSitePaymentForm.for_order(order, order.balance, prefix=f"order{order.pk}", issuers=issuers)


def _render_point_day(
    request,
    point: PickupPoint,
    distribution: Distribution,
    producer_ids: list[int] | None,
    *,
    payment_forms: dict | None = None,
    weight_forms: dict | None = None,
    status: int = 200,
    found: int | None = None,
    scan_entry: str = "",
):
    """The distribution-day page. Forms given (bound, with errors) replace the blank ones of their basket."""
    payment_forms, weight_forms = payment_forms or {}, weight_forms or {}
    slots = day_baskets(distribution=distribution, point=point, producer_ids=producer_ids)
    bookings = [booking for slot in slots for booking in slot.day_bookings]
    counts = dict.fromkeys(SlotBooking.Status.values, 0)
    issuers = voucher_issuers_accepted() if producer_ids is None else []
    for booking in bookings:
        counts[booking.status] += 1
        order = booking.day_order
        if order is None:
            continue
        if producer_ids is None:
            order.payment_form = payment_forms.get(order.pk) or _onsite_form(order, issuers)
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
        "found": found,
        "scan_entry": scan_entry,
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
    found = request.GET.get("panier", "")
    return _render_point_day(
        request, point, distribution, producer_ids, found=int(found) if found.isdigit() else None
    )


def _find_refusal(booking, point: PickupPoint, distribution: Distribution) -> str:
    """Why a basket of this collective is not one to hand over here, or "" when it is."""
    if booking.distribution_id != distribution.pk:
        return _("Ce panier (n° %(number)s) est celui d'une autre distribution, le %(date)s.") % {
            "number": booking.basket_number,
            "date": booking.distribution.date.strftime("%d/%m/%Y"),
        }
    if booking.slot.point_id != point.pk:
        return _("Ce panier (n° %(number)s) est à retirer à un autre point : %(point)s.") % {
            "number": booking.basket_number,
            "point": booking.slot.point.name,
        }
    return ""


@role_required(*STAFF_ROLES)
def point_day_find(request, point_id: int, distribution_id: int):
    """The day page's « Trouver un panier » form: a typed basket number or a scanned QR code (the URL it
    holds, or its token). Found: back to the day page at that basket, where staff mark it handed over."""
    point = get_object_or_404(
        selectors.points_visible(user=request.user, membership=request.membership), pk=point_id
    )
    distribution = distribution_at(point, distribution_id)
    entry = request.GET.get("code", "")
    try:
        query = basket_codes.basket_query(entry=entry, schema_name=connection.schema_name)
    except basket_codes.BasketCodeRefused as refusal:
        messages.error(request, str(refusal))
        return _render_point_day(request, point, distribution, None, status=400, scan_entry=entry[:200])
    if query.basket_number is not None:
        booking = booking_at(distribution=distribution, point=point, basket_number=query.basket_number)
    else:
        booking = booking_for_query(query=query)
    problem = (
        _("Aucun panier ne porte ce numéro à cette distribution.")
        if query.basket_number is not None
        else _("Ce panier n'existe plus : la commande a sans doute été annulée.")
    )
    if booking is not None:
        problem = _find_refusal(booking, point, distribution)
    if problem:
        messages.error(request, problem)
        return _render_point_day(request, point, distribution, None, status=404, scan_entry=entry[:200])
    messages.success(
        request,
        _("Panier n° %(number)s trouvé : %(name)s.")
        % {"number": booking.basket_number, "name": booking.user.display_name},
    )
    url = reverse("point_day", kwargs={"point_id": point.pk, "distribution_id": distribution.pk})
    return redirect(f"{url}?panier={booking.basket_number}#panier-{booking.basket_number}")


def basket_code_open(request, code: str):
    """What the QR code's URL opens in a phone's own camera app: the day page at that basket for the
    point's staff, the order for its member; anyone else learns nothing (404)."""
    try:
        query = basket_codes.basket_query(entry=f"/panier/{code}/", schema_name=connection.schema_name)
    except basket_codes.BasketCodeRefused:
        raise Http404 from None
    booking = booking_for_query(query=query) if query.booking_id else None
    if booking is None or collective_is_public(request.tenant):
        raise Http404
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not request.membership:
        raise Http404
    visible = selectors.points_visible(user=request.user, membership=request.membership)
    if visible.filter(pk=booking.slot.point_id).exists():
        url = reverse(
            "point_day_find",
            kwargs={"point_id": booking.slot.point_id, "distribution_id": booking.distribution_id},
        )
        return redirect(f"{url}?code={code}")
    if booking.user_id == request.user.pk:
        order = Order.objects.filter(booking=booking).first()
        if order is not None:
            return redirect("order_detail", order_id=order.pk)
    raise Http404


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
