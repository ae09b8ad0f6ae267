"""Pages of pickup points: staff and coordinators configure points and check households in; members book.

Staff reach only the points they are assigned to: every point id in a URL goes through
`selectors.points_visible`, so any other id (another point, another collective) is a 404. Producers open
the distribution-day page of any point, to weigh their own products in the baskets that hold them.
"""

from __future__ import annotations

import copy

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.models import Role
from marketplace.money import euros
from marketplace.permissions import role_required
from orders.models import Order, OrderLine
from orders.payments import services as payment_services
from orders.payments.forms import OnSitePaymentForm, WeightForm, form_apply
from orders.payments.views import settle_and_tell
from pickup_points import forms, selectors, services
from pickup_points.models import Closure, Distribution, PickupPoint, PickupSlot, SlotBooking
from producers import selectors as producer_selectors

STAFF_ROLES = (Role.POINT_STAFF, Role.COORDINATOR)
# Producers open the distribution-day page too, only to weigh their own products.
DAY_ROLES = (*STAFF_ROLES, Role.PRODUCER)


def _is_coordinator(request) -> bool:
    return bool(request.membership) and request.membership.has_role(Role.COORDINATOR)


def _point(request, point_id: int) -> PickupPoint:
    """A point the signed-in account may manage, or 404."""
    return get_object_or_404(
        selectors.points_visible(user=request.user, membership=request.membership), pk=point_id
    )


def _distribution_at(point: PickupPoint, distribution_id: int) -> Distribution:
    return get_object_or_404(
        Distribution.objects.filter(points=point).select_related("sale"), pk=distribution_id
    )


def _add_errors(form, error: ValidationError) -> None:
    """A service's ValidationError on the form: on its fields when the form has them, else on top."""
    if hasattr(error, "error_dict") and set(error.error_dict) <= set(form.fields):
        form.add_error(None, error)
    else:
        form.add_error(None, error.messages)


def _overbooked_messages(request, slots) -> None:
    for slot in slots:
        messages.warning(
            request,
            _(
                "%(day)s, %(slot)s : ce créneau a déjà %(reserved)s réservations pour %(capacity)s places : "
                "les réservations sont conservées."
            )
            % {
                "day": services.day_label(slot.distribution.date).capitalize(),
                "slot": services.slot_label(slot),
                "reserved": slot.reserved,
                "capacity": slot.capacity,
            },
        )


# Staff and coordinators: points ------------------------------------------------------------------------


@role_required(*STAFF_ROLES)
def point_list(request):
    points = selectors.points_overview(user=request.user, membership=request.membership)
    return render(
        request,
        "pickup_points/point_list.html",
        {"points": points, "is_coordinator": _is_coordinator(request)},
    )


@role_required(Role.COORDINATOR)
def point_create(request):
    data = request.POST or None
    form = forms.PointForm(data)
    rules = forms.SlotRulesForm.for_point(data=data)
    if request.method == "POST" and form.is_valid() and rules.is_valid():
        try:
            point = services.point_create(**form.cleaned_data, **rules.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                _("Point de retrait « %(name)s » créé : indiquez maintenant ses horaires.")
                % {"name": point.name},
            )
            return redirect("point_edit", point_id=point.pk)
    has_errors = form.errors or rules.errors
    return render(
        request,
        "pickup_points/point_create.html",
        {"form": form, "rules": rules},
        status=400 if has_errors else 200,
    )


def _render_point_edit(request, point, *, form=None, rules=None, hours=None, closure_form=None, status=200):
    can_deactivate = _is_coordinator(request)
    context = {
        "point": point,
        "form": form or forms.PointForm(instance=copy.copy(point), can_deactivate=can_deactivate),
        "rules": rules or forms.SlotRulesForm.for_point(point),
        "hours": hours or forms.HoursFormSet(initial=forms.hours_initial(point), prefix="hours"),
        "closure_form": closure_form or forms.ClosureForm(),
        "closures": selectors.closures_of(point=point),
        "is_coordinator": can_deactivate,
    }
    return render(request, "pickup_points/point_edit.html", context, status=status)


