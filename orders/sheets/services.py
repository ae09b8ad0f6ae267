"""The PDF sheets of a sale, made with WeasyPrint from HTML templates (A4, printable in black and white).

Making the sheets of a sale (`sheets_make`, a follow-up of the close or of « Refaire les feuilles ») first
plans them from one aggregate query (how many lines each producer has at each point, each point in each
slot) and queues one follow-up per sheet on the "sheets" queue. A big sheet is cut into parts of about
`SHEET_PART_LINES` order lines (a sign-in sheet by slots, a delivery sheet by pickup points), each part its
own follow-up: N rendering workers share even the largest sheet, and no render holds a worker for long.
The last part recorded queues the merge (once: under the build's lock, with a key), which joins the parts
with pypdf, numbers the pages « page X / Y » across them (orders.sheets.pdf) and swaps the file in; the
e-mail follows the swap, as for a sheet made whole.

Each render reads only its own rows (a producer's lines, a point's or a few slots' orders) in a constant
number of queries, outside any transaction; each file is written under a new name and swapped in by a short
transaction.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Count, Prefetch
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.text import slugify
from weasyprint import HTML

from marketplace import followups
from marketplace.guards import slow_work_outside_transactions
from marketplace.models import Collective
from marketplace.storage import private_storage
from orders import locks
from orders.checkout.selectors import vat_breakdown
from orders.models import Order, OrderLine, Sale, Sheet, SheetBuild, SheetPart, sheet_path_for
from orders.sheets import pdf
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

    def basket_groups(self) -> list[dict]:
        """The baskets by pickup point (by name; orders without a slot last), in basket order within each."""
        groups: dict = {}
        for order, lines in self.baskets:
            point = order.booking.slot.point if order.booking else None
            group = groups.setdefault(point.pk if point else None, {"point": point, "baskets": []})
            group["baskets"].append((order, lines))
        return sorted(groups.values(), key=lambda group: (group["point"] is None, _name(group["point"])))

    @property
    def total(self) -> Decimal:
        return sum((product.amount for product in self.products.values()), Decimal("0"))


def _name(point) -> str:
    return point.name if point else ""


def _sale_data(
    sale: Sale, *, producer_id: int | None = None, point_id: int | None = None, slot_ids=None
) -> list[Order]:
    """The placed orders of a sale with their lines (5 queries), or only what one sheet or part shows: one
    producer's lines (and the orders holding them), one point's orders, a few slots' orders. The lines'
    offers and producers are read once each and shared by their lines (a join would build one offer and one
    producer per line: thousands of model instances per sheet)."""
    lines = OrderLine.objects.prefetch_related("offer__producer").order_by("offer__producer__name", "name")
    orders = Order.objects.filter(sale=sale, status=Order.Status.PLACED)
    if producer_id is not None:
        lines = lines.filter(offer__producer_id=producer_id)
        orders = orders.filter(pk__in=lines.values("order_id"))
    if point_id is not None:
        orders = orders.filter(booking__slot__point_id=point_id)
    if slot_ids is not None:
        orders = orders.filter(booking__slot_id__in=slot_ids)
    return list(
        orders.select_related("user", "booking__slot__point")
        .prefetch_related(Prefetch("lines", queryset=lines))
        .order_by("basket_number", "pk")
    )


def _pdf(template: str, context: dict) -> tuple[bytes, int]:
    """The PDF and its number of pages, in the collective's language (French) whatever language the process
    has active (a coordinator's page in English that asks for the sheets again, a worker's last task)."""
    slow_work_outside_transactions("PDF rendering")
    with pdf.few_collections(), translation.override(settings.LANGUAGE_CODE):
        document = HTML(string=render_to_string(template, context)).render(font_config=pdf.font_config())
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


def sheet_specs(sale: Sale, orders: list[Order] | None = None, *, kind: str | None = None) -> list[SheetSpec]:
    """Every sheet of a sale, from one read of its orders (or of those given): one per producer, one per
    pickup point, the summary and, for a buying group, one purchase order per supplier. With `kind`, only
    the sheets of that kind (one render needs one sheet: a sign-in sheet's part skips the producers' totals
    of all its lines, a producer's sheet the points and the summary)."""
    collective = Collective.objects.current()
    orders = _sale_data(sale) if orders is None else orders
    producer_kinds = [Sheet.Kind.PRODUCER]
    if collective.is_buying_group:
        producer_kinds.append(Sheet.Kind.PURCHASE_ORDER)
    wanted = {*producer_kinds, Sheet.Kind.POINT, Sheet.Kind.SUMMARY} if kind is None else {kind}
    with_points = Sheet.Kind.POINT in wanted
    with_summary = Sheet.Kind.SUMMARY in wanted
    with_lines = with_summary or not wanted.isdisjoint(producer_kinds)
    producers: dict[int, ProducerSheet] = {}
    points: dict[int, dict] = {}
    payments: dict[str, Decimal] = defaultdict(Decimal)
    all_lines = []
    unit_names: dict[str, str] = {}  # get_unit_display() builds the choices' dict at every call
    payment_names: dict[str, str] = {}
    for order in orders:
        point = order.booking.slot.point if order.booking else None
        if point is not None and (with_points or with_summary):
            entry = points.setdefault(
                point.pk, {"point": point, "slots": defaultdict(list), "total": Decimal("0")}
            )
            entry["slots"][order.booking.slot].append(order)
            entry["total"] += order.total
        if with_summary:
            method = order.payment_method
            if method not in payment_names:
                payment_names[method] = order.get_payment_method_display()
            payments[payment_names[method]] += order.total
        if not with_lines:
            continue
        per_producer_lines = defaultdict(list)
        for line in order.lines.all():
            all_lines.append(line)
            sheet = producers.setdefault(line.offer.producer_id, ProducerSheet(producer=line.offer.producer))
            product = sheet.products.get(line.offer_id)
            if product is None:
                if line.unit not in unit_names:
                    unit_names[line.unit] = line.get_unit_display()
                product = sheet.products[line.offer_id] = ProductTotal(
                    line.name,
                    unit_names[line.unit],
                    line.base_unit_price,  # producers' sheets and purchase orders: the base price
                    line.is_variable_weight,
                    line.offer.estimated_weight_kg,
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
    specs = []
    producer_sheets = producers.values() if not wanted.isdisjoint(producer_kinds) else []
    for sheet in sorted(producer_sheets, key=lambda item: item.producer.name):
        context = {
            **common,
            "sheet": sheet,
            "products": list(sheet.products.values()),
            "per_point": {name: dict(items) for name, items in sheet.per_point.items()},
            "basket_groups": sheet.basket_groups(),
            "vat": vat_breakdown(sheet.lines, base=True),
        }
        for producer_kind in producer_kinds:
            if producer_kind in wanted:
                specs.append(
                    SheetSpec(
                        producer_kind,
                        sheet.producer.name,
                        f"orders/sheets/{producer_kind}.html",
                        context,
                        producer=sheet.producer,
                    )
                )
    for entry in sorted(points.values() if with_points else [], key=lambda item: item["point"].name):
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
    if not with_summary:
        return specs
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


def _sheet_swap(
    sale: Sale, spec: SheetSpec, content: bytes, pages: int, *, send: bool, build: SheetBuild | None = None
) -> Sheet | None:
    """Write the whole file under a new unguessable name, then point the sheet to it in a short transaction
    (readers see the old file or the new one, never half of one). The replaced file goes after the commit;
    the new one goes if the swap fails. With `send`, the e-mail of this version is a follow-up of the swap.
    With `build`, the merged parts of a sheet: swapped once, by whoever holds the build first (None when it
    was merged already or made again since); the build and its parts' files go with the swap."""
    storage = private_storage()
    name = storage.save(
        sheet_path_for(sale, sheet_filename(kind=spec.kind, title=spec.title)), ContentFile(content)
    )
    try:
        with transaction.atomic():
            if build is not None:
                build = locks.sheet_build_lock(build.pk)
                if build is None:
                    storage.delete(name)
                    return None
            sheet = locks.sheet_lock(sale=sale, kind=spec.kind, producer=spec.producer, point=spec.point)
            old_name = sheet.file.name if sheet else None
            sheet = sheet or Sheet(sale=sale, kind=spec.kind, producer=spec.producer, point=spec.point)
            sheet.title = spec.title
            sheet.pages = pages
            sheet.emailed_at = None
            sheet.created_at = timezone.now()
            sheet.file.name = name
            sheet.save()
            replaced = [old_name] if old_name and old_name != name else []
            if build is not None:
                replaced += [part.file.name for part in build.parts.all() if part.file.name]
                build.delete()
            transaction.on_commit(lambda: [storage.delete(old) for old in replaced])
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


def _render_and_swap(sale: Sale, spec: SheetSpec, *, send: bool) -> Sheet:
    content, pages = _pdf(spec.template, spec.context)
    sheet = _sheet_swap(sale, spec, content, pages, send=send)
    assert sheet is not None  # noqa: S101 - only a build can be superseded
    return sheet


def sheets_render(*, sale_id: int, send: bool = False) -> list[Sheet]:
    """Make (or make again) every sheet of a sale whole, in this process, one after the other."""
    sale = Sale.objects.select_related("distribution").get(pk=sale_id)
    return [_render_and_swap(sale, spec, send=send) for spec in sheet_specs(sale)]


# Planning: which sheets, cut into which parts ---------------------------------------------------------------


@dataclass(frozen=True)
class SheetPlan:
    kind: str
    producer_id: int | None
    point_id: int | None
    parts: list[dict]  # [] or one entry: made whole; else each part's {"slot_ids"} or {"point_ids"}

    @property
    def subject(self) -> dict:
        return {"kind": self.kind, "producer_id": self.producer_id, "point_id": self.point_id}


def _cut(sections: list[tuple[object, int]], limit: int) -> list[list]:
    """Consecutive sections (key, lines) grouped into parts of at most `limit` lines (a bigger section is a
    part of its own)."""
    parts: list[list] = []
    size = 0
    for key, lines in sections:
        if not parts or size + lines > limit:
            parts.append([])
            size = 0
        parts[-1].append(key)
        size += lines
    return parts


def sheets_plan(sale: Sale) -> list[SheetPlan]:
    """The sheets of a sale, in the order of `sheet_specs`, each with its parts, from one aggregate query."""
    limit = settings.SHEET_PART_LINES
    rows = (
        OrderLine.objects.filter(order__sale=sale, order__status=Order.Status.PLACED)
        .values(
            "offer__producer_id",
            "offer__producer__name",
            "order__booking__slot__point_id",
            "order__booking__slot__point__name",
            "order__booking__slot_id",
            "order__booking__slot__starts_at",
        )
        .annotate(lines=Count("pk"))
        .order_by()
    )
    producers: dict[int, dict] = {}
    points: dict[int, dict] = {}
    for row in rows:
        producer = producers.setdefault(
            row["offer__producer_id"], {"name": row["offer__producer__name"], "points": defaultdict(int)}
        )
        point_id = row["order__booking__slot__point_id"]
        producer["points"][point_id] += row["lines"]
        if point_id is not None:
            point = points.setdefault(
                point_id, {"name": row["order__booking__slot__point__name"], "slots": defaultdict(int)}
            )
            point["slots"][(row["order__booking__slot__starts_at"], row["order__booking__slot_id"])] += row[
                "lines"
            ]
    is_buying_group = Collective.objects.current().is_buying_group
    plans = []
    for producer_id, producer in sorted(producers.items(), key=lambda item: (item[1]["name"], item[0])):
        by_point = sorted(
            producer["points"].items(),
            key=lambda item: (item[0] is None, points.get(item[0], {}).get("name", "")),
        )
        parts = [{"point_ids": ids} for ids in _cut(by_point, limit)]
        plans.append(SheetPlan(Sheet.Kind.PRODUCER, producer_id, None, parts if len(parts) > 1 else []))
        if is_buying_group:
            plans.append(SheetPlan(Sheet.Kind.PURCHASE_ORDER, producer_id, None, []))
    for point_id, point in sorted(points.items(), key=lambda item: (item[1]["name"], item[0])):
        slots = [(slot_id, lines) for (_starts, slot_id), lines in sorted(point["slots"].items())]
        parts = [{"slot_ids": ids} for ids in _cut(slots, limit)]
        plans.append(SheetPlan(Sheet.Kind.POINT, None, point_id, parts if len(parts) > 1 else []))
    plans.append(SheetPlan(Sheet.Kind.SUMMARY, None, None, []))
    return plans


def sheets_make(*, sale_id: int) -> int:
    """Queue every sheet of a sale (again) on the rendering queue, so that workers on several hosts share a
    big close: a sheet made whole is one follow-up, a big one one follow-up per part (then its merge). Each
    sheet is e-mailed once made. Parts of a previous making still under way are dropped. Returns how many
    sheets were queued."""
    sale = Sale.objects.select_related("distribution").get(pk=sale_id)
    schema = connection.schema_name
    plans = sheets_plan(sale)
    storage = private_storage()
    with transaction.atomic():
        superseded = locks.sheet_builds_lock(sale.pk)
        files = list(
            SheetPart.objects.filter(build__in=superseded).exclude(file="").values_list("file", flat=True)
        )
        SheetBuild.objects.filter(pk__in=[build.pk for build in superseded]).delete()
        transaction.on_commit(lambda: [storage.delete(name) for name in files])
        for plan in plans:
            if not plan.parts:
                followups.followup_add(
                    "orders.tasks.sheet_make",
                    queue="sheets",
                    schema_name=schema,
                    sale_id=sale.pk,
                    **plan.subject,
                )
                continue
            build = SheetBuild.objects.create(
                sale=sale,
                kind=plan.kind,
                producer_id=plan.producer_id,
                point_id=plan.point_id,
                plan=plan.parts,
            )
            for index in range(len(plan.parts)):
                followups.followup_add(
                    "orders.tasks.sheet_part_make",
                    queue="sheets",
                    schema_name=schema,
                    build_id=build.pk,
                    index=index,
                )
    return len(plans)


# Rendering one sheet, or one part of one -----------------------------------------------------------------


def _subject_spec(
    sale: Sale, *, kind: str, producer_id: int | None, point_id: int | None, slot_ids=None
) -> SheetSpec | None:
    """One sheet's spec from only the rows it shows (None when the sale no longer has that sheet)."""
    if kind in {Sheet.Kind.PRODUCER, Sheet.Kind.PURCHASE_ORDER}:
        orders = _sale_data(sale, producer_id=producer_id)
    elif kind == Sheet.Kind.POINT:
        orders = _sale_data(sale, point_id=point_id, slot_ids=slot_ids)
    else:
        orders = _sale_data(sale)
    wanted = {"kind": kind, "producer_id": producer_id, "point_id": point_id}
    return next((spec for spec in sheet_specs(sale, orders, kind=kind) if spec.subject == wanted), None)


def sheet_make(*, sale_id: int, kind: str, producer_id: int | None, point_id: int | None) -> Sheet | None:
    """Make one sheet of a sale whole and queue its e-mail; None when the sale no longer has that sheet."""
    sale = Sale.objects.select_related("distribution").get(pk=sale_id)
    spec = _subject_spec(sale, kind=kind, producer_id=producer_id, point_id=point_id)
    return _render_and_swap(sale, spec, send=True) if spec else None


def sheet_part_make(*, build_id: int, index: int) -> SheetPart | None:
    """Render one part of a sheet made in parts (its slots, or its points' baskets), without page numbers;
    the last part recorded queues the merge. None when there is nothing to do: the part is made already,
    or the sheets were made again since."""
    build = SheetBuild.objects.select_related("sale__distribution").filter(pk=build_id).first()
    if build is None or SheetPart.objects.filter(build=build, index=index).exists():
        return None
    section = build.plan[index]
    spec = _subject_spec(
        build.sale,
        kind=build.kind,
        producer_id=build.producer_id,
        point_id=build.point_id,
        slot_ids=section.get("slot_ids"),
    )
    name, pages = "", 0
    storage = private_storage()
    if spec is not None:  # else nothing of this part is left (orders changed since the plan): no pages
        context = {**spec.context, "continued": index > 0, "unnumbered": True}
        if "point_ids" in section:
            wanted = set(section["point_ids"])
            context["basket_groups"] = [
                group
                for group in context["basket_groups"]
                if (group["point"].pk if group["point"] else None) in wanted
            ]
        content, pages = _pdf(spec.template, context)
        name = storage.save(
            sheet_path_for(build.sale, f"parts/{sheet_filename(kind=spec.kind, title=spec.title)}"),
            ContentFile(content),
        )
    try:
        with transaction.atomic():
            locked = locks.sheet_build_lock(build_id)
            if locked is None or locked.parts.filter(index=index).exists():
                if name:
                    transaction.on_commit(lambda: storage.delete(name))
                return None
            part = SheetPart.objects.create(build=locked, index=index, file=name, pages=pages)
            if locked.parts.count() == len(locked.plan):
                schema = connection.schema_name
                followups.followup_add(
                    "orders.tasks.sheet_merge",
                    key=f"{schema}:sheet-build-{locked.pk}:merge",
                    queue="sheets",
                    schema_name=schema,
                    build_id=locked.pk,
                )
    except BaseException:
        if name:
            storage.delete(name)
        raise
    return part


def sheet_merge(*, build_id: int) -> Sheet | None:
    """Join the parts of a sheet in their order, number its pages across them, swap the file in and queue
    its e-mail. Runs once every part is recorded; None when merged already (or made again since)."""
    build = (
        SheetBuild.objects.select_related("sale__distribution", "producer", "point")
        .filter(pk=build_id)
        .first()
    )
    if build is None:
        return None
    parts = list(build.parts.order_by("index"))
    if len(parts) != len(build.plan):
        raise RuntimeError(f"sheet build {build.pk}: {len(parts)} of {len(build.plan)} parts")
    contents = []
    for part in parts:
        if part.file.name:
            with part.file.open("rb") as handle:
                contents.append(handle.read())
    subject = build.producer or build.point
    spec = SheetSpec(build.kind, subject.name, "", {}, producer=build.producer, point=build.point)
    if not contents:  # every part came out empty: the sheet has nothing left to show
        with transaction.atomic():
            if locks.sheet_build_lock(build.pk):
                SheetBuild.objects.filter(pk=build.pk).delete()
        return None
    content, pages = pdf.pdf_merge(contents)
    return _sheet_swap(build.sale, spec, content, pages, send=True, build=build)


def sheets_in_progress(*, sale_id: int) -> int:
    """How many sheets of a sale are still to be made (the « refaire » button's progress)."""
    whole = followups.followups_pending(
        schema_name=connection.schema_name, task="orders.tasks.sheet_make", sale_id=sale_id
    )
    return whole + SheetBuild.objects.filter(sale_id=sale_id).count()


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
    collective = Collective.objects.current()
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
