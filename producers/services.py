"""Every write of the producers app: producers and their accounts, categories, products, imports.

Functions run inside the collective's schema (the request's tenant, or `tenant_context` in commands).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace import followups, images
from marketplace import services as marketplace_services
from marketplace.models import Collective, Invitation, Membership, Role, User
from producers import agreements, catalogue, locks
from producers.models import Category, ImportJob, Producer, ProducerAccount, Product

# ---------------------------------------------------------------------------------------------- photos


def _files_delete_on_commit(names: list[str]) -> None:
    names = [name for name in names if name]
    if names:
        transaction.on_commit(lambda: [default_storage.delete(name) for name in names])


def _photo_set(obj: Producer | Product, photo) -> None:
    """`photo`: None leaves it, False removes it, an uploaded image replaces it (with a new thumbnail)."""
    if photo is None:
        return
    old = [obj.photo.name, obj.thumbnail.name]
    if photo is False:
        obj.photo = ""
        obj.thumbnail = ""
    else:
        large, thumbnail = images.photo_process(photo)
        obj.photo.save(large.name, large, save=False)
        obj.thumbnail.save(thumbnail.name, thumbnail, save=False)
    _files_delete_on_commit(old)


# ------------------------------------------------------------------------------------------ categories


@transaction.atomic
def category_create(*, name: str, position: int = 0) -> Category:
    category = Category(name=name.strip(), position=position)
    category.full_clean()
    category.save()
    return category


@transaction.atomic
def category_update(*, category: Category, name: str, position: int) -> Category:
    category.name = name.strip()
    category.position = position
    category.full_clean()
    category.save()
    return category


@transaction.atomic
def category_delete(*, category: Category) -> None:
    """Its products stay, without category."""
    category.delete()


# ------------------------------------------------------------------------------------------- producers

PRODUCER_FIELDS = {
    "name",
    "description",
    "town",
    "labels",
    "contact_email",
    "contact_phone",
    "minimum_order_amount",
    "is_active",
}


@transaction.atomic
def producer_create(
    *,
    name: str,
    description: str = "",
    town: str = "",
    labels: str = "",
    contact_email: str = "",
    contact_phone: str = "",
    minimum_order_amount: Decimal | None = None,
    is_active: bool = True,
    photo=None,
) -> Producer:
    producer = Producer(
        name=name.strip(),
        description=description.strip(),
        town=town.strip(),
        labels=labels.strip(),
        contact_email=contact_email.strip(),
        contact_phone=contact_phone.strip(),
        minimum_order_amount=minimum_order_amount,
        is_active=is_active,
    )
    producer.full_clean()
    _photo_set(producer, photo or None)
    producer.save()
    return producer


@transaction.atomic
def producer_update(*, producer: Producer, photo=None, **fields) -> Producer:
    """Change the profile; `photo` as in `_photo_set`. Only the profile's fields may be given."""
    unknown = set(fields) - PRODUCER_FIELDS
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(producer, name, value.strip() if isinstance(value, str) else value)
    producer.full_clean()
    _photo_set(producer, photo)
    producer.save()
    return producer


@transaction.atomic
def producer_account_link(*, producer: Producer, user: User) -> ProducerAccount:
    """Let `user` manage `producer` (idempotent: linking twice keeps one link)."""
    link, _created = ProducerAccount.objects.get_or_create(producer=producer, user=user)
    return link


@transaction.atomic
def producer_account_unlink(*, producer: Producer, user_id: int) -> None:
    deleted, _detail = ProducerAccount.objects.filter(producer=producer, user_id=user_id).delete()
    if not deleted:
        raise ProducerAccount.DoesNotExist


@dataclass(frozen=True)
class ProducerInviteResult:
    invitation: Invitation | None = None
    linked: User | None = None


@transaction.atomic
def producer_invite(
    *, collective: Collective, producer: Producer, by: User, email: str = "", send: bool = True
) -> ProducerInviteResult:
    """Give an account access to `producer`: someone who is already a producer of the collective is linked
    at once; anyone else gets an invitation (role producer, scoped to this producer) that links them when
    accepted (see receivers). `send=False`: the caller's own e-mail carries the link."""
    email = email.strip().lower()
    if email:
        membership = (
            Membership.objects.filter(
                collective=collective, user__email__iexact=email, status=Membership.Status.ACTIVE
            )
            .select_related("user")
            .first()
        )
        if membership is not None and membership.has_role(Role.PRODUCER):
            producer_account_link(producer=producer, user=membership.user)
            return ProducerInviteResult(linked=membership.user)
    invitation = marketplace_services.invitation_create(
        collective=collective,
        created_by=by,
        role=Role.PRODUCER,
        email=email,
        scope={"producer": producer.pk},
        scope_label=producer.name,
        send=send,
    )
    return ProducerInviteResult(invitation=invitation)


