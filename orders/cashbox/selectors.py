"""Reads of the treasurer's books: what a point's cash box should hold at a distribution (from the ledger's
on-site entries), its counts, the cheques to deposit, food vouchers per issuer, transfers still expected.

Which cash box an entry belongs to: the order's booking says the distribution and the point. An order
cancelled before its distribution gives up its booking, and so do its entries; they net to zero there (the
payment and its refund), which is what the box holds.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Prefetch, QuerySet, Sum

from orders.models import (
    CashBox,
    CashCount,
    LedgerEntry,
    Order,
    Payment,
    PaymentMethod,
    PaymentStatus,
    VoucherIssuer,
)
from orders.payments.balance import Balance, order_balance
from pickup_points.models import Distribution, PickupPoint

ZERO = Decimal("0")
# The methods a cash box holds, and the money kinds of the ledger that move it (a refund given back on site).
BOX_METHODS = (CashBox.Method.CASH, CashBox.Method.CHEQUE)
BOX_KINDS = (LedgerEntry.Kind.ONSITE_PAYMENT, LedgerEntry.Kind.REFUND)


def _box_entries(*, distribution_id: int, point_id: int) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(
        order__booking__distribution_id=distribution_id,
        order__booking__slot__point_id=point_id,
        kind__in=BOX_KINDS,
    )


def expected_by_method(*, distribution_id: int, point_id: int) -> dict[str, Decimal]:
    """What the box should hold per method (cash, cheque): the sum of the on-site entries there."""
    totals = dict.fromkeys(BOX_METHODS, ZERO)
    rows = (
        _box_entries(distribution_id=distribution_id, point_id=point_id)
        .filter(method__in=BOX_METHODS)
        .values("method")
        .annotate(total=Sum("amount"))
    )
    for row in rows:
        totals[row["method"]] = row["total"]
    return totals


@dataclass(frozen=True)
class ChequeRow:
    member: str
    basket_number: int | None
    order_number: str
    amount: Decimal
    note: str


def cheques_of(*, distribution_id: int, point_id: int) -> list[ChequeRow]:
    """The cheques received there, each net of what was given back (a cheque returned is not deposited):
    the deposit slip (« bordereau de remise de chèques »)."""
    per_payment = dict(
        _box_entries(distribution_id=distribution_id, point_id=point_id)
        .filter(method=PaymentMethod.CHEQUE, payment__isnull=False)
        .values("payment_id")
        .annotate(total=Sum("amount"))
        .filter(total__gt=0)
        .values_list("payment_id", "total")
    )
    payments = Payment.objects.filter(pk__in=per_payment).select_related("order__user")
    rows = [
        ChequeRow(
            member=payment.order.user.display_name,
            basket_number=payment.order.basket_number,
            order_number=payment.order.number,
            amount=per_payment[payment.pk],
            note=payment.note,
        )
        for payment in payments
    ]
    return sorted(rows, key=lambda row: (row.basket_number or 0, row.order_number))


@dataclass(frozen=True)
class IssuerTotal:
    issuer: str  # "" when the vouchers were recorded without one
    amount: Decimal


def _issuer_totals(entries: QuerySet[LedgerEntry]) -> list[IssuerTotal]:
    rows = (
        entries.filter(method=PaymentMethod.FOOD_VOUCHER)
        .values("payment__issuer__name")
        .annotate(total=Sum("amount"))
        .order_by("payment__issuer__name")
    )
    return [
        IssuerTotal(issuer=row["payment__issuer__name"] or "", amount=row["total"])
        for row in rows
        if row["total"]
    ]


@dataclass
class MethodRow:
    method: str
    label: str
    expected: Decimal
    count: CashCount | None  # the latest count of this method
    form: object = None  # the page's count form for this method

    @property
    def stale(self) -> bool:
        """Payments were recorded (or given back) since this count: it no longer matches the ledger."""
        return self.count is not None and self.count.expected != self.expected


@dataclass(frozen=True)
class CashBoxView:
    distribution: Distribution
    point: PickupPoint
    box: CashBox | None
    rows: list[MethodRow]
    counts: list[CashCount]  # every count, newest first: the history
    cheques: list[ChequeRow]
    vouchers: list[IssuerTotal]

    @property
    def is_closed(self) -> bool:
        return self.box is not None and self.box.is_closed

    @property
    def difference(self) -> Decimal:
        return sum((row.count.difference for row in self.rows if row.count), ZERO)

    @property
    def cheques_total(self) -> Decimal:
        return sum((row.amount for row in self.cheques), ZERO)


def cash_box_view(*, distribution: Distribution, point: PickupPoint) -> CashBoxView:
    box = CashBox.objects.filter(distribution=distribution, point=point).select_related("closed_by").first()
    counts = (
        list(
            CashCount.objects.filter(cash_box=box).select_related("created_by").order_by("-created_at", "-pk")
        )
        if box
        else []
    )
    latest: dict[str, CashCount] = {}
    for count in counts:
        latest.setdefault(count.method, count)
    expected = expected_by_method(distribution_id=distribution.pk, point_id=point.pk)
    labels = dict(CashBox.Method.choices)
    return CashBoxView(
        distribution=distribution,
        point=point,
        box=box,
        rows=[
            MethodRow(
                method=method, label=str(labels[method]), expected=expected[method], count=latest.get(method)
            )
            for method in BOX_METHODS
        ],
        counts=counts,
        cheques=cheques_of(distribution_id=distribution.pk, point_id=point.pk),
        vouchers=_issuer_totals(_box_entries(distribution_id=distribution.pk, point_id=point.pk)),
    )


@dataclass
class CashBoxLine:
    """One point of one distribution in the treasurer's list."""

    distribution: Distribution
    point: PickupPoint
    expected: dict[str, Decimal]
    box: CashBox | None = None
    difference: Decimal | None = None  # of the latest counts, None before any count


