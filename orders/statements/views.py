"""Pages of producers' statements: « Mes ventes » for producers (their statements, PDFs, bank details), the
treasurer's page (statements to pay, SEPA files, « payé »), and the collective's commission settings.
Statements and transfer files live in the private storage and leave only through the checked views here."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.models import Role
from marketplace.permissions import role_required
from orders.models import ProducerBankAccount, Sale, ShopSettings, Transfer
from orders.payments import connect, gateway
from orders.sales.forms import add_service_errors
from orders.statements import selectors
from orders.statements import services as statement_services
from orders.statements.forms import BankAccountForm, StatementSettingsForm, TransferForm, TransferPaidForm
from producers import shared_catalogue

TREASURY = selectors.TREASURY_ROLES


# Producers -------------------------------------------------------------------------------------------------


@role_required(Role.PRODUCER)
def my_sales(request):
    return render(request, "orders/statements/my_sales.html", selectors.my_sales(user=request.user))


@login_required
def my_sales_across(request):
    """On the public site: what the signed-in producer brings where and when, in every collective it sells in,
    and its central stocks. Only its own offers, only where it is an active producer; nobody else's."""
    if not shared_catalogue.producer_collectives(user=request.user):
        raise PermissionDenied
    return render(
        request,
        "orders/statements/my_sales_across.html",
        {
            "sales": selectors.sales_across(user=request.user),
            "shared": selectors.shared_stocks(user=request.user),
        },
    )


