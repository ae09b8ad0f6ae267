"""The PDF sheets of a sale, made with WeasyPrint from HTML templates (A4, printable in black and white).

`sheet_specs` reads the whole sale in a constant number of queries (prefetch, no query per order) and builds
one context per sheet. Each sheet is rendered outside any transaction, written to private storage under a
new name and swapped in by a short transaction. When a sale closes (or a coordinator asks for them again),
`sheets_make` queues one follow-up per sheet on the "sheets" queue: N rendering workers make them N times
faster, and each sheet is e-mailed once it is made.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify
from weasyprint import HTML

from marketplace import followups
from marketplace.guards import slow_work_outside_transactions
from marketplace.models import Collective
from marketplace.storage import private_storage
from orders import locks
from orders.checkout.selectors import vat_breakdown
from orders.models import Order, OrderLine, Sale, Sheet, sheet_path_for
from pickup_points.models import PickupPoint
from producers import weighing
from producers.models import Producer


@dataclass
class ProductTotal:
    name: str
    unit: str
    unit_price: Decimal
    is_variable_weight: bool
    piece_kg: Decimal | None = None
    quantity: int = 0
    amount: Decimal = Decimal("0")

    def pieces_text(self, quantity: int | None = None) -> str:
        """What to bring of a weighed product: « 12 pièces ≈ 3,6 kg ≈ 86,40 € » (producers.weighing)."""
        return weighing.pieces_text(pieces=self.quantity, piece_kg=self.piece_kg, amount=self.amount)


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
    slow_work_outside_transactions("PDF rendering")
    document = HTML(string=render_to_string(template, context)).render()
    return document.write_pdf(), len(document.pages)


def sheet_filename(*, kind: str, title: str) -> str:
    """Readable for whom downloads it, unguessable for anyone else (the title and the time are not)."""
    token = secrets.token_urlsafe(16)
    return f"{kind}-{token}-{slugify(title)[:60]}-{timezone.now():%Y%m%d%H%M%S}.pdf"


@dataclass(frozen=True)
class SheetSpec:
    """One sheet to make: what it is about, and how to render it."""

    kind: str
    title: str
    template: str
    context: dict
    producer: Producer | None = None
    point: PickupPoint | None = None

    @property
    def subject(self) -> dict:
        """The follow-up arguments that name this sheet again (JSON)."""
        return {
            "kind": self.kind,
            "producer_id": self.producer.pk if self.producer else None,
            "point_id": self.point.pk if self.point else None,
        }


def sheet_specs(sale: Sale) -> list[SheetSpec]:
    """Every sheet of a sale, from one read of its orders: one per producer, one per pickup point, the
    summary and, for a buying group, one purchase order per supplier."""
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
                ProductTotal(
                    line.name,
                    line.get_unit_display(),
                    line.base_unit_price,  # producers' sheets and purchase orders: the base price
                    line.is_variable_weight,
                    line.offer.estimated_weight_kg,
                ),
            )
            product.quantity += line.quantity
            product.amount += line.base_amount
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
    specs = []
    for sheet in sorted(producers.values(), key=lambda item: item.producer.name):
        context = {
            **common,
            "sheet": sheet,
            "products": list(sheet.products.values()),
            "per_point": {name: dict(items) for name, items in sheet.per_point.items()},
            "vat": vat_breakdown(sheet.lines, base=True),
        }
        for kind in producer_kinds:
            specs.append(
                SheetSpec(
                    kind, sheet.producer.name, f"orders/sheets/{kind}.html", context, producer=sheet.producer
                )
            )
    for entry in sorted(points.values(), key=lambda item: item["point"].name):
        slots = sorted(entry["slots"].items(), key=lambda item: item[0].starts_at)
        context = {**common, "point": entry["point"], "slots": slots}
        specs.append(
            SheetSpec(
                Sheet.Kind.POINT,
                entry["point"].name,
                "orders/sheets/point.html",
                context,
                point=entry["point"],
            )
        )
    summary = {
        **common,
        "producers": [
            {"producer": item.producer, "total": item.total, "vat": vat_breakdown(item.lines, base=True)}
            for item in sorted(producers.values(), key=lambda item: item.producer.name)
        ],
        "points": sorted(points.values(), key=lambda item: item["point"].name),
        "payments": sorted(payments.items()),
        "orders": len(orders),
        "total": sum((order.total for order in orders), Decimal("0")),
        # Suppliers are paid the base price: the tiers' difference is the solidarity fund's.
        "producers_total": sum((item.total for item in producers.values()), Decimal("0")),
        "fund_discounts": sum(
            (line.base_amount - line.amount for line in all_lines if line.amount < line.base_amount),
            Decimal("0"),
        ),
        "fund_support": sum(
            (line.amount - line.base_amount for line in all_lines if line.amount > line.base_amount),
            Decimal("0"),
        ),
        "vat": vat_breakdown(all_lines, base=True),
    }
    specs.append(SheetSpec(Sheet.Kind.SUMMARY, sale.title, "orders/sheets/summary.html", summary))
    return specs


def _render_and_swap(sale: Sale, spec: SheetSpec, *, send: bool) -> Sheet:
    """Render outside any transaction, write the whole file under a new unguessable name, then point the
    sheet to it in a short transaction (readers see the old file or the new one, never half of one). The
    replaced file goes after the commit; the new one goes if the swap fails. With `send`, the e-mail of
    this version is a follow-up of the swap."""
    content, pages = _pdf(spec.template, spec.context)
    storage = private_storage()
    name = storage.save(
        sheet_path_for(sale, sheet_filename(kind=spec.kind, title=spec.title)), ContentFile(content)
    )
    try:
        with transaction.atomic():
            sheet = locks.sheet_lock(sale=sale, kind=spec.kind, producer=spec.producer, point=spec.point)
            old_name = sheet.file.name if sheet else None
            sheet = sheet or Sheet(sale=sale, kind=spec.kind, producer=spec.producer, point=spec.point)
            sheet.title = spec.title
            sheet.pages = pages
            sheet.emailed_at = None
            sheet.created_at = timezone.now()
            sheet.file.name = name
            sheet.save()
            if old_name and old_name != name:
                transaction.on_commit(lambda: storage.delete(old_name))
            if send:
                schema = connection.schema_name
                followups.followup_add(
                    "orders.tasks.sheet_email_send",
                    key=f"{schema}:sheet-{sheet.pk}:{name}",
                    schema_name=schema,
                    sheet_id=sheet.pk,
                )
    except BaseException:
        storage.delete(name)
        raise
    return sheet


def sheets_render(*, sale_id: int, send: bool = False) -> list[Sheet]:
    """Make (or make again) every sheet of a sale in this process, one after the other."""
    sale = Sale.objects.select_related("distribution").get(pk=sale_id)
    return [_render_and_swap(sale, spec, send=send) for spec in sheet_specs(sale)]


def sheets_make(*, sale_id: int) -> int:
    """Queue every sheet of a sale (again) as its own follow-up on the rendering queue, so that workers on
    several hosts share a big close; each is e-mailed once made. Returns how many were queued."""
    sale = Sale.objects.select_related("distribution").get(pk=sale_id)
    schema = connection.schema_name
    specs = sheet_specs(sale)
    with transaction.atomic():
        for spec in specs:
            followups.followup_add(
                "orders.tasks.sheet_make", queue="sheets", schema_name=schema, sale_id=sale.pk, **spec.subject
            )
    return len(specs)


def sheet_make(*, sale_id: int, kind: str, producer_id: int | None, point_id: int | None) -> Sheet | None:
    """Make one sheet of a sale and queue its e-mail; None when the sale no longer has that sheet."""
    sale = Sale.objects.select_related("distribution").get(pk=sale_id)
    wanted = {"kind": kind, "producer_id": producer_id, "point_id": point_id}
    spec = next((spec for spec in sheet_specs(sale) if spec.subject == wanted), None)
    return _render_and_swap(sale, spec, send=True) if spec else None


def sheets_in_progress(*, sale_id: int) -> int:
    """How many sheets of a sale are still to be made (the « refaire » button's progress)."""
    return followups.followups_pending(
        schema_name=connection.schema_name, task="orders.tasks.sheet_make", sale_id=sale_id
    )


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


def sheet_email(*, sheet_id: int) -> bool:
    """Send one version of a sheet to whom it concerns, with the PDF attached, then mark it sent; a sheet
    already sent is skipped. Runs as a follow-up (never twice at once), outside any transaction."""
    from django.core.mail import EmailMultiAlternatives
    from django.utils import translation

    sheet = (
        Sheet.objects.select_related("sale", "producer", "point")
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
    Sheet.objects.filter(pk=sheet.pk, file=sheet.file.name).update(emailed_at=timezone.now())
    return bool(recipients)
