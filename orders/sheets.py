"""The PDF sheets of a sale, made with WeasyPrint from HTML templates (A4, printable in black and white).

`sheets_render` reads the whole sale in a constant number of queries (prefetch, no query per order), builds
one context per sheet and stores each PDF under the collective's folder, replacing the previous version.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.files.base import ContentFile, File
from django.core.files.storage import storages
from django.db import connection, transaction
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify
from weasyprint import HTML

from marketplace.models import Collective
from marketplace.storage import private_storage
from orders.models import Order, OrderLine, Sale, Sheet
from orders.selectors import vat_breakdown


@dataclass
class ProductTotal:
    name: str
    unit: str
    unit_price: Decimal
    is_variable_weight: bool
    quantity: int = 0
    amount: Decimal = Decimal("0")


@dataclass
class ProducerSheet:
    producer: object
    products: dict = field(default_factory=dict)  # offer id → ProductTotal
    per_point: dict = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )  # point → name → qty
    baskets: list = field(default_factory=list)  # (order, [lines])
    lines: list = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((product.amount for product in self.products.values()), Decimal("0"))


def _sale_data(sale: Sale) -> list[Order]:
    lines = OrderLine.objects.select_related("offer__producer").order_by("offer__producer__name", "name")
    return list(
        Order.objects.filter(sale=sale, status=Order.Status.PLACED)
        .select_related("user", "booking__slot__point")
        .prefetch_related(Prefetch("lines", queryset=lines))
        .order_by("basket_number", "pk")
    )


def _pdf(template: str, context: dict) -> tuple[bytes, int]:
    document = HTML(string=render_to_string(template, context)).render()
    return document.write_pdf(), len(document.pages)


def sheet_filename(*, kind: str, title: str) -> str:
    """Readable for whom downloads it, unguessable for anyone else (the title and the time are not)."""
    token = secrets.token_urlsafe(16)
    return f"{kind}-{token}-{slugify(title)[:60]}-{timezone.now():%Y%m%d%H%M%S}.pdf"


def _store(
    sale: Sale, *, kind: str, title: str, content: bytes, pages: int, producer=None, point=None
) -> Sheet:
    sheet = Sheet.objects.filter(sale=sale, kind=kind, producer=producer, point=point).first()
    old_name = sheet.file.name if sheet else None
    sheet = sheet or Sheet(sale=sale, kind=kind, producer=producer, point=point)
    sheet.title = title
    sheet.pages = pages
    sheet.emailed_at = None
    sheet.created_at = timezone.now()
    sheet.file.save(sheet_filename(kind=kind, title=title), ContentFile(content), save=False)
    sheet.save()
    if old_name and old_name != sheet.file.name:
        storage, name = sheet.file.storage, old_name
        transaction.on_commit(lambda: storage.delete(name))
    return sheet


@transaction.atomic
def sheets_render(*, sale_id: int) -> list[Sheet]:
    """Make (or make again) every sheet of a sale: one per producer, one per pickup point, the summary and,
    for a buying group, one purchase order per supplier."""
    sale = Sale.objects.select_related("distribution").get(pk=sale_id)
    collective = Collective.objects.get(schema_name=connection.schema_name)
    orders = _sale_data(sale)
    producers: dict[int, ProducerSheet] = {}
    points: dict[int, dict] = {}
    payments: dict[str, Decimal] = defaultdict(Decimal)
    all_lines = []
    for order in orders:
        point = order.booking.slot.point if order.booking else None
        if point is not None:
            entry = points.setdefault(
                point.pk, {"point": point, "slots": defaultdict(list), "total": Decimal("0")}
            )
            entry["slots"][order.booking.slot].append(order)
            entry["total"] += order.total
        payments[order.get_payment_method_display()] += order.total
        per_producer_lines = defaultdict(list)
        for line in order.lines.all():
            all_lines.append(line)
            sheet = producers.setdefault(line.offer.producer_id, ProducerSheet(producer=line.offer.producer))
            product = sheet.products.setdefault(
                line.offer_id,
                ProductTotal(line.name, line.get_unit_display(), line.unit_price, line.is_variable_weight),
            )
            product.quantity += line.quantity
            product.amount += line.amount
            sheet.lines.append(line)
            if point is not None:
                sheet.per_point[point.name][line.name] += line.quantity
            per_producer_lines[line.offer.producer_id].append(line)
        for producer_id, lines in per_producer_lines.items():
            producers[producer_id].baskets.append((order, lines))
    common = {"sale": sale, "collective": collective, "made_at": timezone.now()}
    producer_kinds = [Sheet.Kind.PRODUCER]
    if collective.is_buying_group:
        producer_kinds.append(Sheet.Kind.PURCHASE_ORDER)
    made = []
    for sheet in sorted(producers.values(), key=lambda item: item.producer.name):
        context = {
            **common,
            "sheet": sheet,
            "products": list(sheet.products.values()),
            "per_point": {name: dict(items) for name, items in sheet.per_point.items()},
            "vat": vat_breakdown(sheet.lines),
        }
        for kind in producer_kinds:
            content, pages = _pdf(f"orders/sheets/{kind}.html", context)
            made.append(
                _store(
                    sale,
                    kind=kind,
                    title=sheet.producer.name,
                    content=content,
                    pages=pages,
                    producer=sheet.producer,
                )
            )
    for entry in sorted(points.values(), key=lambda item: item["point"].name):
        slots = sorted(entry["slots"].items(), key=lambda item: item[0].starts_at)
        content, pages = _pdf("orders/sheets/point.html", {**common, "point": entry["point"], "slots": slots})
        made.append(
            _store(
                sale,
                kind=Sheet.Kind.POINT,
                title=entry["point"].name,
                content=content,
                pages=pages,
                point=entry["point"],
            )
        )
    summary = {
        **common,
        "producers": [
            {"producer": item.producer, "total": item.total, "vat": vat_breakdown(item.lines)}
            for item in sorted(producers.values(), key=lambda item: item.producer.name)
        ],
        "points": sorted(points.values(), key=lambda item: item["point"].name),
        "payments": sorted(payments.items()),
        "orders": len(orders),
        "total": sum((order.total for order in orders), Decimal("0")),
        "vat": vat_breakdown(all_lines),
    }
    content, pages = _pdf("orders/sheets/summary.html", summary)
    made.append(_store(sale, kind=Sheet.Kind.SUMMARY, title=sale.title, content=content, pages=pages))
    return made


@transaction.atomic
def sheets_make(*, sale_id: int) -> list[Sheet]:
    """Make every sheet of a sale again and queue the e-mails of those not sent yet (after the commit)."""
    made = sheets_render(sale_id=sale_id)
    sheets_send(sale_id=sale_id)
    return made


def sheet_recipients(sheet: Sheet, *, collective: Collective) -> list[str]:
    """Whom a sheet concerns: the producer's accounts and contact address, the point's staff, or the
    collective's coordinators for the summary."""
    from marketplace.models import Membership, Role

    if sheet.kind in {Sheet.Kind.PRODUCER, Sheet.Kind.PURCHASE_ORDER}:
        emails = [user.email for user in sheet.producer.accounts.all()]
        emails += [sheet.producer.contact_email] if sheet.producer.contact_email else []
    elif sheet.kind == Sheet.Kind.POINT:
        emails = [user.email for user in sheet.point.staff.all()]
    else:
        emails = list(
            Membership.objects.filter(
                collective=collective, status=Membership.Status.ACTIVE, roles__contains=[Role.COORDINATOR]
            ).values_list("user__email", flat=True)
        )
    return sorted({email.lower() for email in emails if email})


