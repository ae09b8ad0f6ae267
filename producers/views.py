"""Producers' back office (catalogue, prices and stock, import/export) and the collective's shop.

Back-office views check the role in the current collective (role_required), then look the producer or the
product up among those the account manages: anything else is a 404, whatever id is in the URL or the POST.
Over 400 lines: one page per back-office screen, all behind the same `_managed_producer` check.
"""

from __future__ import annotations

import copy

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from marketplace.models import Role
from marketplace.permissions import role_required
from producers import agreements, catalogue, selectors, services, shared_catalogue, shop_list
from producers.forms import (
    BulkFormSet,
    CategoryForm,
    ImportUploadForm,
    PriceAgreementForm,
    ProducerForm,
    ProducerInviteForm,
    ProductForm,
    ShopFilterForm,
)
from producers.models import Category, ImportJob, Producer, ProducerAccount, Product

BACK_OFFICE = (Role.PRODUCER, Role.COORDINATOR)


def _membership(request):
    return request.membership or None


def _is_coordinator(request) -> bool:
    membership = _membership(request)
    return bool(membership and membership.has_role(Role.COORDINATOR))


def _managed_producers(request):
    return selectors.producers_managed_by(user=request.user, membership=_membership(request))


def _managed_producer(request, producer_id: int) -> Producer:
    return get_object_or_404(_managed_producers(request), pk=producer_id)


def _status(form_or_errors) -> int:
    return 400 if form_or_errors else 200


# ---------------------------------------------------------------------------------------- producers


@role_required(*BACK_OFFICE)
def producer_list(request):
    producers = list(selectors.producers_overview(user=request.user, membership=_membership(request)))
    is_coordinator = _is_coordinator(request)
    if not is_coordinator and len(producers) == 1:
        return redirect("producer_catalogue", producer_id=producers[0].pk)
    return render(
        request, "producers/producer_list.html", {"producers": producers, "is_coordinator": is_coordinator}
    )


@role_required(Role.COORDINATOR)
def producer_create(request):
    form = ProducerForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form._meta.fields}
        try:
            producer = services.producer_create(**fields, photo=form.photo_change())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("%(name)s est créé. Invitez maintenant les personnes qui gèreront son catalogue.")
                % {"name": producer.name},
            )
            return redirect("producer_accounts", producer_id=producer.pk)
    return render(
        request, "producers/producer_form.html", {"form": form, "producer": None}, status=_status(form.errors)
    )


@role_required(*BACK_OFFICE)
def producer_edit(request, producer_id: int):
    producer = _managed_producer(request, producer_id)
    is_coordinator = _is_coordinator(request)
    form = ProducerForm(
        request.POST or None,
        request.FILES or None,
        instance=copy.copy(producer),
        can_deactivate=is_coordinator,
    )
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form._meta.fields if name in form.fields}
        try:
            services.producer_update(producer=producer, photo=form.photo_change(), **fields)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Profil enregistré."))
            return redirect("producer_catalogue", producer_id=producer.pk)
    return render(
        request,
        "producers/producer_form.html",
        {"form": form, "producer": producer, "is_coordinator": is_coordinator},
        status=_status(form.errors),
    )


@role_required(Role.COORDINATOR)
def producer_accounts(request, producer_id: int):
    producer = _managed_producer(request, producer_id)
    form = ProducerInviteForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            result = services.producer_invite(
                collective=request.tenant,
                producer=producer,
                by=request.user,
                email=form.cleaned_data["email"],
            )
        except ValidationError as error:
            form.add_error(None, error)  # an {"email": …} error lands on the e-mail field
        else:
            if result.linked:
                messages.success(
                    request,
                    _("%(name)s gère maintenant %(producer)s.")
                    % {"name": result.linked.display_name, "producer": producer.name},
                )
                return redirect("producer_accounts", producer_id=producer.pk)
            created = result.invitation
            if created.email:
                messages.success(request, _("Invitation envoyée à %(email)s.") % {"email": created.email})
            else:
                messages.success(request, _("Lien d'invitation créé : copiez-le et envoyez-le."))
            form = ProducerInviteForm()
    return render(
        request,
        "producers/producer_accounts.html",
        {
            "producer": producer,
            "form": form,
            "created": created,
            "links": selectors.producer_account_links(producer=producer),
            "invitations": selectors.producer_pending_invitations(
                collective=request.tenant, producer=producer
            ),
        },
        status=_status(form.errors),
    )