@role_required(Role.PRODUCER, Role.COORDINATOR)
def producer_connect(request, producer_id: int):
    """« Configurer mes versements »: to Stripe's onboarding of the producer's Express account (again from
    the refresh address when a link expired)."""
    producer = get_object_or_404(selectors.managed_producers(request.user), pk=producer_id)
    here = request.build_absolute_uri(reverse("producer_connect", args=[producer.pk]))
    try:
        url = connect.producer_connect_start(
            producer=producer,
            email=request.user.email,
            refresh_url=here,
            return_url=request.build_absolute_uri(reverse("producer_connect_return", args=[producer.pk])),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("my_sales")
    except gateway.StripeError:
        messages.error(request, _("Stripe ne répond pas pour le moment : réessayez dans quelques minutes."))
        return redirect("my_sales")
    return redirect(url)


@role_required(Role.PRODUCER, Role.COORDINATOR)
def producer_connect_return(request, producer_id: int):
    producer = get_object_or_404(selectors.managed_producers(request.user), pk=producer_id)
    try:
        row = connect.producer_account_refresh(producer_id=producer.pk)
    except gateway.StripeError:
        row = None
    if row is not None and row.payouts_enabled:
        messages.success(
            request, _("Versements activés : vos relevés vous seront versés sur votre compte Stripe.")
        )
    else:
        messages.info(
            request,
            _(
                "Votre compte Stripe n'est pas encore prêt à recevoir des versements : "
                "terminez sa configuration."
            ),
        )
    return redirect("my_sales")


@role_required(Role.PRODUCER, *TREASURY)
def producer_bank(request, producer_id: int):
    """A producer's bank details: kept by the producer, or entered by the treasury from a RIB received on
    paper (many farmers never sign in) — treasurers and coordinators reach every producer of the
    collective, a producer only those they manage."""
    treasurer = selectors.is_treasurer(request.membership)
    producers = selectors.bank_editable_producers(user=request.user, membership=request.membership)
    producer = get_object_or_404(producers, pk=producer_id)
    account = ProducerBankAccount.objects.filter(producer=producer).first()
    initial = {"holder": account.holder, "iban": account.iban, "bic": account.bic} if account else {}
    form = BankAccountForm(request.POST or None, initial=initial)
    own = producer.accounts.filter(pk=request.user.pk).exists()
    if request.method == "POST" and form.is_valid():
        try:
            statement_services.bank_account_save(producer=producer, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if own:
                messages.success(
                    request,
                    _("Coordonnées bancaires enregistrées : vos prochains virements iront sur ce compte."),
                )
                return redirect("my_sales")
            messages.success(
                request,
                _(
                    "Coordonnées bancaires de %(producer)s enregistrées : ses prochains virements iront "
                    "sur ce compte."
                )
                % {"producer": producer.name},
            )
            return redirect("treasury")
    context = {"producer": producer, "form": form, "own": own, "treasurer": treasurer}
    return render(
        request, "orders/statements/producer_bank.html", context, status=400 if form.errors else 200
    )


@role_required(Role.PRODUCER, *TREASURY)
def statement_download(request, statement_id: int):
    statement = selectors.statement_for(
        statement_id=statement_id, user=request.user, membership=request.membership
    )
    if statement is None or not statement.file:
        raise Http404
    return FileResponse(
        statement.file.open("rb"),
        content_type="application/pdf",
        filename=f"releve-{statement.reference}.pdf",
    )


@role_required(Role.PRODUCER, *TREASURY)
def monthly_download(request, document_id: int):
    document = (
        selectors.visible_monthly(user=request.user, membership=request.membership)
        .filter(pk=document_id)
        .first()
    )
    if document is None:
        raise Http404
    return FileResponse(
        document.file.open("rb"),
        content_type="application/pdf",
        filename=f"releve-{document.month:%Y-%m}.pdf",
    )


# Treasurer -------------------------------------------------------------------------------------------------


@role_required(*TREASURY)
def treasury(request):
    data = selectors.treasury(blocker=statement_services.payout_blocker)
    settings_row = ShopSettings.current()
    form = TransferForm(request.POST or None, payable=data["payable"])
    if request.method == "POST" and form.is_valid():
        try:
            transfer = statement_services.transfer_prepare(
                statement_ids=form.cleaned_data["statements"],
                execution_date=form.cleaned_data["execution_date"],
                by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Virement préparé : téléchargez le fichier et déposez-le sur le site de votre banque."),
            )
            return redirect("transfer_detail", transfer_id=transfer.pk)
    context = {
        **data,
        "form": form,
        "settings_row": settings_row,
        "bank_blocker": statement_services.collective_bank_blocker(settings_row),
    }
    return render(request, "orders/statements/treasury.html", context, status=400 if form.errors else 200)


@role_required(*TREASURY)
def transfer_detail(request, transfer_id: int):
    transfer = selectors.transfer_detail(transfer_id=transfer_id)
    if transfer is None:
        raise Http404
    form = TransferPaidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            statement_services.transfer_mark_paid(
                transfer_id=transfer.pk, paid_on=form.cleaned_data["paid_on"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("Virement marqué payé : les producteurs voient « payé » dans « Mes ventes ».")
            )
            return redirect("transfer_detail", transfer_id=transfer.pk)
    context = {"transfer": transfer, "statements": selectors.transfer_statements(transfer), "form": form}
    return render(request, "orders/statements/transfer.html", context, status=400 if form.errors else 200)


@role_required(*TREASURY)
def transfer_download(request, transfer_id: int):
    transfer = get_object_or_404(Transfer, pk=transfer_id)
    return FileResponse(
        transfer.file.open("rb"),
        content_type="application/xml",
        as_attachment=True,
        filename=f"virement-sepa-{transfer.execution_date:%Y%m%d}-{transfer.pk}.xml",
    )


@require_POST
@role_required(*TREASURY)
def transfer_cancel(request, transfer_id: int):
    transfer = get_object_or_404(Transfer, pk=transfer_id)
    try:
        statement_services.transfer_cancel(transfer_id=transfer.pk)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("transfer_detail", transfer_id=transfer.pk)
    messages.success(request, _("Virement annulé : ses relevés sont de nouveau à payer."))
    return redirect("treasury")


@require_POST
@role_required(*TREASURY)
def sale_statements_issue(request, sale_id: int):
    sale = get_object_or_404(Sale, pk=sale_id)
    try:
        issued = statement_services.statements_issue(sale_id=sale.pk)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if issued:
            messages.success(
                request,
                _(
                    "%(count)s relevé(s) établi(s) pour « %(sale)s » : "
                    "les PDF partent par e-mail une fois faits."
                )
                % {"count": len(issued), "sale": sale.title},
            )
        else:
            messages.info(
                request,
                _("Rien n'a changé depuis les derniers relevés de « %(sale)s ».") % {"sale": sale.title},
            )
    return redirect("treasury")


@role_required(*TREASURY)
def statement_settings(request):
    current = ShopSettings.current()
    initial = {
        "commission_percent": current.commission_percent,
        "commission_vat_rate": current.commission_vat_rate,
        "bank_holder": current.bank_holder,
        "bank_iban": current.bank_iban,
        "bank_bic": current.bank_bic,
    }
    initial["producer_payout"] = current.producer_payout
    form = StatementSettingsForm(request.POST or None, initial=initial, connect=connect.connect_offered())
    if request.method == "POST" and form.is_valid():
        try:
            statement_services.statement_settings_update(**form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Réglages des relevés enregistrés."))
            return redirect("treasury")
    return render(
        request, "orders/statements/settings.html", {"form": form}, status=400 if form.errors else 200
    )