@role_required(*STAFF_ROLES)
def point_edit(request, point_id: int):
    point = _point(request, point_id)
    if request.method != "POST":
        return _render_point_edit(request, point)
    form = forms.PointForm(request.POST, instance=copy.copy(point), can_deactivate=_is_coordinator(request))
    rules = forms.SlotRulesForm.for_point(point, data=request.POST)
    hours = forms.HoursFormSet(request.POST, initial=forms.hours_initial(point), prefix="hours")
    if all([form.is_valid(), rules.is_valid(), hours.is_valid()]):
        try:
            updated = services.point_update(
                point=point, hours=hours.hours(), **form.cleaned_data, **rules.cleaned_data
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Point de retrait enregistré."))
            for distribution in updated.kept:
                messages.warning(
                    request,
                    _(
                        "La distribution du %(day)s a déjà des réservations ici : ses créneaux restent "
                        "comme ils étaient. Ajustez-les un par un si besoin."
                    )
                    % {"day": services.day_label(distribution.date)},
                )
            _overbooked_messages(request, selectors.slots_overbooked(point=updated.point))
            return redirect("point_edit", point_id=point.pk)
    return _render_point_edit(request, point, form=form, rules=rules, hours=hours, status=400)


@require_POST
@role_required(*STAFF_ROLES)
def closure_add(request, point_id: int):
    point = _point(request, point_id)
    form = forms.ClosureForm(request.POST)
    if form.is_valid():
        try:
            services.closure_create(point=point, **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Fermeture enregistrée."))
            return redirect(reverse("point_edit", kwargs={"point_id": point.pk}) + "#fermetures")
    return _render_point_edit(request, point, closure_form=form, status=400)


@require_POST
@role_required(*STAFF_ROLES)
def closure_remove(request, point_id: int, closure_id: int):
    point = _point(request, point_id)
    closure = get_object_or_404(Closure.objects.filter(point=point), pk=closure_id)
    services.closure_delete(closure=closure)
    messages.success(request, _("Fermeture supprimée."))
    return redirect(reverse("point_edit", kwargs={"point_id": point.pk}) + "#fermetures")


@role_required(Role.COORDINATOR)
def point_team(request, point_id: int):
    point = _point(request, point_id)
    candidates = list(selectors.staff_candidates(collective=request.tenant, point=point))
    assign_form = forms.StaffAssignForm(candidates=candidates)
    invite_form = forms.StaffInviteForm()
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "assign":
            assign_form = forms.StaffAssignForm(request.POST, candidates=candidates)
            if assign_form.is_valid():
                person = next(user for user in candidates if user.pk == assign_form.cleaned_data["user"])
                try:
                    services.point_staff_add(collective=request.tenant, point=point, user=person)
                except ValidationError as error:
                    _add_errors(assign_form, error)
                else:
                    messages.success(
                        request,
                        _("%(name)s fait maintenant partie de l'équipe de ce point.")
                        % {"name": person.display_name},
                    )
                    return redirect("point_team", point_id=point.pk)
        elif action == "invite":
            invite_form = forms.StaffInviteForm(request.POST)
            if invite_form.is_valid():
                try:
                    invitation = services.point_staff_invite(
                        collective=request.tenant,
                        point=point,
                        email=invite_form.cleaned_data["email"],
                        invited_by=request.user,
                    )
                except ValidationError as error:
                    _add_errors(invite_form, error)
                else:
                    messages.success(
                        request,
                        _(
                            "Invitation envoyée à %(email)s : en l'acceptant, la personne rejoindra "
                            "l'équipe de ce point."
                        )
                        % {"email": invitation.email},
                    )
                    return redirect("point_team", point_id=point.pk)
        else:
            raise Http404
    context = {
        "point": point,
        "staff": selectors.point_staff(point=point),
        "assign_form": assign_form,
        "invite_form": invite_form,
        "has_candidates": bool(candidates),
    }
    has_errors = assign_form.errors or invite_form.errors
    return render(request, "pickup_points/point_team.html", context, status=400 if has_errors else 200)


@require_POST
@role_required(Role.COORDINATOR)
def point_team_remove(request, point_id: int, user_id: int):
    point = _point(request, point_id)
    person = get_object_or_404(point.staff.all(), pk=user_id)
    services.point_staff_remove(point=point, user=person)
    messages.success(
        request, _("%(name)s ne fait plus partie de l'équipe de ce point.") % {"name": person.display_name}
    )
    return redirect("point_team", point_id=point.pk)


# Staff and coordinators (producers too, to weigh): distribution day -----------------------------------


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
    slots = selectors.day_baskets(distribution=distribution, point=point, producer_ids=producer_ids)
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


def _day_url(booking: SlotBooking) -> str:
    url = reverse(
        "point_day", kwargs={"point_id": booking.slot.point_id, "distribution_id": booking.distribution_id}
    )
    return f"{url}#panier-{booking.basket_number}"


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
    distribution = _distribution_at(point, distribution_id)
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
        return redirect(_day_url(booking))
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
        return redirect(_day_url(booking))
    return _render_point_day(
        request, point, booking.distribution, producer_ids, weight_forms={line.pk: form}, status=400
    )


@require_POST
@role_required(*STAFF_ROLES)
def point_day_settle(request, order_id: int):
    order = _day_order(request, order_id)
    settle_and_tell(request, order, basket=order.booking.basket_number)
    return redirect(_day_url(order.booking))


@require_POST
@role_required(*STAFF_ROLES)
def booking_check_in(request, point_id: int, booking_id: int):
    point = _point(request, point_id)
    booking = get_object_or_404(
        SlotBooking.objects.filter(slot__point=point).select_related("user", "slot"), pk=booking_id
    )
    collected = request.POST.get("collected")
    if collected not in {"0", "1"}:
        raise Http404
    services.booking_check_in(booking=booking, collected=collected == "1")
    if collected == "1":
        messages.success(request, _("Panier n° %(number)s retiré.") % {"number": booking.basket_number})
    else:
        messages.info(request, _("Panier n° %(number)s noté non retiré.") % {"number": booking.basket_number})
    return redirect(_day_url(booking))


@role_required(*STAFF_ROLES)
def point_slots(request, point_id: int, distribution_id: int):
    point = _point(request, point_id)
    distribution = _distribution_at(point, distribution_id)
    form = forms.SlotAddForm(request.POST or None, initial={"capacity": point.slot_capacity})
    if request.method == "POST" and form.is_valid():
        try:
            slot = services.slot_add(distribution=distribution, point=point, **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Créneau %(slot)s ajouté.") % {"slot": services.slot_label(slot)})
            return redirect("point_slots", point_id=point.pk, distribution_id=distribution.pk)
    context = {
        "point": point,
        "distribution": distribution,
        "slots": selectors.day_slots(distribution=distribution, point=point),
        "form": form,
        "closure": selectors.point_closure_on(point=point, day=distribution.date),
    }
    return render(request, "pickup_points/point_slots.html", context, status=400 if form.errors else 200)


@require_POST
@role_required(*STAFF_ROLES)
def slot_update(request, point_id: int, slot_id: int):
    point = _point(request, point_id)
    slot = get_object_or_404(
        PickupSlot.objects.filter(point=point).select_related("distribution"), pk=slot_id
    )
    back = reverse("point_slots", kwargs={"point_id": point.pk, "distribution_id": slot.distribution_id})
    action = request.POST.get("action")
    if action in {"open", "close"}:
        slot = services.slot_update(slot=slot, is_open=action == "open")
        if slot.is_open:
            messages.success(request, _("Créneau %(slot)s rouvert.") % {"slot": services.slot_label(slot)})
        else:
            messages.success(
                request,
                _("Créneau %(slot)s fermé : il n'accepte plus de réservations (celles déjà faites restent).")
                % {"slot": services.slot_label(slot)},
            )
        return redirect(f"{back}#creneau-{slot.pk}")
    if action != "capacity":
        raise Http404
    form = forms.SlotCapacityForm(request.POST)
    if form.is_valid():
        try:
            slot = services.slot_update(slot=slot, capacity=form.cleaned_data["capacity"])
        except ValidationError as error:
            _add_errors(form, error)
    if form.errors:
        messages.error(
            request,
            _("Créneau %(slot)s : %(problem)s")
            % {
                "slot": services.slot_label(slot),
                "problem": " ".join(form.errors.get("capacity", []) + form.non_field_errors()),
            },
        )
    elif slot.is_overbooked:
        messages.warning(
            request,
            _(
                "Ce créneau a déjà %(reserved)s réservations pour %(capacity)s places : "
                "les réservations sont conservées."
            )
            % {"reserved": slot.reserved, "capacity": slot.capacity},
        )
    else:
        messages.success(
            request,
            _("Créneau %(slot)s : %(capacity)s places.")
            % {"slot": services.slot_label(slot), "capacity": slot.capacity},
        )
    return redirect(f"{back}#creneau-{slot.pk}")


# Coordinators: distributions ---------------------------------------------------------------------------


@role_required(Role.COORDINATOR)
def distribution_list(request):
    form = forms.DistributionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            distribution = services.distribution_create(**form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                _("Distribution du %(day)s créée.") % {"day": services.day_label(distribution.date)},
            )
            return redirect("distribution_detail", distribution_id=distribution.pk)
    context = {
        "form": form,
        "upcoming": selectors.distributions_upcoming(),
        "past": selectors.distributions_past(),
        "has_points": selectors.points_active().exists(),
    }
    return render(
        request, "pickup_points/distribution_list.html", context, status=400 if form.errors else 200
    )


@role_required(Role.COORDINATOR)
def distribution_detail(request, distribution_id: int):
    distribution = get_object_or_404(Distribution.objects.select_related("sale"), pk=distribution_id)
    points = selectors.distribution_points_summary(distribution=distribution)
    return render(
        request, "pickup_points/distribution_detail.html", {"distribution": distribution, "points": points}
    )


# Members: booking a slot -------------------------------------------------------------------------------


@role_required(Role.MEMBER)
def member_distributions(request):
    distributions = selectors.upcoming_distributions(user=request.user)
    return render(request, "pickup_points/member_distributions.html", {"distributions": distributions})


def _sale_redirect(request, distribution):
    """The pickup day of a sale: the slot is chosen (and changed) with the order, never on its own, so that
    an order always keeps its place."""
    sale = getattr(distribution, "sale", None)  # the reverse one-to-one raises AttributeError when absent
    if sale is None:
        return None
    messages.info(request, _("Pour cette distribution, le créneau se choisit avec votre commande."))
    return redirect("sale_shop", sale_id=sale.pk)


def _render_booking(request, distribution, *, problem: str = "", status: int = 200):
    context = {
        "distribution": distribution,
        "points": selectors.points_for_booking(distribution=distribution),
        "booking": selectors.booking_of(user=request.user, distribution=distribution),
        "problem": problem,
    }
    return render(request, "pickup_points/member_booking.html", context, status=status)


@role_required(Role.MEMBER)
def member_booking(request, distribution_id: int):
    distribution = get_object_or_404(Distribution, pk=distribution_id)
    if sale_page := _sale_redirect(request, distribution):
        return sale_page
    if request.method != "POST":
        return _render_booking(request, distribution)
    if distribution.is_past:
        return _render_booking(request, distribution, problem=_("Cette distribution est passée."), status=400)
    form = forms.BookingForm(request.POST)
    if not form.is_valid():
        return _render_booking(request, distribution, problem=_("Choisissez un créneau."), status=400)
    slot_id = form.cleaned_data["slot"]
    if PickupSlot.objects.filter(pk=slot_id).exclude(distribution=distribution).exists():
        raise Http404
    # A slot gone since the page was shown (its point's hours changed) is refused with the reason, not a 404.
    try:
        booking = services.slot_reserve(slot_id=slot_id, user=request.user)
    except services.BookingRefused as refusal:
        return _render_booking(request, distribution, problem=str(refusal), status=409)
    slot = booking.slot
    messages.success(
        request,
        _("C'est réservé : %(point)s, %(day)s, %(slot)s. Votre numéro de panier : %(number)s.")
        % {
            "point": slot.point.name,
            "day": services.day_label(distribution.date),
            "slot": services.slot_label(slot),
            "number": booking.basket_number,
        },
    )
    return redirect("member_booking", distribution_id=distribution.pk)


@require_POST
@role_required(Role.MEMBER)
def member_booking_cancel(request, distribution_id: int):
    distribution = get_object_or_404(Distribution, pk=distribution_id)
    if sale_page := _sale_redirect(request, distribution):
        return sale_page
    booking = selectors.booking_of(user=request.user, distribution=distribution)
    if booking is None:
        messages.info(request, _("Vous n'aviez pas de créneau pour cette distribution."))
        return redirect("member_booking", distribution_id=distribution.pk)
    if distribution.is_past:
        return _render_booking(request, distribution, problem=_("Cette distribution est passée."), status=400)
    try:
        services.slot_release(booking=booking)
    except services.BookingRefused as refusal:
        return _render_booking(request, distribution, problem=str(refusal), status=409)
    messages.success(request, _("Votre réservation est annulée : la place est libérée."))
    return redirect("member_booking", distribution_id=distribution.pk)