@require_POST
@role_required(Role.COORDINATOR)
def producer_account_remove(request, producer_id: int, user_id: int):
    producer = _managed_producer(request, producer_id)
    try:
        services.producer_account_unlink(producer=producer, user_id=user_id)
    except ProducerAccount.DoesNotExist as missing:
        raise Http404 from missing
    messages.success(request, _("Ce compte ne gère plus %(producer)s.") % {"producer": producer.name})
    return redirect("producer_accounts", producer_id=producer.pk)


# ----------------------------------------------------------------------------------------- catalogue


@role_required(*BACK_OFFICE)
def producer_catalogue(request, producer_id: int):
    producer = _managed_producer(request, producer_id)
    return render(
        request,
        "producers/catalogue.html",
        {
            "producer": producer,
            "products": selectors.producer_products(producer=producer),
            "is_coordinator": _is_coordinator(request),
        },
    )


@role_required(*BACK_OFFICE)
def product_create(request, producer_id: int):
    producer = _managed_producer(request, producer_id)
    form = ProductForm(request.POST or None, request.FILES or None, instance=Product(producer=producer))
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form._meta.fields}
        try:
            product = services.product_create(producer=producer, photo=form.photo_change(), **fields)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("« %(name)s » est ajouté au catalogue.") % {"name": product.name})
            if "another" in request.POST:
                return redirect("product_create", producer_id=producer.pk)
            return redirect("producer_catalogue", producer_id=producer.pk)
    return render(
        request,
        "producers/product_form.html",
        {"form": form, "producer": producer, "product": None},
        status=_status(form.errors),
    )


@role_required(*BACK_OFFICE)
def product_edit(request, product_id: int):
    product = get_object_or_404(
        selectors.products_managed_by(user=request.user, membership=_membership(request)), pk=product_id
    )
    form = ProductForm(request.POST or None, request.FILES or None, instance=copy.copy(product))
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form._meta.fields}
        try:
            services.product_update(product=product, photo=form.photo_change(), **fields)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("« %(name)s » est enregistré.") % {"name": form.cleaned_data["name"]})
            return redirect("producer_catalogue", producer_id=product.producer_id)
    return render(
        request,
        "producers/product_form.html",
        {"form": form, "producer": product.producer, "product": product},
        status=_status(form.errors),
    )


@require_POST
@role_required(Role.COORDINATOR)
def product_link_decide(request, product_id: int):
    """The collective's say on a product a producer offers from its shared catalogue: accept or refuse."""
    product = get_object_or_404(Product.objects.filter(shared_product__isnull=False), pk=product_id)
    decision = request.POST.get("decision")
    if decision not in ("accept", "refuse"):
        messages.error(request, _("Choisissez « Accepter » ou « Refuser »."))
        return redirect("producer_catalogue", producer_id=product.producer_id)
    shared_catalogue.product_link_decide(product_id=product.pk, accept=decision == "accept")
    messages.success(
        request,
        (
            _("« %(name)s » est accepté : il est en vente.")
            if decision == "accept"
            else _("« %(name)s » est refusé : il n'apparaît pas dans la boutique.")
        )
        % {"name": product.name},
    )
    return redirect("producer_catalogue", producer_id=product.producer_id)


