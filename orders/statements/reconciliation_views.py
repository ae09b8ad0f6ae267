"""The treasurer's reconciliation of card money with Stripe (its own page, next to the treasury's)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.permissions import role_required
from orders.payments import gateway
from orders.statements import reconciliation
from orders.statements.selectors import TREASURY_ROLES


def _month(value: str | None) -> date | None:
    """« 2026-12 » → the 1st of that month; None when absent; ValueError when malformed."""
    today = timezone.localdate().replace(day=1)
    if not value:
        return today
    year, _sep, month = value.partition("-")
    chosen = date(int(year), int(month), 1)
    if not date(2000, 1, 1) <= chosen <= today:
        raise ValueError(value)
    return chosen


def _shift(month: date, by: int) -> date:
    index = month.year * 12 + month.month - 1 + by
    return date(index // 12, index % 12 + 1, 1)


@role_required(*TREASURY_ROLES)
def stripe_reconciliation(request):
    raw = request.POST.get("mois") if request.method == "POST" else request.GET.get("mois")
    try:
        month = _month(raw)
    except ValueError:
        messages.error(request, _("Mois inconnu : choisissez un mois passé, au format 2026-12."))
        return redirect("stripe_reconciliation")
    if request.method == "POST":
        reconciliation.stripe_sync_request(month=month)
        messages.success(
            request,
            _("Mise à jour demandée : les opérations Stripe du mois sont relues dans un instant."),
        )
        return redirect(f"{reverse('stripe_reconciliation')}?mois={month:%Y-%m}")
    today = timezone.localdate().replace(day=1)
    context = {
        "rec": reconciliation.reconciliation(month=month),
        "month": month,
        "previous": _shift(month, -1),
        "next": _shift(month, 1) if month < today else None,
        "stripe_configured": gateway.is_configured(),
    }
    return render(request, "orders/statements/reconciliation.html", context)
