"""The treasurer's books per distribution: each point's cash box (counted by its staff or the treasury,
closed by the treasury), the cheques' deposit slip, food vouchers per issuer, members' transfers expected.
Coordinators and treasurers of the collective see everything; a point's staff only their points' boxes."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.models import Role
from marketplace.money import euros
from marketplace.permissions import role_required
from orders.cashbox import selectors
from orders.cashbox import services as cashbox_services
from orders.cashbox.forms import CashCountForm, PeriodForm, TransferReceivedForm, VoucherIssuerForm
from orders.models import CashBox, VoucherIssuer
from orders.sales.forms import add_service_errors
from orders.statements.selectors import TREASURY_ROLES, is_treasurer
from pickup_points import selectors as point_selectors
from pickup_points.models import PickupPoint
from pickup_points.pages import distribution_at

BOX_ROLES = (*TREASURY_ROLES, Role.POINT_STAFF)


def _box_access(request, distribution_id: int, point_id: int):
    """The point and distribution of a cash box the account may see, or 404 (another point's staff)."""
    if is_treasurer(request.membership):
        point = get_object_or_404(PickupPoint, pk=point_id)
    else:
        visible = point_selectors.points_visible(user=request.user, membership=request.membership)
        point = get_object_or_404(visible, pk=point_id)
    return point, distribution_at(point, distribution_id)


def _box_url(distribution_id: int, point_id: int) -> str:
    return reverse("cash_box", kwargs={"distribution_id": distribution_id, "point_id": point_id})


@role_required(*TREASURY_ROLES)
def cash_box_list(request):
    # Up to a week ahead: cheques and cash may be received before the day (a member paying in advance).
    lines = selectors.cash_boxes(
        points=PickupPoint.objects.all(), until=timezone.localdate() + timedelta(days=7)
    )
    return render(request, "orders/cashbox/list.html", {"lines": lines})


def _box_page(request, point, distribution, *, forms: dict | None = None, status: int = 200):
    view = selectors.cash_box_view(distribution=distribution, point=point)
    forms = forms or {}
    for row in view.rows:
        row.form = forms.get(row.method) or CashCountForm(
            prefix=row.method, initial={"counted": row.count.counted if row.count else None}
        )
    context = {
        "view": view,
        "can_close": is_treasurer(request.membership),
        "is_treasurer": is_treasurer(request.membership),
    }
    return render(request, "orders/cashbox/detail.html", context, status=status)


@role_required(*BOX_ROLES)
def cash_box(request, distribution_id: int, point_id: int):
    point, distribution = _box_access(request, distribution_id, point_id)
    if request.method != "POST":
        return _box_page(request, point, distribution)
    method = request.POST.get("method", "")
    if method not in CashBox.Method.values:
        messages.error(request, _("On compte les espèces et les chèques."))
        return _box_page(request, point, distribution, status=400)
    form = CashCountForm(request.POST, prefix=method)
    if form.is_valid():
        try:
            count = cashbox_services.cash_count_record(
                distribution_id=distribution.pk,
                point_id=point.pk,
                method=method,
                counted=form.cleaned_data["counted"],
                reason=form.cleaned_data["reason"],
                key=form.cleaned_data["key"],
                by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            label = dict(CashBox.Method.choices)[method]
            if count.difference:
                messages.warning(
                    request,
                    _("%(what)s : %(counted)s comptés, écart de caisse de %(difference)s enregistré.")
                    % {"what": label, "counted": euros(count.counted), "difference": euros(count.difference)},
                )
            else:
                messages.success(
                    request,
                    _("%(what)s : %(counted)s comptés, la caisse est juste.")
                    % {"what": label, "counted": euros(count.counted)},
                )
            return redirect(_box_url(distribution.pk, point.pk))
    return _box_page(request, point, distribution, forms={method: form}, status=400)


@require_POST
@role_required(*TREASURY_ROLES)
def cash_box_close(request, distribution_id: int, point_id: int):
    point, distribution = _box_access(request, distribution_id, point_id)
    try:
        cashbox_services.cash_box_close(distribution_id=distribution.pk, point_id=point.pk, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Caisse clôturée : ses comptages ne changent plus."))
    return redirect(_box_url(distribution.pk, point.pk))


@role_required(*BOX_ROLES)
def cheque_slip(request, distribution_id: int, point_id: int):
    """The cheques' deposit slip, to print and take to the bank with the cheques."""
    point, distribution = _box_access(request, distribution_id, point_id)
    cheques = selectors.cheques_of(distribution_id=distribution.pk, point_id=point.pk)
    context = {
        "point": point,
        "distribution": distribution,
        "cheques": cheques,
        "total": sum((row.amount for row in cheques), 0),
        "collective": request.tenant,
    }
    return render(request, "orders/cashbox/cheque_slip.html", context)


# Food vouchers ----------------------------------------------------------------------------------------------


def _vouchers_page(request, *, issuer_form=None, status: int = 200):
    period = PeriodForm.from_query(request.GET)
    claims = (
        selectors.voucher_claims(start=period.cleaned_data["start"], end=period.cleaned_data["end"])
        if period.is_valid()
        else []
    )
    context = {
        "period": period,
        "claims": claims,
        "total": sum((claim.total for claim in claims), 0),
        "issuers": selectors.voucher_issuers(),
        "issuer_form": issuer_form or VoucherIssuerForm(),
    }
    return render(request, "orders/cashbox/vouchers.html", context, status=400 if period.errors else status)


@role_required(*TREASURY_ROLES)
def vouchers(request):
    return _vouchers_page(request)


@require_POST
@role_required(*TREASURY_ROLES)
def voucher_issuer_add(request):
    form = VoucherIssuerForm(request.POST)
    if form.is_valid():
        try:
            issuer = cashbox_services.voucher_issuer_add(name=form.cleaned_data["name"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("« %(name)s » ajouté : on le choisit en enregistrant des bons sur place.")
                % {"name": issuer.name},
            )
            return redirect("vouchers")
    return _vouchers_page(request, issuer_form=form, status=400)


@require_POST
@role_required(*TREASURY_ROLES)
def voucher_issuer_toggle(request, issuer_id: int):
    issuer = get_object_or_404(VoucherIssuer, pk=issuer_id)
    issuer = cashbox_services.voucher_issuer_set_active(issuer_id=issuer.pk, active=not issuer.is_active)
    if issuer.is_active:
        messages.success(request, _("« %(name)s » est de nouveau accepté.") % {"name": issuer.name})
    else:
        messages.success(
            request,
            _("« %(name)s » n'est plus proposé ; ses bons déjà reçus restent comptés.")
            % {"name": issuer.name},
        )
    return redirect("vouchers")


# Members' transfers -----------------------------------------------------------------------------------------


def _transfers_page(request, *, forms: dict | None = None, status: int = 200):
    forms = forms or {}
    expected = selectors.transfers_expected()
    for row in expected:
        row.order.received_form = forms.get(row.order.pk) or TransferReceivedForm(
            prefix=f"order{row.order.pk}", remaining=row.balance.remaining
        )
    context = {
        "expected": expected,
        "expected_total": sum((row.balance.remaining for row in expected), 0),
        "received": selectors.transfers_received(),
    }
    return render(request, "orders/cashbox/transfers.html", context, status=status)


@role_required(*TREASURY_ROLES)
def transfers(request):
    return _transfers_page(request)


@require_POST
@role_required(*TREASURY_ROLES)
def transfer_received(request, order_id: int):
    row = selectors.transfer_expected(order_id=order_id)
    if row is None:
        raise Http404
    form = TransferReceivedForm(request.POST, prefix=f"order{order_id}")
    if form.is_valid():
        try:
            cashbox_services.transfer_receive(
                order_id=order_id,
                amount=form.cleaned_data["amount"],
                received_on=form.cleaned_data["received_on"],
                seen_remaining=form.cleaned_data["seen"],
                by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            left = selectors.transfer_expected(order_id=order_id).balance.remaining
            done = _("Virement de %(amount)s reçu pour la commande n° %(number)s.") % {
                "amount": euros(form.cleaned_data["amount"]),
                "number": row.order.number,
            }
            if left:
                done = f"{done} " + _("Il reste %(left)s attendus.") % {"left": euros(left)}
            messages.success(request, done)
            return redirect("member_transfers")
    return _transfers_page(request, forms={order_id: form}, status=400)
