"""The treasurer's reconciliation of card money: per month, what the ledger says was received and given back
by card against Stripe's balance transactions (charges, refunds, fees, transfers) and payouts to the bank.

Stripe is read by a follow-up (« Mettre à jour depuis Stripe »), outside any transaction, and its answer kept
as rows (StripeSync, StripeBalanceLine): the page compares rows with rows and never calls Stripe itself. The
collective's own account is read whole; the platform's balance (collectives paid by Connect) only for the
objects whose metadata name this collective, or whose payment intent is one of its payments.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace import followups
from marketplace.models import Collective
from orders import locks
from orders.models import (
    CardTopUp,
    LedgerEntry,
    Payment,
    PaymentMethod,
    StripeBalanceLine,
    StripeReversal,
    StripeSync,
    StripeTransfer,
)
from orders.payments import connect, gateway

logger = logging.getLogger(__name__)

ZERO = Decimal("0")


def month_bounds(month: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = datetime(month.year, month.month, 1, tzinfo=tz)
    end = datetime(month.year + (month.month == 12), month.month % 12 + 1, 1, tzinfo=tz)
    return start, end


def _schema() -> str:
    return connection.schema_name  # type: ignore[attr-defined]  # django-tenants' connection


# Reading Stripe (a follow-up) -------------------------------------------------------------------------------


@transaction.atomic
def stripe_sync_request(*, month: date) -> StripeSync:
    """« Mettre à jour depuis Stripe »: a follow-up reads the month again (the page shows it was asked)."""
    sync = locks.stripe_sync_lock(month)
    now = timezone.now()
    sync.requested_at = now
    sync.save(update_fields=["requested_at"])
    followups.followup_add(
        "orders.tasks.stripe_balance_fetch",
        key=f"{_schema()}:stripe-sync-{month:%Y-%m}-{int(now.timestamp())}",
        schema_name=_schema(),
        month=month.isoformat(),
    )
    return sync


def _accounts() -> list[tuple[str, bool]]:
    """The balances to read: (account, only this collective's objects)."""
    accounts = []
    own = Collective.objects.get(schema_name=_schema()).stripe_account_id
    if own:
        accounts.append((own, False))
    on_platform = (
        Payment.objects.filter(method=PaymentMethod.CARD, stripe_account="").exists()
        or CardTopUp.objects.filter(stripe_account="").exists()
        or StripeTransfer.objects.exists()
    )
    if connect.connect_offered() and (connect.pays_by_connect() or on_platform):
        accounts.append(("", True))
    return accounts


def _source(txn: dict) -> dict:
    source = txn.get("source")
    return source if isinstance(source, dict) else {"id": source or ""}


def _ours(txn: dict, intents: set[str]) -> bool:
    source = _source(txn)
    if (source.get("metadata") or {}).get("schema") == _schema():
        return True
    return bool(source.get("payment_intent")) and source["payment_intent"] in intents


def stripe_balance_fetch(*, month: date) -> StripeSync:
    """Read the month's balance transactions from Stripe and keep them (replacing the last reading)."""
    start, end = month_bounds(month)
    intents = set(
        Payment.objects.exclude(stripe_payment_intent_id=None).values_list(
            "stripe_payment_intent_id", flat=True
        )
    ) | set(
        CardTopUp.objects.exclude(stripe_payment_intent_id=None).values_list(
            "stripe_payment_intent_id", flat=True
        )
    )
    lines: list[StripeBalanceLine] = []
    try:
        for account, only_ours in _accounts():
            for txn in gateway.balance_transactions(
                account=account, created_from=int(start.timestamp()), created_to=int(end.timestamp())
            ):
                if only_ours and (txn["type"] == "payout" or not _ours(txn, intents)):
                    continue
                source = _source(txn)
                lines.append(
                    StripeBalanceLine(
                        account=account,
                        txn_id=txn["id"],
                        type=txn["type"],
                        amount=gateway.from_cents(txn["amount"]),
                        fee=gateway.from_cents(txn.get("fee") or 0),
                        net=gateway.from_cents(txn.get("net") or 0),
                        created=datetime.fromtimestamp(txn["created"], tz=UTC),
                        source_id=source.get("id") or "",
                        payment_intent_id=source.get("payment_intent") or "",
                        description=(txn.get("description") or source.get("description") or "")[:300],
                    )
                )
    except gateway.StripeError as error:
        logger.warning("Stripe balance of %s not read: %s", month, error)
        with transaction.atomic():
            sync = locks.stripe_sync_lock(month)
            sync.error = str(getattr(error, "user_message", None) or error)[:300]
            sync.save(update_fields=["error"])
        return sync
    with transaction.atomic():
        sync = locks.stripe_sync_lock(month)
        sync.lines.all().delete()
        for line in lines:
            line.sync = sync
        StripeBalanceLine.objects.bulk_create(lines)
        sync.fetched_at = timezone.now()
        sync.error = ""
        sync.save(update_fields=["fetched_at", "error"])
    return sync


# Comparing (a selector: rows only) --------------------------------------------------------------------------


@dataclass
class Difference:
    kind: str  # what the treasurer reads
    reference: str
    ledger: Decimal | None
    stripe: Decimal | None
    when: datetime | None


@dataclass
class Reconciliation:
    month: date
    sync: StripeSync | None
    ledger_received: Decimal = ZERO
    ledger_refunded: Decimal = ZERO
    stripe_charges: Decimal = ZERO
    stripe_refunds: Decimal = ZERO
    stripe_fees: Decimal = ZERO
    transfers_out: Decimal = ZERO
    reversals_back: Decimal = ZERO
    transfers_in: Decimal = ZERO
    payouts: list[StripeBalanceLine] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)

    @property
    def payouts_total(self) -> Decimal:
        return -sum((line.amount for line in self.payouts), ZERO)

    @property
    def ledger_net(self) -> Decimal:
        return self.ledger_received - self.ledger_refunded

    @property
    def stripe_net(self) -> Decimal:
        return self.stripe_charges - self.stripe_refunds

    @property
    def gap(self) -> Decimal:
        return self.stripe_net - self.ledger_net


