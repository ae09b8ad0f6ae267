"""Coordinator pages of the ordering app: sales and their offers, orders of a sale (and CSV), duplication,
recurring schedules (the payment settings page is in orders.payments.views, the CSV in export.py).
Just over 400 lines: the offers formset and schedule pages each need their few helpers here.

Every object comes from the current collective's schema: an id of another collective is a 404.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import islice

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from marketplace.models import Role
from marketplace.permissions import role_required
from marketplace.selectors import collective_is_public
from orders.checkout import selectors as checkout_selectors
from orders.models import Order, RecurringSchedule, Sale
from orders.sales import dfc
from orders.sales import selectors as sale_selectors
from orders.sales import services as sale_services
from orders.sales.export import orders_csv
from orders.sales.forms import (
    OfferFormSet,
    OrderFilterForm,
    SaleDatesForm,
    SaleForm,
    SaleWindowForm,
    ScheduleForm,
    add_service_errors,
)
from orders.sales.recurrence import MonthlyRule, WeeklyRule
from orders.waiting import selectors as waiting_selectors
from pickup_points.models import Weekday
from producers.models import Product

# Reads used only by these pages -----------------------------------------------------------------------------


def _sale(sale_id: int) -> Sale:
    return get_object_or_404(Sale.objects.select_related("distribution"), pk=sale_id)


def _products_for_offers(sale: Sale, offered_ids) -> list[Product]:
    """What the offers page lists: the active products of the sale's producers, and whatever it offers."""
    return list(
        Product.objects.filter(Q(producer__in=sale.producers.all(), is_active=True) | Q(pk__in=offered_ids))
        .select_related("producer")
        .order_by("producer__name", "name", "pk")
    )


def _placed_summary(sale: Sale) -> dict:
    return Order.objects.filter(sale=sale, status=Order.Status.PLACED).aggregate(
        count=Count("pk"), total=Sum("total")
    )


def _schedules():
    now = timezone.now()
    return (
        RecurringSchedule.objects.prefetch_related("points", "producers")
        .annotate(upcoming=Count("sales", filter=Q(sales__closes_at__gt=now)))
        .order_by("-is_active", "title", "pk")
    )


def _producer_label(request) -> str | None:
    return _("Fournisseurs") if request.tenant.is_buying_group else None


# Sales ------------------------------------------------------------------------------------------------------


@role_required(Role.COORDINATOR)
def sale_list(request):
    sales = list(sale_selectors.sales_for_coordinator())
    return render(request, "orders/coordinator/sale_list.html", {"sales": sales})


def _next_sale_initial(request) -> dict:
    """The next occurrence of the collective's usual rhythm: weekly drive, or monthly order form."""
    rule = MonthlyRule() if request.tenant.is_buying_group else WeeklyRule()
    occurrence = next(rule.occurrences(after=timezone.now()))
    return SaleDatesForm.initial_for(
        title=_("Vente du %(day)s") % {"day": formats.date_format(occurrence.distribution_date, "l j F")},
        opens_at=occurrence.opens_at,
        closes_at=occurrence.closes_at,
        starts_at=occurrence.distribution_starts_at,
        ends_at=occurrence.distribution_ends_at,
    )


