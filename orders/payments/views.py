"""Pages about money: paying by card (Stripe Checkout and the way back), a coordinator's view of an order's
payments (on-site payment, refunds, weights, final amount), a sale's payments, Stripe Connect, the webhook.
"""

from __future__ import annotations

import contextlib

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from marketplace.models import Role
from marketplace.permissions import role_required
from orders.checkout import selectors as checkout_selectors
from orders.models import Order, OrderLine, Payment, PaymentStatus, Sale, ShopSettings
from orders.payments import balance as balances
from orders.payments import gateway, webhooks, wording
from orders.payments import services as payment_services
from orders.payments.forms import OnSitePaymentForm, PaymentSettingsForm, RefundForm, WeightForm, form_apply
from orders.sales.forms import (
    add_service_errors,
)

# Payment methods --------------------------------------------------------------------------------------------


@role_required(Role.COORDINATOR)
def payment_settings(request):
    current = ShopSettings.current()
    card_ready = payment_services.card_ready(request.tenant)
    initial = {
        "payment_methods": current.payment_methods,
        "weight_margin_percent": current.weight_margin_percent,
        "card_hold_minutes": current.card_hold_minutes,
        "wait_hold_minutes": current.wait_hold_minutes,
        "credit_allowed": current.credit_allowed,
        "credit_overdraft": current.credit_overdraft,
    }
    form = PaymentSettingsForm(request.POST or None, initial=initial, card_ready=card_ready)
    if request.method == "POST" and form.is_valid():
        try:
            payment_services.shop_settings_update(**form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Réglages des paiements enregistrés."))
            return redirect("payment_settings")
    context = {
        "form": form,
        "card_ready": card_ready,
        "stripe_configured": gateway.is_configured(),
        "stripe_account": request.tenant.stripe_account_id,
    }
    return render(
        request, "orders/coordinator/payment_settings.html", context, status=400 if form.errors else 200
    )


# Member: paying by card -------------------------------------------------------------------------------------


def checkout_redirect(request, order: Order):
    """Send the member to Stripe Checkout for `order`, or back to the order with the reason why not."""
    success = request.build_absolute_uri(reverse("payment_return", args=[order.pk]))
    try:
        url = payment_services.checkout_start(
            order_id=order.pk,
            user=request.user,
            success_url=success + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=request.build_absolute_uri(reverse("payment_cancelled", args=[order.pk])),
        )
    except payment_services.PaymentRefused as refusal:
        messages.error(request, str(refusal))
    except gateway.StripeError:
        messages.error(
            request,
            _("Le service de paiement ne répond pas : votre commande est gardée, réessayez dans un instant."),
        )
    else:
        return redirect(url)
    return redirect("order_detail", order_id=order.pk)


@require_POST
@role_required(Role.MEMBER)
def order_pay(request, order_id: int):
    order = checkout_selectors.order_of_user(order_id=order_id, user=request.user)
    if order is None:
        raise Http404
    return checkout_redirect(request, order)


@role_required(Role.MEMBER)
def payment_return(request, order_id: int):
    """Back from Checkout: ask Stripe (server-side) what happened; the address alone proves nothing."""
    order = checkout_selectors.order_of_user(order_id=order_id, user=request.user)
    if order is None:
        raise Http404
    payment = order.payments.filter(stripe_session_id=request.GET.get("session_id", "")).first()
    if payment is not None:
        with contextlib.suppress(gateway.StripeError):  # the webhook will tell; the page says "not yet"
            payment_services.payment_sync(payment_id=payment.pk)
        order = checkout_selectors.order_of_user(order_id=order_id, user=request.user)
    paid = order.payment_status in (PaymentStatus.PAID, PaymentStatus.AUTHORIZED)
    balance = balances.order_balance(order)
    context = {
        "order": order,
        "paid": paid,
        "balance": balance,
        "amounts": balances.order_amounts(order),
        "authorized_text": wording.authorized_text(balance),
        "card_notice": wording.order_card_notice(order),
    }
    return render(request, "orders/payment_return.html", context)


@role_required(Role.MEMBER)
def payment_cancelled(request, order_id: int):
    order = checkout_selectors.order_of_user(order_id=order_id, user=request.user)
    if order is None:
        raise Http404
    context = {
        "order": order,
        "paid": False,
        "cancelled": True,
        "balance": balances.order_balance(order),
        "card_notice": wording.order_card_notice(order),
    }
    return render(request, "orders/payment_return.html", context)


# Coordinator: the money of an order and of a sale -----------------------------------------------------------


def _coordinator_order(sale_id: int, order_id: int) -> Order:
    """The order with what its page reads several times (lines; payments with their refunds) loaded once."""
    return get_object_or_404(
        Order.objects.select_related("sale", "user", "booking__slot__point").prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("offer")),
            "ledger_entries",
            Prefetch("payments", queryset=Payment.objects.prefetch_related("refunds")),
        ),
        pk=order_id,
        sale_id=sale_id,
    )