def cash_boxes(*, points: QuerySet[PickupPoint], until: date, limit: int = 30) -> list[CashBoxLine]:
    """The distributions up to `until` at those points, newest first, with what each box expects and where
    its count stands: a few queries whatever the number of boxes."""
    distributions = list(
        Distribution.objects.filter(date__lte=until, points__in=points)
        .distinct()
        .select_related("sale")
        .prefetch_related(Prefetch("points", queryset=points.order_by("name")))
        .order_by("-date", "-pk")[:limit]
    )
    ids = [distribution.pk for distribution in distributions]
    expected: dict[tuple[int, int], dict[str, Decimal]] = defaultdict(
        lambda: dict.fromkeys(BOX_METHODS, ZERO)
    )
    rows = (
        LedgerEntry.objects.filter(
            order__booking__distribution_id__in=ids, kind__in=BOX_KINDS, method__in=BOX_METHODS
        )
        .values("order__booking__distribution_id", "order__booking__slot__point_id", "method")
        .annotate(total=Sum("amount"))
    )
    for row in rows:
        key = (row["order__booking__distribution_id"], row["order__booking__slot__point_id"])
        expected[key][row["method"]] = row["total"]
    boxes = {
        (box.distribution_id, box.point_id): box
        for box in CashBox.objects.filter(distribution_id__in=ids).prefetch_related(
            Prefetch("counts", queryset=CashCount.objects.order_by("-created_at", "-pk"))
        )
    }
    lines = []
    for distribution in distributions:
        for point in distribution.points.all():
            key = (distribution.pk, point.pk)
            box = boxes.get(key)
            line = CashBoxLine(distribution=distribution, point=point, expected=expected[key], box=box)
            if box is not None:
                latest: dict[str, CashCount] = {}
                for count in box.counts.all():
                    latest.setdefault(count.method, count)
                if latest:
                    line.difference = sum((count.difference for count in latest.values()), ZERO)
            lines.append(line)
    return lines


# Food vouchers ----------------------------------------------------------------------------------------------


@dataclass
class IssuerClaim:
    """What to claim from one issuer over a period, per distribution."""

    issuer: str
    per_distribution: list[tuple[Distribution, Decimal]] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((amount for _distribution, amount in self.per_distribution), ZERO)