def _compare(rec: Reconciliation, label: dict[str, str], ours: dict, theirs: dict, when: dict) -> None:
    for key in sorted(set(ours) | set(theirs)):
        mine, stripe_side = ours.get(key), theirs.get(key)
        if mine == stripe_side:
            continue
        if mine is None:
            kind = label["stripe_only"]
        elif stripe_side is None:
            kind = label["ledger_only"]
        else:
            kind = label["differ"]
        rec.differences.append(Difference(kind, key, mine, stripe_side, when.get(key)))


def reconciliation(*, month: date) -> Reconciliation:
    """The month's card money, ledger against the last reading of Stripe, and the differences line by line."""
    start, end = month_bounds(month)
    sync = StripeSync.objects.filter(month=month).first()
    rec = Reconciliation(month=month, sync=sync)
    lines = list(sync.lines.all()) if sync and sync.fetched_at else []

    received: dict[str, Decimal] = defaultdict(Decimal)
    refunded: dict[str, Decimal] = defaultdict(Decimal)
    when: dict[str, datetime] = {}
    topups = {
        f"card-topup-{topup.pk}": topup.stripe_payment_intent_id
        for topup in CardTopUp.objects.filter(status=CardTopUp.Status.SUCCEEDED)
    }
    entries = LedgerEntry.objects.filter(
        created_at__gte=start, created_at__lt=end, method=PaymentMethod.CARD
    ).select_related("payment", "refund")
    for entry in entries:
        if entry.kind == LedgerEntry.Kind.REFUND and entry.refund is not None:
            key = entry.refund.stripe_refund_id or _("remboursement n° %(id)s (pas encore chez Stripe)") % {
                "id": entry.refund.pk
            }
            refunded[key] -= entry.amount
            rec.ledger_refunded -= entry.amount
        elif entry.kind == LedgerEntry.Kind.TOPUP:
            key = topups.get(entry.key or "") or entry.key or ""
            received[key] += entry.amount
            rec.ledger_received += entry.amount
        elif entry.payment is not None:
            key = entry.payment.stripe_payment_intent_id or str(entry.payment.pk)
            received[key] += entry.amount
            rec.ledger_received += entry.amount
        else:
            continue
        when.setdefault(key, entry.created_at)
    received = {key: amount for key, amount in received.items() if amount}
    refunded = {key: amount for key, amount in refunded.items() if amount}

    charges: dict[str, Decimal] = defaultdict(Decimal)
    refunds: dict[str, Decimal] = defaultdict(Decimal)
    transfers: dict[str, Decimal] = defaultdict(Decimal)
    reversals: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        rec.stripe_fees += line.fee
        if line.type == "charge":
            key = line.payment_intent_id or line.source_id
            charges[key] += line.amount
            rec.stripe_charges += line.amount
        elif line.type == "refund":
            refunds[line.source_id] += -line.amount
            rec.stripe_refunds += -line.amount
        elif line.type == "transfer":
            transfers[line.source_id] += -line.amount
            rec.transfers_out += -line.amount
        elif line.type == "transfer_refund":
            reversals[line.source_id] += line.amount
            rec.reversals_back += line.amount
        elif line.type in ("payment", "payment_refund"):
            rec.transfers_in += line.amount
        elif line.type == "payout":
            line.paid_out = -line.amount  # type: ignore[attr-defined]  # shown positive
            rec.payouts.append(line)
            continue
        when.setdefault(line.source_id if line.type != "charge" else key, line.created)
    if not lines:
        return rec
    _compare(
        rec,
        {
            "stripe_only": _("Paiement dans Stripe, absent du registre"),
            "ledger_only": _("Paiement au registre, absent de Stripe"),
            "differ": _("Paiement : montants différents"),
        },
        received,
        dict(charges),
        when,
    )
    _compare(
        rec,
        {
            "stripe_only": _("Remboursement dans Stripe, absent du registre"),
            "ledger_only": _("Remboursement au registre, absent de Stripe"),
            "differ": _("Remboursement : montants différents"),
        },
        refunded,
        dict(refunds),
        when,
    )
    if any(line.account == "" for line in lines):
        sent = {
            row.stripe_transfer_id: row.amount
            for row in StripeTransfer.objects.filter(sent_at__gte=start, sent_at__lt=end).exclude(
                stripe_transfer_id=None
            )
        }
        _compare(
            rec,
            {
                "stripe_only": _("Versement dans Stripe, inconnu d'Étal"),
                "ledger_only": _("Versement d'Étal, absent de Stripe"),
                "differ": _("Versement : montants différents"),
            },
            sent,
            dict(transfers),
            when,
        )
        taken_back = {
            row.stripe_reversal_id: row.amount
            for row in StripeReversal.objects.filter(created_at__gte=start, created_at__lt=end).exclude(
                stripe_reversal_id=None
            )
        }
        _compare(
            rec,
            {
                "stripe_only": _("Reprise dans Stripe, inconnue d'Étal"),
                "ledger_only": _("Reprise d'Étal, absente de Stripe"),
                "differ": _("Reprise : montants différents"),
            },
            taken_back,
            dict(reversals),
            when,
        )
    rec.differences.sort(key=lambda item: (item.when or start, item.reference))
    return rec