@role_required(*BACK_OFFICE)
def products_bulk_edit(request, producer_id: int):
    producer = _managed_producer(request, producer_id)
    products = {product.pk: product for product in selectors.producer_products(producer=producer)}
    initial = {
        product.pk: {
            "product": product.pk,
            "price": product.price,
            "stock": product.stock,
            "unlimited": product.stock is None,
        }
        for product in products.values()
    }
    formset = BulkFormSet(
        request.POST or None, initial=list(initial.values()) if request.method != "POST" else None
    )
    if request.method == "POST":
        # Rows are matched by the product id they carry, never by their position: an id that is not one
        # of this producer's products is refused outright, before anything else is looked at.
        for form in formset.forms:
            raw_id = form["product"].value()
            if not str(raw_id).isdigit() or int(raw_id) not in products:
                raise Http404
            form.initial = initial[int(raw_id)]
        if formset.is_valid():
            changes = [
                services.StockPriceChange(
                    product_id=form.cleaned_data["product"],
                    price=form.cleaned_data["price"],
                    stock=form.stock_value(),
                )
                for form in formset.forms
            ]
            try:
                updated = services.products_bulk_update(producer=producer, changes=changes)
            except Product.DoesNotExist as missing:
                raise Http404 from missing
            except ValidationError as error:
                for form in formset.forms:
                    for message in error.message_dict.get(str(form.cleaned_data["product"]), []):
                        form.add_error(None, message)
            else:
                if updated:
                    messages.success(
                        request,
                        ngettext(
                            "%(count)s produit mis à jour.", "%(count)s produits mis à jour.", len(updated)
                        )
                        % {"count": len(updated)},
                    )
                else:
                    messages.info(request, _("Rien n'a changé."))
                return redirect("products_bulk_edit", producer_id=producer.pk)
    rows = [(form, products[int(form["product"].value())]) for form in formset.forms]
    has_errors = request.method == "POST" and (
        any(form.errors for form in formset.forms) or formset.non_form_errors()
    )
    if has_errors:
        messages.error(request, _("Certaines lignes sont à corriger : rien n'a été enregistré."))
    return render(
        request,
        "producers/bulk_edit.html",
        {"producer": producer, "formset": formset, "rows": rows},
        status=_status(has_errors),
    )


# ---------------------------------------------------------------------------------------- price agreements


@role_required(*BACK_OFFICE)
def price_agreements(request, producer_id: int):
    """The history of a supplier's agreements: coordinators record them, the supplier reads its own."""
    producer = _managed_producer(request, producer_id)
    return render(
        request,
        "producers/price_agreements.html",
        {
            "producer": producer,
            "agreements": agreements.producer_agreements(producer=producer),
            "is_coordinator": _is_coordinator(request),
        },
    )


@role_required(Role.COORDINATOR)
def price_agreement_create(request, producer_id: int):
    producer = _managed_producer(request, producer_id)
    products = list(selectors.producer_products(producer=producer).filter(is_active=True))
    form = PriceAgreementForm(request.POST or None, products=products)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            agreements.agreement_record(
                producer=producer,
                recorded_by=request.user,
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                agreed_on=data["agreed_on"],
                agreed_with=data["agreed_with"],
                note=data["note"],
                prices=form.prices(),
            )
        except Product.DoesNotExist as missing:
            raise Http404 from missing
        except ValidationError as error:
            for field, field_messages in error.message_dict.items():
                for message in field_messages:
                    form.add_error(None if field == "__all__" else field, message)
        else:
            messages.success(request, _("L'accord de prix est enregistré."))
            return redirect("price_agreements", producer_id=producer.pk)
    return render(
        request,
        "producers/price_agreement_form.html",
        {"producer": producer, "form": form},
        status=_status(form.errors),
    )


# ------------------------------------------------------------------------------------ import / export

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@role_required(*BACK_OFFICE)
def catalogue_export(request, producer_id: int):
    # Looked up before the method is checked: a POST with another collective's id is a 404 too.
    producer = _managed_producer(request, producer_id)
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    file_format = request.GET.get("format", "csv")
    if file_format not in CONTENT_TYPES:
        raise Http404
    content = catalogue.catalogue_export(producer=producer, file_format=file_format)
    response = HttpResponse(content, content_type=CONTENT_TYPES[file_format])
    file_name = f"catalogue-{slugify(producer.name) or producer.pk}.{file_format}"
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


@role_required(*BACK_OFFICE)
def catalogue_import(request, producer_id: int):
    producer = _managed_producer(request, producer_id)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.import_job_create(
                producer=producer, created_by=request.user, file_name=upload.name, content=upload.read()
            )
        except ValidationError as error:
            form.add_error("file", error.message_dict.get("file", error.messages))
        else:
            return redirect("catalogue_import_review", producer_id=producer.pk, job_id=job.pk)
    return render(
        request,
        "producers/import_upload.html",
        {"producer": producer, "form": form},
        status=_status(form.errors),
    )