def voucher_claims(*, start: date, end: date) -> list[IssuerClaim]:
    """Food vouchers received for the distributions from `start` to `end` (both included), per issuer."""
    rows = (
        LedgerEntry.objects.filter(
            method=PaymentMethod.FOOD_VOUCHER,
            kind__in=BOX_KINDS,
            order__sale__distribution__date__gte=start,
            order__sale__distribution__date__lte=end,
        )
        .values("payment__issuer__name", "order__sale__distribution_id")
        .annotate(total=Sum("amount"))
    )
    distributions = Distribution.objects.in_bulk({row["order__sale__distribution_id"] for row in rows})
    claims: dict[str, IssuerClaim] = {}
    for row in rows:
        if not row["total"]:
            continue
        name = row["payment__issuer__name"] or ""
        claim = claims.setdefault(name, IssuerClaim(issuer=name))
        claim.per_distribution.append((distributions[row["order__sale__distribution_id"]], row["total"]))
    for claim in claims.values():
        claim.per_distribution.sort(key=lambda pair: (pair[0].date, pair[0].pk))
    # Issuers by name, vouchers without an issuer last.
    return sorted(claims.values(), key=lambda claim: (claim.issuer == "", claim.issuer.lower()))


def voucher_issuers() -> list[VoucherIssuer]:
    return list(VoucherIssuer.objects.order_by("-is_active", "name"))


# Transfers from members -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpectedTransfer:
    order: Order
    balance: Balance


def _with_money(orders: QuerySet[Order]) -> QuerySet[Order]:
    return orders.select_related("user", "sale").prefetch_related(
        "lines",
        "ledger_entries",
        Prefetch("payments", queryset=Payment.objects.prefetch_related("refunds")),
    )


def transfers_expected(*, limit: int = 300) -> list[ExpectedTransfer]:
    """Orders to be paid « par virement » with something still due, oldest sale first."""
    orders = _with_money(
        Order.objects.filter(status=Order.Status.PLACED, payment_method=PaymentMethod.TRANSFER).exclude(
            payment_status__in=[PaymentStatus.PAID, PaymentStatus.REFUNDED]
        )
    ).order_by("sale__distribution_starts_at", "basket_number", "pk")[:limit]
    rows = [ExpectedTransfer(order=order, balance=order_balance(order)) for order in orders]
    return [row for row in rows if row.balance.remaining > 0]


def transfer_expected(*, order_id: int) -> ExpectedTransfer | None:
    order = _with_money(Order.objects.filter(pk=order_id, payment_method=PaymentMethod.TRANSFER)).first()
    return ExpectedTransfer(order=order, balance=order_balance(order)) if order else None


def transfers_received(*, limit: int = 50) -> list[Payment]:
    return list(
        Payment.objects.filter(method=PaymentMethod.TRANSFER, status=Payment.Status.SUCCEEDED)
        .select_related("order__user", "order__sale", "recorded_by")
        .order_by("-created_at", "-pk")[:limit]
    )


# The accountant's export ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CashDifference:
    """A closed box's standing count with a difference: one line of the accountant's export."""

    closed_at: object
    distribution: Distribution
    point: PickupPoint
    count: CashCount


def differences_of_period(*, start: date, end: date) -> list[CashDifference]:
    """The differences of the cash boxes closed from `start` to `end` (the latest count of each method at
    closing, which is what the box held), oldest first."""
    boxes = (
        CashBox.objects.filter(closed_at__date__gte=start, closed_at__date__lte=end)
        .select_related("distribution__sale", "point")
        .prefetch_related(Prefetch("counts", queryset=CashCount.objects.order_by("-created_at", "-pk")))
        .order_by("closed_at", "pk")
    )
    found = []
    for box in boxes:
        latest: dict[str, CashCount] = {}
        for count in box.counts.all():
            latest.setdefault(count.method, count)
        for method in BOX_METHODS:
            count = latest.get(method)
            if count is not None and count.difference:
                found.append(
                    CashDifference(
                        closed_at=box.closed_at, distribution=box.distribution, point=box.point, count=count
                    )
                )
    return found
