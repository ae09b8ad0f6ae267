"""Pages of the ledger: a member's « Mon solde » and paying an order with credit; the coordinators'
members' balances with top-ups recorded on site or for a transfer."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.models import Role
from marketplace.money import euros
from marketplace.permissions import role_required
from orders.cashbox import selectors as cashbox_selectors
from orders.checkout import selectors as checkout_selectors
from orders.ledger import selectors
from orders.ledger import services as ledger_services
from orders.ledger.export import entries_export
from orders.ledger.forms import LedgerExportForm
from orders.models import CardTopUp
from orders.payments import gateway, topups
from orders.payments import services as payment_services
from orders.payments.forms import CardTopUpForm, TopUpForm, form_apply
from orders.solidarity import views as solidarity_views
from orders.statements.selectors import TREASURY_ROLES


def _my_balance_page(request, topup_form: CardTopUpForm, *, status: int = 200):
    return solidarity_views.my_balance_page(request, topup_form=topup_form, status=status)


@role_required(Role.MEMBER)
def my_balance(request):
    return _my_balance_page(request, CardTopUpForm())


@require_POST
@role_required(Role.MEMBER)
def card_topup_start(request):
    """« Recharger par carte »: to Stripe Checkout; the account is credited when Stripe says it is paid."""
    form = CardTopUpForm(request.POST)
    urls: dict[str, str] = {}

    def start(data) -> None:
        urls["checkout"] = topups.topup_card_start(
            user=request.user,
            amount=data["amount"],
            success_url=request.build_absolute_uri(reverse("card_topup_return"))
            + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=request.build_absolute_uri(reverse("my_balance")),
        )

    try:
        done = form_apply(form, start)
    except gateway.StripeError:
        form.add_error(None, _("Stripe ne répond pas pour le moment : réessayez dans quelques minutes."))
        done = False
    if done:
        return redirect(urls["checkout"])
    return _my_balance_page(request, form, status=400)


@role_required(Role.MEMBER)
def card_topup_return(request):
    """Back from Stripe Checkout: ask Stripe (never believe the address) and say where the top-up stands."""
    topup = CardTopUp.objects.filter(
        user=request.user, stripe_session_id=request.GET.get("session_id") or "-"
    ).first()
    if topup is None:
        raise Http404
    try:
        topup = topups.topup_sync(topup_id=topup.pk)
    except gateway.StripeError:
        topup.refresh_from_db()  # Stripe did not answer: the webhook will tell
    if topup.status == CardTopUp.Status.SUCCEEDED:
        messages.success(
            request, _("Recharge reçue : %(amount)s ajoutés à votre avoir.") % {"amount": euros(topup.amount)}
        )
    else:
        messages.info(
            request, _("Paiement en cours de confirmation : votre avoir sera crédité dans un instant.")
        )
    return redirect("my_balance")


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


def _balances_page(
    request,
    *,
    rows=None,
    form: TopUpForm | None = None,
    export_form: LedgerExportForm | None = None,
    status: int = 200,
):
    if rows is None:
        rows = selectors.member_balances(collective=request.tenant)
    context = {
        "rows": rows,
        "form": form or TopUpForm(members=[row.user for row in rows]),
        "credit_allowed": selectors.credit_allowed_here(),
        "export_form": export_form or LedgerExportForm(),
    }
    return render(request, "orders/coordinator/member_balances.html", context, status=status)


@role_required(Role.COORDINATOR)
def member_balances(request):
    rows = selectors.member_balances(collective=request.tenant)
    if request.method != "POST":
        return _balances_page(request, rows=rows)
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
    return _balances_page(request, rows=rows, form=form, status=400)


@role_required(*TREASURY_ROLES)
def ledger_export(request):
    """Every entry of a period, for the accountant (CSV or XLSX), with the cash boxes' differences; a bad
    period shows the balances page again with the dates as typed and the reason next to them."""
    if not request.GET:  # the treasury's own page of the export
        return render(request, "orders/ledger_export.html", {"export_form": LedgerExportForm()})
    form = LedgerExportForm(request.GET)
    if not form.is_valid():
        if request.membership.has_role(Role.COORDINATOR) and request.GET.get("from") == "balances":
            return _balances_page(request, export_form=form, status=400)
        return render(request, "orders/ledger_export.html", {"export_form": form}, status=400)
    data = form.cleaned_data
    entries = selectors.entries_of_period(start=data["start"], end=data["end"])
    differences = cashbox_selectors.differences_of_period(start=data["start"], end=data["end"])
    file_format = data["file_format"]
    content_type = (
        "text/csv; charset=utf-8"
        if file_format == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = HttpResponse(
        entries_export(entries, differences=differences, file_format=file_format), content_type=content_type
    )
    name = f"ecritures-{data['start']:%Y-%m-%d}-{data['end']:%Y-%m-%d}.{file_format}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
