"""Reads for the statements pages: a producer's « Mes ventes » (in one collective, and across all of them),
the treasurer's page, one transfer."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django_tenants.utils import tenant_context

from marketplace.models import Collective, Membership, Role, SharedProduct
from orders.models import MonthlyStatement, Offer, Sale, Statement, StatementRun, Transfer
from orders.payments import connect
from pickup_points.models import PickupPoint
from producers import shared_catalogue
from producers.models import Producer

TREASURY_ROLES = (Role.COORDINATOR, Role.TREASURER)


def is_treasurer(membership: Membership) -> bool:
    return bool(membership) and membership.has_role(*TREASURY_ROLES)


def managed_producers(user) -> QuerySet[Producer]:
    return (
        Producer.objects.filter(accounts=user)
        .select_related("bank_account", "stripe_account")
        .order_by("name")
    )


def bank_editable_producers(*, user, membership: Membership) -> QuerySet[Producer]:
    """Whose bank details the account may keep: every producer of the collective for its treasury, the
    producers a producer account manages otherwise."""
    if is_treasurer(membership):
        return Producer.objects.select_related("bank_account").order_by("name")
    return managed_producers(user)


def visible_statements(*, user, membership: Membership) -> QuerySet[Statement]:
    """Treasurers and coordinators see every statement; a producer those of the producers they manage."""
    found = Statement.objects.select_related("sale", "producer", "transfer")
    if is_treasurer(membership):
        return found
    if membership.has_role(Role.PRODUCER):
        return found.filter(producer__in=managed_producers(user).values("pk"))
    return found.none()


def visible_monthly(*, user, membership: Membership) -> QuerySet[MonthlyStatement]:
    found = MonthlyStatement.objects.select_related("producer")
    if is_treasurer(membership):
        return found
    if membership.has_role(Role.PRODUCER):
        return found.filter(producer__in=managed_producers(user).values("pk"))
    return found.none()


def my_sales(*, user) -> dict:
    producers = list(managed_producers(user))
    statements = list(
        Statement.objects.filter(producer__in=producers)
        .select_related("sale", "producer", "transfer", "corrects")
        .prefetch_related("stripe_transfers")
        .order_by("-issued_at", "-number")[:300]
    )
    return {
        "connect": connect.pays_by_connect(),
        "producers": producers,
        "statements": statements,
        "months": list(
            MonthlyStatement.objects.filter(producer__in=producers).select_related("producer")[:60]
        ),
    }


def treasury(*, blocker) -> dict:
    """Statements to pay (with why some cannot be), transfers prepared or paid, closed sales without
    statements."""
    to_pay = list(
        Statement.objects.filter(status=Statement.Status.ISSUED, is_current=True)
        .select_related("sale", "producer__bank_account")
        .prefetch_related("stripe_transfers")
        .order_by("producer__name", "number")
    )
    rows = [(statement, blocker(statement)) for statement in to_pay]
    return {
        "payable": [statement for statement, reason in rows if not reason],
        "blocked": [(statement, reason) for statement, reason in rows if reason],
        "transfers": list(Transfer.objects.all()[:50]),
        "sales_without": list(
            Sale.objects.filter(closed_at__isnull=False)
            .exclude(pk__in=StatementRun.objects.values("sale_id"))
            .order_by("-distribution_starts_at")[:20]
        ),
        "recent_sales": list(
            Sale.objects.filter(statement_run__isnull=False).order_by("-distribution_starts_at")[:10]
        ),
    }


def transfer_detail(*, transfer_id: int) -> Transfer | None:
    return Transfer.objects.filter(pk=transfer_id).first()


def transfer_statements(transfer: Transfer) -> list[Statement]:
    return list(
        transfer.statements.select_related("producer__bank_account", "sale").order_by(
            "producer__name", "number"
        )
    )


def statement_for(*, statement_id: int, user, membership: Membership) -> Statement | None:
    return visible_statements(user=user, membership=membership).filter(Q(pk=statement_id)).first()


# « Mes ventes » across collectives (issue 19) ------------------------------------------------------------


@dataclass
class SaleToBring:
    """One sale of one collective: what the producer brings, where and when."""

    collective: Collective
    sale: Sale
    points: list[PickupPoint]
    offers: list[Offer]  # the producer's offers with something ordered (offer.sold)


def sales_across(*, user, now=None) -> list[SaleToBring]:
    """The account's coming distributions in every collective where it is an active producer, soonest first:
    its products ordered (placed orders), the points and the hours. A few queries per collective."""
    now = now or timezone.now()
    found = []
    for collective in shared_catalogue.producer_collectives(user=user):
        with tenant_context(collective):
            offers = list(
                Offer.objects.filter(
                    producer__accounts=user,
                    sold__gt=0,
                    sale__is_published=True,
                    sale__distribution_ends_at__gte=now,
                )
                .select_related("sale__distribution", "producer")
                .prefetch_related(
                    Prefetch("sale__distribution__points", queryset=PickupPoint.objects.order_by("name"))
                )
                .order_by("sale__distribution_starts_at", "sale_id", "producer__name", "name")
            )
        by_sale: dict[int, SaleToBring] = {}
        for offer in offers:
            row = by_sale.get(offer.sale_id)
            if row is None:
                row = by_sale[offer.sale_id] = SaleToBring(
                    collective=collective,
                    sale=offer.sale,
                    points=list(offer.sale.distribution.points.all()),
                    offers=[],
                )
            row.offers.append(offer)
        found.extend(by_sale.values())
    return sorted(found, key=lambda row: (row.sale.distribution_starts_at, row.collective.name))


def shared_stocks(*, user) -> QuerySet[SharedProduct]:
    return SharedProduct.objects.filter(owner=user).order_by("name", "pk")