@role_required(Role.COORDINATOR)
def sale_create(request):
    label = _producer_label(request)
    if request.method != "POST":
        form = SaleForm(producer_label=label, initial=_next_sale_initial(request))
        form.initial["points"] = list(form.fields["points"].queryset)
        form.initial["producers"] = list(form.fields["producers"].queryset)
        return render(request, "orders/coordinator/sale_form.html", {"form": form})
    form = SaleForm(request.POST, producer_label=label)
    if form.is_valid():
        try:
            sale = sale_services.sale_create(
                **form.sale_times(),
                points=form.cleaned_data["points"],
                producers=form.cleaned_data["producers"],
                publish=form.cleaned_data["publish"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _(
                    "Vente « %(title)s » créée : vérifiez les produits proposés, leurs quantités "
                    "et leurs prix."
                )
                % {"title": sale.title},
            )
            return redirect("sale_offers", sale_id=sale.pk)
    return render(request, "orders/coordinator/sale_form.html", {"form": form}, status=400)


def _offer_initial(product: Product, offer) -> dict:
    if offer is None:
        return {"product": product.pk, "included": False, "quantity": product.stock, "price": product.price}
    return {"product": product.pk, "included": True, "quantity": offer.quantity, "price": offer.price}


def _render_offers(request, sale, rows, formset, status=200):
    return render(
        request,
        "orders/coordinator/sale_offers.html",
        {"sale": sale, "rows": rows, "formset": formset, "prices_frozen": _prices_frozen(sale)},
        status=status,
    )


def _prices_frozen(sale: Sale) -> bool:
    return sale.status in {Sale.Status.OPEN, Sale.Status.CLOSED}


@role_required(Role.COORDINATOR)
def sale_offers(request, sale_id: int):
    sale = _sale(sale_id)
    offers = {offer.product_id: offer for offer in checkout_selectors.sale_offers(sale=sale)}
    products = {product.pk: product for product in _products_for_offers(sale, list(offers))}
    initial = {pk: _offer_initial(product, offers.get(pk)) for pk, product in products.items()}
    if request.method != "POST":
        formset = OfferFormSet(initial=list(initial.values()), prefix="offers")
        _freeze_prices(formset, sale)
        rows = _offer_rows(formset, products, offers)
        return _render_offers(request, sale, rows, formset)

    formset = OfferFormSet(request.POST, prefix="offers")
    # Rows are matched by the product id they carry, never by their position; an id this page did not list
    # (another sale's producer, another collective) is refused before anything else is looked at.
    for form in formset.forms:
        raw_id = form["product"].value()
        if not str(raw_id).isdigit() or int(raw_id) not in products:
            raise Http404
        form.initial = initial[int(raw_id)]
    _freeze_prices(formset, sale)
    rows = _offer_rows(formset, products, offers)
    if formset.is_valid():
        offer_rows = [
            sale_services.OfferRow(
                product_id=form.cleaned_data["product"],
                included=form.cleaned_data["included"],
                quantity=form.cleaned_data["quantity"],
                price=form.cleaned_data["price"],
            )
            for form in formset.forms
        ]
        try:
            sale_services.sale_offers_update(sale_id=sale.pk, rows=offer_rows)
        except ValidationError as error:
            _offer_errors_on_rows(rows, error)
        else:
            messages.success(request, _("Produits de la vente enregistrés."))
            return redirect("sale_offers", sale_id=sale.pk)
    return _render_offers(request, sale, rows, formset, status=400)


def _offer_rows(formset, products, offers) -> list[dict]:
    rows = []
    for form in formset.forms:
        product_id = int(form["product"].value())
        rows.append({"form": form, "product": products[product_id], "offer": offers.get(product_id)})
    return rows


def _freeze_prices(formset, sale: Sale) -> None:
    """Once the sale is open members have seen the prices: the field shows them and ignores what is sent."""
    if _prices_frozen(sale):
        for form in formset.forms:
            form.fields["price"].disabled = True


def _offer_errors_on_rows(rows, error: ValidationError) -> None:
    """The service keys its errors by product id: show each on that product's row."""
    forms_by_product = {str(row["product"].pk): row["form"] for row in rows}
    for product_id, texts in error.message_dict.items():
        forms_by_product.get(product_id, rows[0]["form"]).add_error(None, texts)


@require_POST
@role_required(Role.COORDINATOR)
def sale_publish(request, sale_id: int):
    sale = _sale(sale_id)
    publish = request.POST.get("publish") == "1"
    try:
        sale_services.sale_publish(sale_id=sale.pk, publish=publish)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if publish:
            messages.success(
                request, _("Vente publiée : les membres la voient et pourront commander dès son ouverture.")
            )
        else:
            messages.success(request, _("Vente repassée en brouillon : les membres ne la voient plus."))
    return redirect("sale_offers", sale_id=sale.pk)


def _shifted_initial(sale: Sale) -> dict:
    """The same wall-clock times whole weeks later: one week, or as many as needed to open in the future."""
    weeks = max(1, (timezone.now() - sale.opens_at).days // 7 + 1)

    def later(moment: datetime) -> datetime:
        # Local wall-clock arithmetic: 8:00 stays 8:00 across a change to or from summer time.
        local = timezone.localtime(moment).replace(tzinfo=None) + timedelta(weeks=weeks)
        return timezone.make_aware(local)

    return SaleDatesForm.initial_for(
        title=sale.title,
        opens_at=later(sale.opens_at),
        closes_at=later(sale.closes_at),
        starts_at=later(sale.distribution_starts_at),
        ends_at=later(sale.distribution_ends_at),
    )


@role_required(Role.COORDINATOR)
def sale_duplicate(request, sale_id: int):
    sale = _sale(sale_id)
    form = SaleDatesForm(request.POST or None, initial=_shifted_initial(sale))
    if request.method == "POST" and form.is_valid():
        try:
            copy = sale_services.sale_duplicate(sale=sale, **form.sale_times())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _(
                    "Vente « %(title)s » créée en brouillon à partir de la précédente : vérifiez ses "
                    "produits, puis publiez-la."
                )
                % {"title": copy.title},
            )
            return redirect("sale_offers", sale_id=copy.pk)
    return render(
        request,
        "orders/coordinator/sale_duplicate.html",
        {"sale": sale, "form": form},
        status=400 if form.errors else 200,
    )


@role_required(Role.COORDINATOR)
def sale_window(request, sale_id: int):
    """« Dates de commande »: move when the orders open (until they do) and close (until they have), e.g.
    to give members a day more; the clock opens, reminds and closes at the new times."""
    sale = _sale(sale_id)
    initial = {"opens_at": timezone.localtime(sale.opens_at), "closes_at": timezone.localtime(sale.closes_at)}
    form = SaleWindowForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            moved = sale_services.sale_window_move(
                sale_id=sale.pk,
                opens_at=form.cleaned_data["opens_at"],
                closes_at=form.cleaned_data["closes_at"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if moved.members_told:
                messages.success(
                    request,
                    ngettext(
                        "Dates de commande enregistrées. Le membre est prévenu de la nouvelle clôture par "
                        "e-mail.",
                        "Dates de commande enregistrées. Les %(count)s membres sont prévenus de la nouvelle "
                        "clôture par e-mail.",
                        moved.members_told,
                    )
                    % {"count": moved.members_told},
                )
            else:
                messages.success(request, _("Dates de commande enregistrées."))
            return redirect("sale_window", sale_id=sale.pk)
    context = {"sale": sale, "form": form, "closed": sale.closed_at is not None}
    return render(request, "orders/coordinator/sale_window.html", context, status=400 if form.errors else 200)


# Orders of a sale -------------------------------------------------------------------------------------------


def _filtered_orders(request, sale: Sale):
    form = OrderFilterForm(request.GET or None, points=sale.distribution.points.order_by("name", "pk"))
    return form, sale_selectors.sale_orders(sale=sale, **form.filters())


@role_required(Role.COORDINATOR)
def sale_orders(request, sale_id: int):
    sale = _sale(sale_id)
    form, orders = _filtered_orders(request, sale)
    if request.GET.get("format") == "csv":
        return orders_csv(sale, orders)
    orders = list(orders)
    summary = _placed_summary(sale)
    context = {
        "sale": sale,
        "form": form,
        "orders": orders,
        "per_product": sale_selectors.sale_totals_per_product(sale=sale),
        "per_producer": list(sale_selectors.sale_totals_per_producer(sale=sale)),
        "placed_count": summary["count"],
        "grand_total": summary["total"] or 0,
        "waits": waiting_selectors.sale_wait_counts(sale=sale),
        "query_string": request.GET.urlencode(),
    }
    return render(request, "orders/coordinator/sale_orders.html", context)


@role_required(Role.COORDINATOR)
def sale_orders_csv(request, sale_id: int):
    sale = _sale(sale_id)
    _form, orders = _filtered_orders(request, sale)
    return orders_csv(sale, orders)


# Recurring schedules ----------------------------------------------------------------------------------------


def _day_of_month(day: int) -> str:
    return _("1er") if day == 1 else str(day)


def _schedule_description(schedule: RecurringSchedule) -> str:
    times = {
        "open_time": formats.time_format(schedule.open_time, "H:i"),
        "close_time": formats.time_format(schedule.close_time, "H:i"),
        "start": formats.time_format(schedule.distribution_start, "H:i"),
        "end": formats.time_format(schedule.distribution_end, "H:i"),
    }
    if schedule.kind == RecurringSchedule.Kind.WEEKLY:
        return _(
            "Chaque semaine : ouverture le %(open_day)s à %(open_time)s, clôture le %(close_day)s à "
            "%(close_time)s, distribution le %(distribution_day)s de %(start)s à %(end)s."
        ) % {
            "open_day": Weekday(schedule.open_weekday).label,
            "close_day": Weekday(schedule.close_weekday).label,
            "distribution_day": Weekday(schedule.distribution_weekday).label,
            **times,
        }
    return ngettext(
        "Chaque mois : ouverture le %(open_day)s à %(open_time)s, clôture le %(close_day)s à %(close_time)s, "
        "distribution %(days)s jour plus tard de %(start)s à %(end)s.",
        "Chaque mois : ouverture le %(open_day)s à %(open_time)s, clôture le %(close_day)s à %(close_time)s, "
        "distribution %(days)s jours plus tard de %(start)s à %(end)s.",
        schedule.distribution_after_days,
    ) % {
        "open_day": _day_of_month(schedule.open_day),
        "close_day": _day_of_month(schedule.close_day),
        "days": schedule.distribution_after_days,
        **times,
    }


def _schedule_initial(request) -> dict:
    if request.tenant.is_buying_group:
        initial = ScheduleForm.monthly_defaults()
    else:
        initial = {"kind": RecurringSchedule.Kind.WEEKLY}
    return initial


@role_required(Role.COORDINATOR)
def schedule_list(request):
    label = _producer_label(request)
    if request.method == "POST":
        form = ScheduleForm(request.POST, producer_label=label)
        if form.is_valid():
            try:
                schedule = sale_services.schedule_create(**form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _(
                        "Programmation « %(title)s » créée : ses ventes seront créées automatiquement. "
                        "Pour les créer tout de suite, utilisez le bouton ci-dessous."
                    )
                    % {"title": schedule.title},
                )
                return redirect("schedule_list")
    else:
        form = ScheduleForm(producer_label=label, initial=_schedule_initial(request))
        form.initial["points"] = list(form.fields["points"].queryset)
        form.initial["producers"] = list(form.fields["producers"].queryset)
    schedules = list(_schedules())
    for schedule in schedules:
        schedule.description = _schedule_description(schedule)
        schedule.next_occurrences = list(islice(schedule.rule().occurrences(after=timezone.now()), 2))
    return render(
        request,
        "orders/coordinator/schedule_list.html",
        {"form": form, "schedules": schedules},
        status=400 if form.errors else 200,
    )


@require_POST
@role_required(Role.COORDINATOR)
def schedule_sales_create(request, schedule_id: int):
    schedule = get_object_or_404(RecurringSchedule, pk=schedule_id)
    try:
        created = sale_services.schedule_sales_create(schedule_id=schedule.pk)
    except ValidationError as error:
        messages.error(
            request,
            _("Les ventes de « %(title)s » n'ont pas pu être créées : %(reason)s")
            % {"title": schedule.title, "reason": " ".join(error.messages)},
        )
    else:
        if created:
            messages.success(
                request,
                ngettext(
                    "%(count)s vente créée pour « %(title)s ».",
                    "%(count)s ventes créées pour « %(title)s ».",
                    len(created),
                )
                % {"count": len(created), "title": schedule.title},
            )
        else:
            messages.info(
                request,
                _("Aucune nouvelle vente : les prochaines ventes de « %(title)s » existent déjà.")
                % {"title": schedule.title},
            )
    return redirect("schedule_list")


@require_safe
def dfc_catalogue(request):
    """The collective's current offer in the DFC format, at a stable public address. Public for a
    collective open to all or on approval (its shop is public anyway); a collective open by invitation only
    does not publish its offer (404): its prices are negotiated for its members."""
    collective = request.tenant
    if collective_is_public(collective) or not collective.publishes_openly:
        raise Http404
    document = dfc.catalogue_document(collective=collective, offers=dfc.current_offers())
    response = JsonResponse(document, content_type=dfc.MEDIA_TYPE, json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"  # read by other platforms' pages and tools
    response["Cache-Control"] = "public, max-age=300"
    return response