def _order_money_page(request, order: Order, *, status: int = 200, **forms):
    weight_forms = forms.get("weight_forms", {})
    rows = [
        (
            line,
            weight_forms.get(line.pk)
            or WeightForm(prefix=f"line{line.pk}", initial={"weight_kg": line.weight_kg}),
        )
        if line.is_variable_weight
        else (line, None)
        for line in order.lines.all()
    ]
    balance = balances.order_balance(order)
    context = {
        "order": order,
        "sale": order.sale,
        "rows": rows,
        "balance": balance,
        "amounts": balances.order_amounts(order),
        "payments": order.payments.all(),
        "onsite_form": forms.get("onsite_form") or OnSitePaymentForm.for_order(order, balance),
        "refund_form": forms.get("refund_form")
        or RefundForm(credit_allowed=ShopSettings.current().credit_allowed),
    }
    return render(request, "orders/coordinator/order_money.html", context, status=status)


def settle_and_tell(request, order: Order, *, basket: int | None = None) -> None:
    """Settle the order's final amount and tell the person what happened (the day page, with many baskets
    on one page, names the basket in a refusal)."""
    try:
        settlement = payment_services.order_settle(order_id=order.pk, by=request.user)
    except payment_services.PaymentRefused as refusal:
        problem = str(refusal)
        if basket is not None:
            problem = _("Panier n° %(number)s : %(problem)s") % {"number": basket, "problem": problem}
        messages.error(request, problem)
    except gateway.StripeError:
        messages.error(request, _("Le service de paiement ne répond pas : réessayez dans un instant."))
    else:
        messages.success(request, settlement.summary)


@role_required(Role.COORDINATOR)
def order_money(request, sale_id: int, order_id: int):
    return _order_money_page(request, _coordinator_order(sale_id, order_id))


@require_POST
@role_required(Role.COORDINATOR)
def order_onsite_payment(request, sale_id: int, order_id: int):
    order = _coordinator_order(sale_id, order_id)
    form = OnSitePaymentForm(request.POST)
    if form_apply(
        form, lambda data: payment_services.onsite_payment_record(order_id=order.pk, by=request.user, **data)
    ):
        messages.success(request, _("Paiement enregistré."))
        return redirect("order_money", sale_id=sale_id, order_id=order.pk)
    return _order_money_page(request, order, status=400, onsite_form=form)


@require_POST
@role_required(Role.COORDINATOR)
def order_refund(request, sale_id: int, order_id: int):
    order = _coordinator_order(sale_id, order_id)
    form = RefundForm(request.POST, credit_allowed=ShopSettings.current().credit_allowed)
    if form_apply(
        form, lambda data: payment_services.refund_create(order_id=order.pk, by=request.user, **data)
    ):
        messages.success(request, _("Remboursement enregistré : le membre le voit sur sa commande."))
        return redirect("order_money", sale_id=sale_id, order_id=order.pk)
    return _order_money_page(request, order, status=400, refund_form=form)


@require_POST
@role_required(Role.COORDINATOR)
def order_weigh(request, sale_id: int, order_id: int, line_id: int):
    order = _coordinator_order(sale_id, order_id)
    line = get_object_or_404(order.lines.all(), pk=line_id, is_variable_weight=True)
    form = WeightForm(request.POST, prefix=f"line{line.pk}")
    if form_apply(
        form, lambda data: payment_services.line_weigh(line_id=line.pk, weight_kg=data["weight_kg"])
    ):
        messages.success(request, _("Poids enregistré."))
        return redirect("order_money", sale_id=sale_id, order_id=order.pk)
    return _order_money_page(request, order, status=400, weight_forms={line.pk: form})


@require_POST
@role_required(Role.COORDINATOR)
def order_settle(request, sale_id: int, order_id: int):
    order = _coordinator_order(sale_id, order_id)
    settle_and_tell(request, order)
    return redirect("order_money", sale_id=sale_id, order_id=order.pk)


@role_required(Role.COORDINATOR)
def sale_payments(request, sale_id: int):
    sale = get_object_or_404(Sale, pk=sale_id)
    report = balances.sale_payments_report(sale=sale)
    return render(request, "orders/coordinator/sale_payments.html", {"sale": sale, "report": report})


# Coordinator: Stripe Connect --------------------------------------------------------------------------------


@require_POST
@role_required(Role.COORDINATOR)
def stripe_connect(request):
    here = request.build_absolute_uri(reverse("payment_settings"))
    try:
        url = payment_services.stripe_connect_start(
            collective=request.tenant,
            email=request.user.email,
            refresh_url=here,
            return_url=request.build_absolute_uri(reverse("stripe_connect_return")),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except gateway.StripeError:
        messages.error(request, _("Stripe ne répond pas : réessayez dans un instant."))
    else:
        return redirect(url)
    return redirect("payment_settings")


@role_required(Role.COORDINATOR)
def stripe_connect_return(request):
    try:
        enabled = payment_services.stripe_account_refresh(collective=request.tenant)
    except gateway.StripeError:
        messages.error(request, _("Stripe ne répond pas : réessayez dans un instant."))
    else:
        if enabled:
            messages.success(
                request,
                _(
                    "Compte Stripe relié : cochez « Carte bancaire en ligne » pour proposer le paiement "
                    "par carte."
                ),
            )
        else:
            messages.warning(
                request, _("Le compte Stripe n'est pas encore prêt à encaisser : terminez l'inscription.")
            )
    return redirect("payment_settings")


# Stripe → us ------------------------------------------------------------------------------------------------


@csrf_exempt  # exempt only because every call's Stripe signature is verified before anything is read
@require_POST
def stripe_webhook(request):
    outcome = webhooks.event_receive(
        payload=request.body, signature=request.headers.get("Stripe-Signature", "")
    )
    return HttpResponse(outcome.message, status=outcome.status, content_type="text/plain")