@role_required(*BACK_OFFICE)
def catalogue_import_review(request, producer_id: int, job_id: int):
    """The file's check, then its import, both in the background: the page refreshes itself (no JavaScript)
    with the rows done so far, then shows the report and « Confirmer l'import »."""
    producer = _managed_producer(request, producer_id)
    job = get_object_or_404(ImportJob.objects.select_related("producer"), producer=producer, pk=job_id)
    waiting = request.GET.get("attente") == "1"
    if job.state == ImportJob.State.APPLIED:
        report = catalogue.ImportReport.from_json(job.report or {})
        if waiting:  # the import this producer was watching has just ended
            messages.success(
                request,
                _(
                    "Import terminé : %(new)s produit(s) ajouté(s), %(updated)s modifié(s), "
                    "%(same)s inchangé(s)."
                )
                % {"new": report.new_count, "updated": report.update_count, "same": report.skip_count},
            )
        else:
            messages.info(request, _("Ce fichier a déjà été importé."))
        return redirect("producer_catalogue", producer_id=producer.pk)
    if request.method == "POST":
        if job.state == ImportJob.State.CHECKED and services.import_job_confirm(job=job):
            return redirect(f"{request.path}?attente=1")
        if job.state == ImportJob.State.APPLYING:  # confirmed twice (a double click): the first one imports
            return redirect(f"{request.path}?attente=1")
        messages.error(request, _("Le fichier contient des erreurs : rien n'a été importé."))
        report = catalogue.ImportReport.from_json(job.report or {})
        context = {"producer": producer, "job": job, "report": report}
        return render(request, "producers/import_review.html", context, status=400)
    if job.state in {ImportJob.State.CHECKING, ImportJob.State.APPLYING}:
        return render(
            request,
            "producers/import_wait.html",
            {"producer": producer, "job": job, "progress": services.import_progress(job)},
        )
    report = catalogue.ImportReport.from_json(job.report or {})
    return render(
        request,
        "producers/import_review.html",
        {"producer": producer, "job": job, "report": report},
        status=_status(report.has_errors),
    )


# ---------------------------------------------------------------------------------------- categories


@role_required(Role.COORDINATOR)
def category_list(request):
    form = CategoryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            category = services.category_create(**form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Catégorie « %(name)s » ajoutée.") % {"name": category.name})
            return redirect("category_list")
    return render(
        request,
        "producers/categories.html",
        {"form": form, "categories": selectors.categories_with_counts()},
        status=_status(form.errors),
    )


@role_required(Role.COORDINATOR)
def category_edit(request, category_id: int):
    category = get_object_or_404(Category, pk=category_id)
    form = CategoryForm(request.POST or None, instance=copy.copy(category))
    if request.method == "POST" and form.is_valid():
        try:
            services.category_update(category=category, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Catégorie enregistrée."))
            return redirect("category_list")
    return render(
        request,
        "producers/category_form.html",
        {"form": form, "category": category},
        status=_status(form.errors),
    )


@require_POST
@role_required(Role.COORDINATOR)
def category_delete(request, category_id: int):
    category = get_object_or_404(Category, pk=category_id)
    services.category_delete(category=category)
    messages.success(request, _("Catégorie « %(name)s » supprimée.") % {"name": category.name})
    return redirect("category_list")


# ---------------------------------------------------------------------------------------------- shop


def _producer_word(request) -> str:
    return _("Fournisseur") if request.tenant.is_buying_group else _("Producteur")


@require_safe
def shop(request):
    categories = list(selectors.shop_categories())
    producers = list(selectors.shop_producers())
    form = ShopFilterForm(
        request.GET or None,
        categories=categories,
        producers=producers,
        producer_label=_producer_word(request),
    )
    filters = form.cleaned_data if form.is_valid() else {}
    listing = shop_list.shop_list(
        category_id=filters.get("categorie"),
        producer_id=filters.get("producteur"),
        query=filters.get("q", ""),
    )
    return render(
        request,
        "producers/shop.html",
        {
            "form": form,
            # Rendered by producers/_shop_sections.html (escaped there), cached as text.
            "shop": {"html": mark_safe(listing.html), "item_count": listing.item_count},  # noqa: S308
            "is_filtered": any(filters.values()),
        },
    )


def shop_producer(request, producer_id: int):
    producer = selectors.shop_producer(producer_id=producer_id)
    if producer is None:  # before the method check, as in catalogue_export
        raise Http404
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    items = selectors.shop_items(producer_id=producer.pk)
    sections = selectors.shop_sections(items)
    return render(
        request,
        "producers/shop_producer.html",
        {"producer": producer, "categories": sections[0].categories if sections else []},
    )
