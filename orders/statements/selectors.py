"""Reads for the statements pages: a producer's « Mes ventes », the treasurer's page, one transfer."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from marketplace.models import Membership, Role
from orders.models import MonthlyStatement, Sale, Statement, StatementRun, Transfer
from orders.payments import connect
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
