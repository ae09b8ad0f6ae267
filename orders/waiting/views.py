"""Member pages of the waiting lists: join from a full slot, « Mes listes d'attente » (place in line, leave,
take a place or units held for them). Plain forms: works without JavaScript. Joining a sold-out product's list
and taking units held for them go through the cart (orders.checkout.views)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.models import Role
from marketplace.permissions import role_required
from orders.checkout import services as checkout_services
from orders.waiting import offers as offer_waits
from orders.waiting import selectors as waiting_selectors
from orders.waiting import services as waiting_services


@require_POST
@role_required(Role.MEMBER)
def slot_wait_join(request, slot_id: int):
    if not waiting_selectors.slot_exists(slot_id=slot_id):
        raise Http404
    try:
        waiting_services.slot_wait_join(slot_id=slot_id, user=request.user)
    except waiting_services.WaitRefused as refusal:
        messages.warning(request, str(refusal))
    else:
        messages.success(
            request,
            _(
                "Vous êtes sur la liste d'attente : si une place se libère, elle vous est réservée et vous "
                "recevez un e-mail."
            ),
        )
    return redirect("my_waits")


@require_POST
@role_required(Role.MEMBER)
def point_wait_join(request, sale_id: int, point_id: int):
    """« M'inscrire pour le premier créneau libéré » of a full pickup point (a button of the checkout's
    form)."""
    if not waiting_selectors.point_of_sale(sale_id=sale_id, point_id=point_id):
        raise Http404
    try:
        waiting_services.point_wait_join(sale_id=sale_id, point_id=point_id, user=request.user)
    except waiting_services.WaitRefused as refusal:
        messages.warning(request, str(refusal))
    else:
        messages.success(
            request,
            _(
                "Vous êtes sur la liste d'attente de chaque créneau de ce point : la première place libérée "
                "vous est réservée et vous recevez un e-mail."
            ),
        )
    return redirect("my_waits")


@role_required(Role.MEMBER)
def my_waits(request):
    context = {
        "waits": waiting_selectors.waits_of_member(user=request.user),
        "product_waits": waiting_selectors.offer_waits_of_member(user=request.user),
    }
    return render(request, "orders/my_waits.html", context)


@require_POST
@role_required(Role.MEMBER)
def slot_wait_leave(request, wait_id: int):
    if waiting_selectors.sale_of_wait(wait_id=wait_id, user=request.user) is None:
        raise Http404
    try:
        waiting_services.slot_wait_leave(wait_id=wait_id, user=request.user)
    except waiting_services.WaitRefused as refusal:
        messages.warning(request, str(refusal))
    else:
        messages.success(request, _("Vous avez quitté la liste d'attente."))
    return redirect("my_waits")


@require_POST
@role_required(Role.MEMBER)
def slot_wait_accept(request, wait_id: int):
    sale_id = waiting_selectors.sale_of_wait(wait_id=wait_id, user=request.user)
    if sale_id is None:
        raise Http404
    try:
        order = checkout_services.slot_wait_accept(wait_id=wait_id, user=request.user)
    except checkout_services.OrderRefused as refusal:
        messages.warning(request, str(refusal))
        return redirect("my_waits")
    if order is None:  # no order yet: the checkout offers the held slot with the rest of the order
        messages.info(
            request, _("Le créneau vous est réservé : choisissez vos produits puis validez la commande.")
        )
        return redirect("sale_shop", sale_id=sale_id)
    messages.success(request, _("C'est fait : votre commande passe sur ce créneau."))
    return redirect("order_detail", order_id=order.pk)


@require_POST
@role_required(Role.MEMBER)
def offer_wait_leave(request, offer_wait_id: int):
    if waiting_selectors.offer_wait_of_member(wait_id=offer_wait_id, user=request.user) is None:
        raise Http404
    try:
        offer_waits.offer_wait_leave(wait_id=offer_wait_id, user=request.user)
    except offer_waits.OfferWaitRefused as refusal:
        messages.warning(request, str(refusal))
    else:
        messages.success(request, _("Vous avez quitté la liste d'attente."))
    return redirect("my_waits")