# -------------------------------------------------------------------------------------------- products

PRODUCT_FIELDS = {
    "name",
    "description",
    "category",
    "unit",
    "price",
    "vat_rate",
    "is_active",
    "is_variable_weight",
    "estimated_weight_kg",
    "stock",
}


@transaction.atomic
def product_create(
    *,
    producer: Producer,
    name: str,
    price: Decimal,
    unit: str,
    vat_rate: Decimal = Decimal("5.5"),
    description: str = "",
    category: Category | None = None,
    is_active: bool = True,
    is_variable_weight: bool = False,
    estimated_weight_kg: Decimal | None = None,
    stock: int | None = None,
    photo=None,
) -> Product:
    product = Product(
        producer=producer,
        name=name.strip(),
        description=description.strip(),
        category=category,
        unit=unit,
        price=price,
        vat_rate=vat_rate,
        is_active=is_active,
        is_variable_weight=is_variable_weight,
        estimated_weight_kg=estimated_weight_kg,
        stock=stock,
    )
    product.full_clean()
    _photo_set(product, photo or None)
    product.save()
    return product


@transaction.atomic
def product_update(*, product: Product, photo=None, **fields) -> Product:
    unknown = set(fields) - PRODUCT_FIELDS
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    product = locks.product_lock(product.pk)
    if "price" in fields:
        agreements.price_change_check(product=product, new_price=fields["price"])
    for name, value in fields.items():
        setattr(product, name, value.strip() if isinstance(value, str) else value)
    product.full_clean()
    _photo_set(product, photo)
    product.save()
    return product


@dataclass(frozen=True)
class StockPriceChange:
    product_id: int
    price: Decimal
    stock: int | None


@transaction.atomic
def products_bulk_update(*, producer: Producer, changes: list[StockPriceChange]) -> list[Product]:
    """Set price and stock of many products of one producer at once: all of them, or none.

    Raises Product.DoesNotExist if an id is not one of this producer's products (the view answers 404),
    ValidationError {product_id: errors} if a row is invalid.
    """
    ids = [change.product_id for change in changes]
    products = locks.products_lock(producer=producer, ids=ids)
    if set(ids) - set(products):
        raise Product.DoesNotExist
    errors: dict[str, list] = {}
    updated = []
    for change in changes:
        product = products[change.product_id]
        if product.price == change.price and product.stock == change.stock:
            continue
        try:
            agreements.price_change_check(product=product, new_price=change.price)
        except ValidationError as error:
            errors[str(product.pk)] = error.messages
            continue
        product.price = change.price
        product.stock = change.stock
        try:
            product.full_clean()
        except ValidationError as error:
            errors[str(product.pk)] = error.messages
            continue
        updated.append(product)
    if errors:
        raise ValidationError(errors)
    for product in updated:
        product.save(update_fields=["price", "stock", "updated_at"])
    return updated


# ------------------------------------------------------------------------------------- import / export

IMPORT_JOB_KEEP = timedelta(days=1)


class ImportRefused(Exception):
    """The file has errors (or was already imported): nothing was written. `report` says why."""

    def __init__(self, message: str, report: catalogue.ImportReport | None = None):
        super().__init__(message)
        self.report = report


@transaction.atomic
def import_job_create(*, producer: Producer, created_by: User, file_name: str, content: bytes) -> ImportJob:
    """Keep an uploaded catalogue file server-side and have it checked in the background (a follow-up)."""
    file_format = catalogue.file_format_for(file_name)
    if file_format is None:
        raise ValidationError({"file": _("Choisissez un fichier .csv, .xlsx ou un catalogue DFC .json.")})
    if len(content) > catalogue.IMPORT_MAX_BYTES:
        raise ValidationError({"file": _("Le fichier ne doit pas dépasser 2 Mo.")})
    with transaction.atomic():
        # Older files of this producer are of no use any more.
        ImportJob.objects.filter(producer=producer, created_at__lt=timezone.now() - IMPORT_JOB_KEEP).delete()
        ImportJob.objects.filter(producer=producer, applied_at__isnull=False).delete()
        job = ImportJob(
            producer=producer,
            created_by=created_by,
            file_name=file_name[-255:],
            file_format=file_format,
            content=content,
        )
        job.full_clean()
        job.save()
        followups.followup_add(
            "producers.tasks.import_job_check", schema_name=connection.schema_name, job_id=job.pk
        )
    return job


