"""The producer's one catalogue, on the public site (issue 19): a signed-in account that sells in several
collectives keeps its shared products and their central stock here, and offers each to its collectives.

Every page looks the shared product up among the account's own (anything else is a 404), and lists only the
collectives where the account is an active producer; an account that sells nowhere gets a 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.models import Collective
from producers import shared_catalogue
from producers.forms import SharedOfferForm, SharedProductForm


def _collectives(request) -> list[Collective]:
    collectives = shared_catalogue.producer_collectives(user=request.user)
    if not collectives:
        raise PermissionDenied
    return collectives


def _shared_or_404(request, shared_id: int):
    shared = shared_catalogue.shared_product_of(user=request.user, shared_product_id=shared_id)
    if shared is None:
        raise Http404
    return shared


@login_required
def shared_catalogue_page(request):
    _collectives(request)
    return render(
        request,
        "producers/shared_catalogue.html",
        {"catalogue": shared_catalogue.shared_catalogue(user=request.user)},
    )


@login_required
@require_POST
def shared_product_share(request):
    """« Mettre en commun »: one of the account's products in a collective joins its shared catalogue."""
    collectives = {collective.pk: collective for collective in _collectives(request)}
    try:
        collective = collectives[int(request.POST.get("collective", ""))]
        product_id = int(request.POST.get("product", ""))
    except (KeyError, ValueError):
        raise Http404 from None
    try:
        shared = shared_catalogue.shared_product_create_from(
            collective=collective, product_id=product_id, user=request.user
        )
    except shared_catalogue.SharingRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("shared_catalogue")
    messages.success(
        request,
        _("« %(name)s » est dans votre catalogue commun : proposez-le à vos autres collectifs.")
        % {"name": shared.name},
    )
    return redirect("shared_product_edit", shared_id=shared.pk)


def _initial(shared) -> dict:
    return {name: getattr(shared, name) for name in SharedProductForm.base_fields}


def _offer_form(request, shared, data=None) -> SharedOfferForm:
    catalogue = shared_catalogue.shared_catalogue(user=request.user)
    row = next(row for row in catalogue.rows if row.shared.pk == shared.pk)
    elsewhere = [c for c in catalogue.collectives if c.pk not in row.offered_in()]
    form = SharedOfferForm(data, collectives=elsewhere, prefix="offer")
    form.row = row  # type: ignore[attr-defined]
    return form


@login_required
def shared_product_edit(request, shared_id: int):
    _collectives(request)
    shared = _shared_or_404(request, shared_id)
    form = SharedProductForm(request.POST or None, initial=_initial(shared))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            shared_catalogue.shared_product_update(shared=shared, user=request.user, **data)
        except shared_catalogue.SharingRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(
                request, _("« %(name)s » est enregistré dans tous vos collectifs.") % {"name": data["name"]}
            )
            return redirect("shared_product_edit", shared_id=shared.pk)
    return render(
        request,
        "producers/shared_product.html",
        {"shared": shared, "form": form, "offer_form": _offer_form(request, shared)},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def shared_product_offer(request, shared_id: int):
    collectives = {collective.pk: collective for collective in _collectives(request)}
    shared = _shared_or_404(request, shared_id)
    offer_form = _offer_form(request, shared, request.POST)
    if offer_form.is_valid():
        collective = collectives[offer_form.cleaned_data["collective"]]
        try:
            shared_catalogue.shared_product_offer(
                shared=shared,
                collective=collective,
                user=request.user,
                price=offer_form.cleaned_data["price"],
            )
        except shared_catalogue.SharingRefused as refusal:
            offer_form.add_error(None, str(refusal))
        else:
            messages.success(
                request,
                _("« %(name)s » est proposé à %(collective)s : ses coordinateurs l'accepteront ou non.")
                % {"name": shared.name, "collective": collective.name},
            )
            return redirect("shared_product_edit", shared_id=shared.pk)
    form = SharedProductForm(initial=_initial(shared))
    return render(
        request,
        "producers/shared_product.html",
        {"shared": shared, "form": form, "offer_form": offer_form},
        status=400,
    )