def sheets_send(*, sale_id: int) -> list[int]:
    """Queue one e-mail per sheet not yet sent (each sheet is sent by its own task, once)."""
    from orders import tasks

    schema = connection.schema_name
    ids = list(Sheet.objects.filter(sale_id=sale_id, emailed_at__isnull=True).values_list("pk", flat=True))
    for sheet_id in ids:
        transaction.on_commit(
            lambda sheet_id=sheet_id: tasks.sheet_email_send.delay(schema_name=schema, sheet_id=sheet_id)
        )
    return ids


@transaction.atomic
def sheet_email(*, sheet_id: int) -> bool:
    """Send one sheet to whom it concerns, with the PDF attached, and mark it sent in the same transaction;
    a sheet already sent (or being sent by another worker) is skipped."""
    from django.core.mail import EmailMultiAlternatives
    from django.utils import translation

    sheet = (
        Sheet.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("sale", "producer", "point")
        .filter(pk=sheet_id, emailed_at__isnull=True)
        .first()
    )
    if sheet is None:
        return False
    collective = Collective.objects.get(schema_name=connection.schema_name)
    recipients = sheet_recipients(sheet, collective=collective)
    if recipients:
        with translation.override("fr"):
            context = {
                "sheet": sheet,
                "collective": collective,
                "url": collective.base_url + f"/feuilles/{sheet.pk}/",
            }
            message = EmailMultiAlternatives(
                subject=f"{collective.name} : {sheet.get_kind_display()} – {sheet.title}",
                body=render_to_string("orders/email/sheet.txt", context),
                to=recipients,
            )
            message.attach_alternative(render_to_string("orders/email/sheet.html", context), "text/html")
        with sheet.file.open("rb") as handle:
            message.attach(f"{slugify(sheet.title) or 'feuille'}.pdf", handle.read(), "application/pdf")
        message.send()
    sheet.emailed_at = timezone.now()
    sheet.save(update_fields=["emailed_at"])
    return bool(recipients)


def _private_name(name: str) -> str:
    folder, _sep, base = name.rpartition("/")
    return f"{folder}/{secrets.token_urlsafe(16)}-{base}"


def sheet_files_move_to_private() -> int:
    """In the current schema: every sheet file that an older version left in public media (MEDIA_ROOT) moves
    to the private storage under an unguessable name, and so does any file left in `<schema>/sheets/` by a
    replaced sheet. Idempotent: a second run finds nothing. Returns how many files moved."""
    public, private = storages["default"], private_storage()
    moved = 0
    for sheet in Sheet.objects.exclude(file="").only("pk", "file"):
        old = sheet.file.name
        if not public.exists(old):
            continue
        with public.open(old, "rb") as handle:
            new = private.save(_private_name(old), File(handle))
        # Run outside a transaction (a command): the row points to the copy before the original goes.
        Sheet.objects.filter(pk=sheet.pk).update(file=new)
        public.delete(old)
        moved += 1
    for name in _files_under(public, f"{connection.schema_name}/sheets"):
        with public.open(name, "rb") as handle:
            private.save(_private_name(name), File(handle))
        public.delete(name)
        moved += 1
    return moved


def _files_under(storage, folder: str) -> list[str]:
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return []
    found = [f"{folder}/{name}" for name in files]
    for sub in folders:
        found += _files_under(storage, f"{folder}/{sub}")
    return found
