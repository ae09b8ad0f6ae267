"""Pages of solidarity prices: the member's « Mon tarif » and gifts to the fund; the coordinators'
« Tarifs solidaires » (tiers, members' tiers) and « Fonds solidaire » (balance, entries, gifts on site)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.models import Role
from marketplace.money import euros
from marketplace.permissions import role_required
from orders.ledger import selectors as ledger_selectors
from orders.ledger import services as ledger_services
from orders.payments import topups
from orders.payments.forms import CardTopUpForm, form_apply
from orders.solidarity import selectors, services
from orders.solidarity.forms import GiftForm, GiftRecordForm, MemberTierForm, TierForm


@role_required(Role.MEMBER)
def my_tier(request):
    """The member chooses their tier: a self-declaration, nothing to prove, seen only by coordinators."""
    tiers = selectors.tiers(active_only=True)
    current = selectors.own_tier(user=request.user)
    form = MemberTierForm(
        request.POST or None,
        tiers=tiers,
        initial={"tier": current.tier_id if current else ""},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.member_tier_set_by(user=request.user, tier_id=form.cleaned_data["tier"])
        except services.TierRefused as refusal:
            form.add_error("tier", str(refusal))
        else:
            messages.success(
                request, _("Votre tarif est enregistré : il s'applique à vos prochaines commandes.")
            )
            return redirect("my_tier")
    context = {"form": form, "tiers": tiers, "current": current}
    return render(request, "orders/my_tier.html", context, status=400 if form.errors else 200)


@require_POST
@role_required(Role.MEMBER)
def fund_give(request):
    form = GiftForm(request.POST)
    if form_apply(
        form,
        lambda data: ledger_services.fund_gift_from_credit(
            user=request.user, amount=data["amount"], kind=data["kind"]
        ),
    ):
        messages.success(
            request,
            _("Merci ! %(amount)s sont versés au fonds solidaire, pris sur votre avoir.")
            % {"amount": euros(form.cleaned_data["amount"])},
        )
        return redirect("my_balance")
    return my_balance_page(request, gift_form=form, status=400)


def my_balance_page(
    request,
    *,
    gift_form: GiftForm | None = None,
    topup_form: CardTopUpForm | None = None,
    status: int = 200,
):
    """« Mon solde », with the forms to top up by card (where offered) and to give to the solidarity fund
    from one's credit."""
    ledger = ledger_selectors.member_ledger(user=request.user)
    context = {
        "ledger": ledger,
        "topup_form": (topup_form or CardTopUpForm()) if topups.topup_offered() else None,
        "fund": selectors.fund_for_members(),
        "gift_form": gift_form or GiftForm(),
    }
    return render(request, "orders/my_balance.html", context, status=status)


def _tiers_page(request, *, tier_form=None, status: int = 200):
    tiers = selectors.tiers()
    rows = selectors.member_tier_rows(collective=request.tenant)
    context = {
        "tiers": [(tier, TierForm(prefix=f"tier-{tier.pk}", initial=_tier_initial(tier))) for tier in tiers],
        "new_form": tier_form or TierForm(prefix="new"),
        "rows": [
            (
                row,
                MemberTierForm(
                    tiers=tiers,
                    for_member=False,
                    prefix=f"member-{row.user.pk}",
                    initial={"tier": row.tier.pk if row.tier else ""},
                ),
            )
            for row in rows
        ],
    }
    return render(request, "orders/coordinator/price_tiers.html", context, status=status)


def _tier_initial(tier) -> dict:
    return {
        "name": tier.name,
        "percent": tier.percent,
        "description": tier.description,
        "position": tier.position,
        "is_active": tier.is_active,
    }


@role_required(Role.COORDINATOR)
def price_tiers(request):
    """The collective's tiers (add, change) and each member's tier (assign)."""
    if request.method != "POST":
        return _tiers_page(request)
    tier_id = request.POST.get("tier_id")
    prefix = f"tier-{int(tier_id)}" if tier_id and tier_id.isdigit() else "new"
    form = TierForm(request.POST, prefix=prefix)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.tier_save(tier_id=int(tier_id) if prefix != "new" else None, **data)
        except services.TierRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(request, _("Tarif « %(name)s » enregistré.") % {"name": data["name"]})
            return redirect("price_tiers")
    if prefix != "new":  # a tier's own form is shown fresh: its errors come as messages
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return _tiers_page(request, tier_form=form if prefix == "new" else None, status=400)


@require_POST
@role_required(Role.COORDINATOR)
def price_tier_delete(request, tier_id: int):
    """« Supprimer » a tier nobody uses; one in use stays, and the message says what to do instead."""
    try:
        tier = services.tier_delete(tier_id=tier_id)
    except services.TierNotFound as missing:  # another collective's, or deleted already
        raise Http404 from missing
    except services.TierRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("Tarif « %(name)s » supprimé.") % {"name": tier.name})
    return redirect("price_tiers")


@require_POST
@role_required(Role.COORDINATOR)
def member_tier_assign(request, user_id: int):
    rows = {row.user.pk: row for row in selectors.member_tier_rows(collective=request.tenant)}
    if user_id not in rows:  # not a member here (another collective's, or nobody): nothing to see
        raise Http404
    form = MemberTierForm(request.POST, tiers=selectors.tiers(), for_member=False, prefix=f"member-{user_id}")
    if form.is_valid():
        try:
            services.member_tier_set(user_id=user_id, tier_id=form.cleaned_data["tier"], by_member=False)
        except services.TierRefused as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(request, _("Tarif de %(member)s enregistré.") % {"member": rows[user_id].user})
    else:
        messages.error(request, _("Choisissez un des tarifs proposés."))
    return redirect("price_tiers")


def _fund_page(request, form: GiftRecordForm, *, status: int = 200):
    context = {"fund": selectors.fund_overview(), "form": form}
    return render(request, "orders/coordinator/solidarity_fund.html", context, status=status)


@role_required(Role.COORDINATOR)
def solidarity_fund(request):
    """The fund: balance, entries with who gave, what each sale took and gave; a gift received on site."""
    members = [row.user for row in selectors.member_tier_rows(collective=request.tenant)]
    if request.method != "POST":
        return _fund_page(request, GiftRecordForm(members=members))
    form = GiftRecordForm(request.POST, members=members)
    if form_apply(
        form,
        lambda data: ledger_services.fund_gift_record(
            user_id=data["member"],
            amount=data["amount"],
            kind=data["kind"],
            method=data["method"],
            note=data["note"],
            by=request.user,
        ),
    ):
        messages.success(request, _("Don enregistré au fonds solidaire."))
        return redirect("solidarity_fund")
    return _fund_page(request, form, status=400)
