"""The PDF sheets of a sale: listed for whom they concern, downloaded only by them, made again by
coordinators. Sheets live in the private storage (marketplace.storage), never in public media."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.models import Role
from marketplace.permissions import role_required
from orders.models import Sale, Sheet
from orders.sheets import services as sheet_services


def _visible_sheets(request, sale: Sale | None = None):
    """Coordinators see every sheet; a producer the sheets of the producers they manage; pickup-point staff
    the sign-in sheets of their points. Of one sale, or of every sale."""
    membership = request.membership
    found = Sheet.objects.select_related("producer", "point", "sale")
    if sale is not None:
        found = found.filter(sale=sale)
    if membership.has_role(Role.COORDINATOR):
        return found
    allowed = Q(pk__in=[])
    if membership.has_role(Role.PRODUCER):
        allowed |= Q(producer__accounts=request.user)
    if membership.has_role(Role.POINT_STAFF):
        allowed |= Q(point__staff=request.user, kind=Sheet.Kind.POINT)
    return found.filter(allowed).distinct()


@role_required(Role.COORDINATOR, Role.PRODUCER, Role.POINT_STAFF)
def sale_sheets(request, sale_id: int):
    sale = get_object_or_404(Sale, pk=sale_id)
    visible = _visible_sheets(request, sale)
    is_coordinator = request.membership.has_role(Role.COORDINATOR)
    if not is_coordinator and not visible.exists():
        raise PermissionDenied
    context = {
        "sale": sale,
        "sheets": visible,
        "can_make": is_coordinator,
        "in_progress": sheet_services.sheets_in_progress(sale_id=sale.pk),
    }
    return render(request, "orders/sale_sheets.html", context)


@role_required(Role.COORDINATOR, Role.PRODUCER, Role.POINT_STAFF)
def my_sheets(request):
    """Every sheet that concerns me, newest sale first (producers and staff get them by e-mail too)."""
    sheets_found = (
        _visible_sheets(request)
        .select_related("sale__distribution")
        .prefetch_related("sale__distribution__points")
        .order_by("-sale__distribution_starts_at", "kind", "title")[:200]
    )
    context = {"sheets": sheets_found, "weighs": request.membership.has_role(Role.PRODUCER)}
    return render(request, "orders/my_sheets.html", context)


@role_required(Role.COORDINATOR, Role.PRODUCER, Role.POINT_STAFF)
def sheet_download(request, sheet_id: int):
    sheet = Sheet.objects.filter(pk=sheet_id).select_related("sale").first()
    if sheet is None or not _visible_sheets(request, sheet.sale).filter(pk=sheet.pk).exists():
        raise Http404
    return FileResponse(sheet.file.open("rb"), content_type="application/pdf", filename=f"{sheet.title}.pdf")


@require_POST
@role_required(Role.COORDINATOR)
def sheets_make(request, sale_id: int):
    sale = get_object_or_404(Sale, pk=sale_id)
    queued = sheet_services.sheets_make(sale_id=sale.pk)
    messages.success(
        request,
        _(
            "%(count)s feuilles sont en préparation : elles apparaissent ici "
            "et partent par e-mail une fois faites."
        )
        % {"count": queued},
    )
    return redirect("sale_sheets", sale_id=sale.pk)