def import_progress(job: ImportJob) -> tuple[int, int] | None:
    """(rows done, rows in the file) of the job's running check or import, or None before it starts."""
    return cache.get(_progress_key(job.pk))


def _progress_key(job_id: int) -> str:
    return f"import-progress:{job_id}"


def _progress_for(job: ImportJob):
    def record(done: int, total: int) -> None:
        cache.set(_progress_key(job.pk), (done, total), timeout=3600)

    return record


def import_job_dry_run(*, job: ImportJob) -> catalogue.ImportReport:
    """What importing the job's file would do, row by row; nothing is kept (rolled back)."""
    with transaction.atomic():
        report = catalogue.catalogue_import_run(
            producer=job.producer,
            content=bytes(job.content),
            file_format=job.file_format,
            dry_run=True,
            progress=_progress_for(job),
        )
        transaction.set_rollback(True)
    return report


def import_job_check(*, job_id: int) -> ImportJob | None:
    """The background check of an uploaded file: its report is kept on the job for the page to show."""
    job = (
        ImportJob.objects.select_related("producer").filter(pk=job_id, state=ImportJob.State.CHECKING).first()
    )
    if job is None:  # already checked (a redelivered follow-up), or deleted meanwhile
        return None
    report = import_job_dry_run(job=job)
    ImportJob.objects.filter(pk=job.pk, state=ImportJob.State.CHECKING).update(
        state=ImportJob.State.CHECKED, report=report.as_json()
    )
    cache.delete(_progress_key(job.pk))
    job.refresh_from_db()
    return job


def import_job_confirm(*, job: ImportJob) -> bool:
    """The producer confirms a checked file: it is imported in the background. False when it was
    confirmed already (a double click) or has errors."""
    with transaction.atomic():
        report = catalogue.ImportReport.from_json(job.report or {})
        if report.has_errors:
            return False
        confirmed = ImportJob.objects.filter(pk=job.pk, state=ImportJob.State.CHECKED).update(
            state=ImportJob.State.APPLYING
        )
        if confirmed:
            followups.followup_add(
                "producers.tasks.import_job_run", schema_name=connection.schema_name, job_id=job.pk
            )
    return bool(confirmed)


def import_job_run(*, job_id: int) -> ImportJob | None:
    """The background import of a confirmed file: every row or none. When the catalogue changed since the
    check and a row no longer holds, nothing is imported and the job goes back to « checked » with the
    new report, errors shown."""
    job = ImportJob.objects.filter(pk=job_id, state=ImportJob.State.APPLYING).first()
    if job is None:
        return None
    try:
        report = import_job_apply(job=job)
    except ImportRefused as refusal:
        if refusal.report is None:  # applied already
            return None
        ImportJob.objects.filter(pk=job.pk).update(
            state=ImportJob.State.CHECKED, report=refusal.report.as_json()
        )
    else:
        ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.APPLIED, report=report.as_json())
    cache.delete(_progress_key(job.pk))
    job.refresh_from_db()
    return job


@transaction.atomic
def import_job_apply(*, job: ImportJob) -> catalogue.ImportReport:
    """Import the file kept in `job` (never anything sent with the confirmation): every row or none."""
    job = locks.import_job_lock(job.pk)
    if job.applied_at is not None:
        raise ImportRefused(_("Ce fichier a déjà été importé."))
    # The producer's catalogue is locked so that two imports (or a bulk edit) do not interleave.
    locks.products_lock(producer=job.producer)
    report = catalogue.catalogue_import_run(
        producer=job.producer,
        content=bytes(job.content),
        file_format=job.file_format,
        dry_run=False,
        progress=_progress_for(job),
    )
    if report.has_errors:  # raising rolls the whole import back
        raise ImportRefused(_("Le fichier contient des erreurs : rien n'a été importé."), report)
    job.applied_at = timezone.now()
    job.save(update_fields=["applied_at"])
    return report
