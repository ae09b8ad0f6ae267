"""Pages of pickup points: staff and coordinators configure points and check households in; members book.

Staff reach only the points they are assigned to: every point id in a URL goes through
`selectors.points_visible`, so any other id (another point, another collective) is a 404. The
distribution-day page itself lives in orders/day (it shows orders and money; see pickup_points/pages.py).
Over 400 lines: the staff's pages and the members' booking pages share their access helpers; splitting
them would copy those.
"""

from __future__ import annotations

import copy

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from marketplace.models import Role
from marketplace.permissions import role_required
from marketplace.selectors import collective_is_public
from pickup_points import calendar, forms, selectors, services
from pickup_points.models import Closure, Distribution, PickupPoint, PickupSlot, SlotBooking
from pickup_points.pages import STAFF_ROLES, day_url, distribution_at


def _is_coordinator(request) -> bool:
    return bool(request.membership) and request.membership.has_role(Role.COORDINATOR)


def _point(request, point_id: int) -> PickupPoint:
    """A point the signed-in account may manage, or 404."""
    return get_object_or_404(
        selectors.points_visible(user=request.user, membership=request.membership), pk=point_id
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
                "%(day)s, %(slot)s : ce créneau a déjà %(reserved)s réservations pour %(capacity)s "
                "foyers par créneau : les réservations sont conservées."
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
            return redirect("point_hours", point_id=point.pk)
    has_errors = form.errors or rules.errors
    return render(
        request,
        "pickup_points/point_create.html",
        {"form": form, "rules": rules},
        status=400 if has_errors else 200,
    )


def _render_settings(request, point, template: str, context: dict, *, status: int = 200):
    """One of the point's settings pages (the place, its hours, its slots and capacity, its closures): each
    has its own form and button, and saves only its own part."""
    context = {"point": point, "is_coordinator": _is_coordinator(request), **context}
    return render(request, f"pickup_points/{template}", context, status=status)


def _kept_messages(request, updated: services.PointUpdated) -> None:
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


@role_required(*STAFF_ROLES)
def point_edit(request, point_id: int):
    """The place: name, address, how to get in, what to bring; coordinators may also deactivate it."""
    point = _point(request, point_id)
    can_deactivate = _is_coordinator(request)
    form = forms.PointForm(request.POST or None, instance=copy.copy(point), can_deactivate=can_deactivate)
    if request.method == "POST" and form.is_valid():
        try:
            services.point_update(point=point, **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Le lieu est enregistré."))
            return redirect("point_edit", point_id=point.pk)
    return _render_settings(
        request, point, "point_edit.html", {"form": form}, status=400 if form.errors else 200
    )


@role_required(*STAFF_ROLES)
def point_hours(request, point_id: int):
    """Distribution hours. « Ajouter une ligne » without JavaScript redraws the rows with one more (nothing
    is saved); with JavaScript a row is added in the page (static/js/hours_rows.js)."""
    point = _point(request, point_id)
    if request.method == "POST" and "add_row" in request.POST:
        hours = forms.hours_formset_with_row(request.POST)
    elif request.method == "POST":
        hours = forms.HoursFormSet(request.POST, initial=forms.hours_initial(point), prefix="hours")
        if hours.is_valid():
            try:
                updated = services.point_update(point=point, hours=hours.hours())
            except ValidationError as error:
                hours.non_form_errors().extend(error.messages)
            else:
                messages.success(request, _("Les horaires sont enregistrés."))
                _kept_messages(request, updated)
                return redirect("point_hours", point_id=point.pk)
    else:
        hours = forms.HoursFormSet(initial=forms.hours_initial(point), prefix="hours")
    has_errors = request.method == "POST" and "add_row" not in request.POST
    return _render_settings(
        request, point, "point_hours.html", {"hours": hours}, status=400 if has_errors else 200
    )


@role_required(*STAFF_ROLES)
def point_rules(request, point_id: int):
    """How the hours are cut into slots, and « Foyers par créneau »."""
    point = _point(request, point_id)
    rules = forms.SlotRulesForm.for_point(point, data=request.POST or None)
    if request.method == "POST" and rules.is_valid():
        try:
            updated = services.point_update(point=point, **rules.cleaned_data)
        except ValidationError as error:
            _add_errors(rules, error)
        else:
            messages.success(request, _("Les créneaux et les foyers par créneau sont enregistrés."))
            _kept_messages(request, updated)
            return redirect("point_rules", point_id=point.pk)
    return _render_settings(
        request, point, "point_rules.html", {"rules": rules}, status=400 if rules.errors else 200
    )


@role_required(*STAFF_ROLES)
def point_closures(request, point_id: int):
    point = _point(request, point_id)
    form = forms.ClosureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.closure_create(point=point, **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Fermeture enregistrée."))
            return redirect("point_closures", point_id=point.pk)
    context = {"closure_form": form, "closures": selectors.closures_of(point=point)}
    return _render_settings(
        request, point, "point_closures.html", context, status=400 if form.errors else 200
    )


@require_POST
@role_required(*STAFF_ROLES)
def closure_remove(request, point_id: int, closure_id: int):
    point = _point(request, point_id)
    closure = get_object_or_404(Closure.objects.filter(point=point), pk=closure_id)
    services.closure_delete(closure=closure)
    messages.success(request, _("Fermeture supprimée."))
    return redirect("point_closures", point_id=point.pk)


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
        "is_coordinator": True,
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
    return redirect(day_url(booking))


@role_required(*STAFF_ROLES)
def point_slots(request, point_id: int, distribution_id: int):
    point = _point(request, point_id)
    distribution = distribution_at(point, distribution_id)
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
                "Ce créneau a déjà %(reserved)s réservations pour %(capacity)s foyers par créneau : "
                "les réservations sont conservées."
            )
            % {"reserved": slot.reserved, "capacity": slot.capacity},
        )
    else:
        messages.success(
            request,
            _("Créneau %(slot)s : %(capacity)s foyers par créneau.")
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


# Open calendars: the distributions feed. An open collective's (or one on approval) is public: its
# distributions are announced on its public shop anyway and the feed names no one. A collective open by
# invitation only gives each member a secret address instead, which they can renew (the old one stops).


def _feed_response(collective) -> HttpResponse:
    distributions, slots = selectors.feed_distributions(today=timezone.localdate())
    body = calendar.distributions_feed(
        collective=collective, distributions=distributions, slots=slots, base_url=collective.base_url
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{collective.slug}-distributions.ics"'
    response["Cache-Control"] = "private, max-age=900"
    return response


@require_safe
def calendar_feed(request):
    collective = request.tenant
    if collective_is_public(collective) or not collective.publishes_openly:
        raise Http404
    return _feed_response(collective)


def calendar_feed_private(request, token: str):
    """Not @require_safe: an unknown address is a 404 whatever the method, so it tells nothing."""
    collective = request.tenant
    if (
        collective_is_public(collective)
        or selectors.calendar_key_member(token=token, collective=collective) is None
    ):
        raise Http404
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return _feed_response(collective)


def _feed_url(request, collective) -> str:
    if collective.publishes_openly:
        return collective.base_url + reverse("calendar_feed")
    key = services.calendar_key_ensure(user=request.user)
    return collective.base_url + reverse("calendar_feed_private", kwargs={"token": key.token})


@role_required(*Role.values)
def calendar_page(request):
    collective = request.tenant
    url = _feed_url(request, collective)
    context = {
        "feed_url": url,
        "webcal_url": "webcal://" + url.split("://", 1)[1],
        "is_public": collective.publishes_openly,
    }
    return render(request, "pickup_points/calendar.html", context)


@require_POST
@role_required(*Role.values)
def calendar_renew(request):
    if request.tenant.publishes_openly:
        raise Http404
    services.calendar_key_renew(user=request.user)
    messages.success(
        request, _("Nouvelle adresse d'agenda : l'ancienne ne fonctionne plus. Abonnez-vous à la nouvelle.")
    )
    return redirect("calendar_page")
