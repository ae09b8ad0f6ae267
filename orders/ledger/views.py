"""Pages of the ledger: a member's « Mon solde » and paying an order with credit; the coordinators'
members' balances with top-ups recorded on site or for a transfer."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.models import Role
from marketplace.money import euros
from marketplace.permissions import role_required
from orders.checkout import selectors as checkout_selectors
from orders.ledger import selectors
from orders.ledger import services as ledger_services
from orders.ledger.export import entries_export
from orders.ledger.forms import LedgerExportForm
from orders.payments import services as payment_services
from orders.payments.forms import TopUpForm, form_apply
from orders.solidarity import views as solidarity_views


@role_required(Role.MEMBER)
def my_balance(request):
    return solidarity_views.my_balance_page(request)


@require_POST
@role_required(Role.MEMBER)
def order_pay_with_credit(request, order_id: int):
    order = checkout_selectors.order_of_user(order_id=order_id, user=request.user)
    if order is None:
        raise Http404
    try:
        spent = payment_services.credit_spend(order_id=order.pk, user=request.user)
    except payment_services.PaymentRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("%(amount)s payés avec votre avoir.") % {"amount": euros(spent)})
    return redirect("order_detail", order_id=order.pk)


def _balances_page(request, form: TopUpForm, *, status: int = 200):
    rows = selectors.member_balances(collective=request.tenant)
    context = {
        "rows": rows,
        "form": form,
        "credit_allowed": selectors.credit_allowed_here(),
        "export_form": LedgerExportForm(),
    }
    return render(request, "orders/coordinator/member_balances.html", context, status=status)


@role_required(Role.COORDINATOR)
def member_balances(request):
    rows = selectors.member_balances(collective=request.tenant)
    if request.method != "POST":
        return _balances_page(request, TopUpForm(members=[row.user for row in rows]))
    form = TopUpForm(request.POST, members=[row.user for row in rows])
    if form_apply(
        form,
        lambda data: ledger_services.topup_record(
            user_id=data["member"],
            amount=data["amount"],
            method=data["method"],
            note=data["note"],
            by=request.user,
        ),
    ):
        messages.success(request, _("Versement d'avance enregistré : le membre le voit dans son solde."))
        return redirect("member_balances")
    return _balances_page(request, form, status=400)


@role_required(Role.COORDINATOR)
def ledger_export(request):
    """Every entry of a period, for the accountant (CSV or XLSX); a bad period goes back with its reason."""
    form = LedgerExportForm(request.GET)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("member_balances")
    data = form.cleaned_data
    entries = selectors.entries_of_period(start=data["start"], end=data["end"])
    file_format = data["file_format"]
    content_type = (
        "text/csv; charset=utf-8"
        if file_format == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = HttpResponse(entries_export(entries, file_format=file_format), content_type=content_type)
    name = f"ecritures-{data['start']:%Y-%m-%d}-{data['end']:%Y-%m-%d}.{file_format}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
