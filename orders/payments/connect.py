"""Paying producers by Stripe Connect: their Express accounts, the transfers of their statements (and of the
collective's commission), and the reversals when a refund follows.

Separate charges and transfers: a collective that pays by Connect takes card payments on the platform's
account, grouped by sale (`transfer_group`). When a sale's statements are issued, each one writes, in the
same transaction, a StripeTransfer row for the producer's due and one for the collective's commission, with a
follow-up. The follow-up calls Stripe outside any transaction with an idempotency key made from the
statement's id, then attaches the answer under lock. So a crash between the call and the attach is repaired
by the retry, which gets the same transfer back from Stripe instead of a second one (and the
`transfer.created` webhook attaches it too). A refund that follows takes the producers' shares back by
transfer reversals, recorded the same way, once per refund and transfer.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from decimal import Decimal

import stripe
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace import followups
from marketplace.models import Collective
from marketplace.money import money
from orders import locks
from orders.models import (
    OrderLine,
    ProducerStripeAccount,
    Refund,
    ShopSettings,
    Statement,
    StripeReversal,
    StripeTransfer,
)
from orders.payments import gateway
from producers.models import Producer

logger = logging.getLogger(__name__)

ZERO = Decimal("0")
# Stripe refused the request itself (bad destination, nothing left to reverse…): retrying will not help.
PERMANENT_ERRORS = (stripe.InvalidRequestError, stripe.PermissionError, stripe.AuthenticationError)


def _schema() -> str:
    return connection.schema_name  # type: ignore[attr-defined]  # django-tenants' connection


def connect_offered() -> bool:
    """The instance runs as a Connect platform (STRIPE_CONNECT_PLATFORM) and Stripe is configured."""
    return settings.STRIPE_CONNECT_PLATFORM and gateway.is_configured()


def pays_by_connect(shop: ShopSettings | None = None) -> bool:
    return connect_offered() and (shop or ShopSettings.current()).pays_by_connect


def charge_account(collective: Collective) -> str:
    """Where a card payment is charged: the platform ("") when producers are paid by Connect, else the
    collective's own connected account (direct charges)."""
    return "" if pays_by_connect() else collective.stripe_account_id


def transfer_group(sale_id: int) -> str:
    return f"{_schema()}-sale-{sale_id}"


# Producers' Express accounts --------------------------------------------------------------------------------


def producer_connect_start(*, producer: Producer, email: str, refresh_url: str, return_url: str) -> str:
    """The Stripe onboarding address of the producer's Express account (created on first use)."""
    if not connect_offered():
        raise ValidationError(_("Les versements par Stripe ne sont pas proposés sur cette instance."))
    row = ProducerStripeAccount.objects.filter(producer=producer).first()
    if row is None:
        account = gateway.express_account_create(
            email=email, name=producer.name, schema_name=_schema(), producer_id=producer.pk
        )
        row, _created = ProducerStripeAccount.objects.get_or_create(
            producer=producer, defaults={"account_id": account.id}
        )
    return gateway.account_link_create(account=row.account_id, refresh_url=refresh_url, return_url=return_url)


def producer_account_refresh(*, producer_id: int) -> ProducerStripeAccount | None:
    """Read from Stripe whether the producer's account takes payouts; once it does, the transfers that
    waited for it leave."""
    row = ProducerStripeAccount.objects.filter(producer_id=producer_id).first()
    if row is None:
        return None
    account = gateway.account_retrieve(row.account_id)
    with transaction.atomic():
        ProducerStripeAccount.objects.filter(pk=row.pk).update(
            payouts_enabled=bool(account.payouts_enabled),
            details_submitted=bool(account.details_submitted),
            updated_at=timezone.now(),
        )
        if account.payouts_enabled:
            _waiting_release(destination=row.account_id, producer_id=producer_id)
    row.refresh_from_db()
    return row


def collective_account_ready() -> None:
    """The collective's own account can take transfers now: its commissions waiting for it leave."""
    account = Collective.objects.current().stripe_account_id
    if account:
        with transaction.atomic():
            _waiting_release(destination=account, producer_id=None)


def _waiting_release(*, destination: str, producer_id: int | None) -> None:
    waiting = StripeTransfer.objects.filter(status=StripeTransfer.Status.WAITING)
    if producer_id is None:
        waiting = waiting.filter(kind=StripeTransfer.Kind.COMMISSION)
    else:
        waiting = waiting.filter(kind=StripeTransfer.Kind.PRODUCER, statement__producer_id=producer_id)
    for row in waiting:
        StripeTransfer.objects.filter(pk=row.pk, status=StripeTransfer.Status.WAITING).update(
            status=StripeTransfer.Status.PENDING, destination=destination
        )
        _send_later(row)


# Transfers --------------------------------------------------------------------------------------------------


def _send_later(row: StripeTransfer) -> None:
    followups.followup_add(
        "orders.tasks.stripe_transfer_send",
        key=f"{_schema()}:stripe-transfer-{row.pk}",
        schema_name=_schema(),
        transfer_id=row.pk,
    )


def transfers_record(*, statements: list[Statement]) -> list[StripeTransfer]:
    """In the transaction that issues statements (statements_lock held): one transfer row per statement for
    the producer's due, one for the collective's commission (for a correction: what it adds), each sent by
    a follow-up. A producer or collective without a ready account waits for it (« en attente »)."""
    if not statements or not pays_by_connect():
        return []
    collective_account = Collective.objects.current().stripe_account_id
    producer_accounts = {
        row.producer_id: row
        for row in ProducerStripeAccount.objects.filter(
            producer__in=[item.producer_id for item in statements]
        )
    }
    rows = []
    for statement in statements:
        commission = statement.commission
        if statement.corrects_id is not None:
            earlier = StripeTransfer.objects.filter(
                statement_id=statement.corrects_id, kind=StripeTransfer.Kind.COMMISSION
            ).exclude(status=StripeTransfer.Status.FAILED)
            commission -= sum((item.amount for item in earlier), ZERO)
        account = producer_accounts.get(statement.producer_id)
        wanted = [
            (StripeTransfer.Kind.PRODUCER, statement.due, account.account_id if account else "",
             bool(account and account.payouts_enabled)),
            (StripeTransfer.Kind.COMMISSION, commission, collective_account, bool(collective_account)),
        ]  # fmt: skip
        for kind, amount, destination, ready in wanted:
            if amount <= 0:
                continue
            row = StripeTransfer.objects.create(
                statement=statement,
                sale_id=statement.sale_id,
                kind=kind,
                amount=amount,
                transfer_group=transfer_group(statement.sale_id),
                destination=destination if ready else "",
                status=StripeTransfer.Status.PENDING if ready else StripeTransfer.Status.WAITING,
            )
            if ready:
                _send_later(row)
            rows.append(row)
    return rows


def statement_being_paid(statement: Statement) -> bool:
    """A Connect transfer for this statement's due has left or is leaving (a correction deducts it)."""
    return statement.stripe_transfers.filter(
        kind=StripeTransfer.Kind.PRODUCER,
        status__in=[StripeTransfer.Status.PENDING, StripeTransfer.Status.SENT],
    ).exists()


def statement_replaced(statement: Statement) -> None:
    """A statement replaced before anything left: its waiting transfers will never be sent."""
    statement.stripe_transfers.filter(status=StripeTransfer.Status.WAITING).delete()


def transfer_send(*, transfer_id: int) -> StripeTransfer:
    """The follow-up of a transfer row: ask Stripe (outside any transaction), then attach the answer."""
    row = StripeTransfer.objects.select_related("statement__sale", "statement__producer").get(pk=transfer_id)
    if row.status != StripeTransfer.Status.PENDING or row.stripe_transfer_id:
        return row
    statement = row.statement
    label = statement.producer.name if row.kind == StripeTransfer.Kind.PRODUCER else _("commission")
    try:
        remote = gateway.transfer_create(
            amount=row.amount,
            destination=row.destination,
            transfer_group=row.transfer_group,
            description=f"{statement.reference} {statement.sale.title} – {label}"[:300],
            metadata={
                "schema": _schema(),
                "statement_id": str(statement.pk),
                "stripe_transfer_id": str(row.pk),
                "kind": row.kind,
            },
            idempotency_key=f"transfer-{_schema()}-statement-{statement.pk}-{row.kind}",
        )
    except PERMANENT_ERRORS as error:
        logger.warning("transfer %s refused by Stripe: %s", row.pk, error)
        StripeTransfer.objects.filter(pk=row.pk, status=StripeTransfer.Status.PENDING).update(
            status=StripeTransfer.Status.FAILED, last_error=str(error.user_message or error)[:300]
        )
        row.refresh_from_db()
        return row
    return transfer_attach(transfer_id=row.pk, stripe_transfer_id=remote.id)


@transaction.atomic
def transfer_attach(*, transfer_id: int, stripe_transfer_id: str) -> StripeTransfer:
    """Record the transfer Stripe made (once: a second attach, by the webhook or a retry, changes nothing);
    the producer's statement becomes « payé », « versé par Stripe »."""
    locks.statements_lock()
    row = locks.stripe_transfer_lock(transfer_id)
    if row.stripe_transfer_id:
        return row
    now = timezone.now()
    row.stripe_transfer_id = stripe_transfer_id
    row.status = StripeTransfer.Status.SENT
    row.sent_at = now
    row.last_error = ""
    row.save(update_fields=["stripe_transfer_id", "status", "sent_at", "last_error"])
    if row.kind == StripeTransfer.Kind.PRODUCER:
        Statement.objects.filter(pk=row.statement_id).exclude(status=Statement.Status.PAID).update(
            status=Statement.Status.PAID, stripe_paid_at=now, paid_on=timezone.localdate(now)
        )
    for reversal in row.reversals.filter(status=StripeReversal.Status.PENDING):
        _reverse_later(reversal)
    return row


def transfer_event_apply(obj: dict) -> str:
    """A `transfer.created` or `transfer.reversed` event: attach what the retry would (a crash after the
    call), from the metadata we sent; nothing when already attached."""
    metadata = obj.get("metadata") or {}
    row_id = str(metadata.get("stripe_transfer_id") or "")
    if not row_id.isdigit():
        return "no such transfer"
    row = StripeTransfer.objects.filter(pk=int(row_id)).first()
    if row is None:
        return "no such transfer"
    if row.stripe_transfer_id is None and row.status == StripeTransfer.Status.PENDING:
        transfer_attach(transfer_id=row.pk, stripe_transfer_id=obj["id"])
    for remote in (obj.get("reversals") or {}).get("data") or []:
        reversal_id = str((remote.get("metadata") or {}).get("reversal_id") or "")
        if reversal_id.isdigit() and StripeReversal.objects.filter(pk=int(reversal_id)).exists():
            reversal_attach(reversal_id=int(reversal_id), stripe_reversal_id=remote["id"])
    return f"transfer {row.pk} attached"


# Reversals --------------------------------------------------------------------------------------------------


def _reverse_later(reversal: StripeReversal) -> None:
    followups.followup_add(
        "orders.tasks.stripe_reversal_send",
        key=f"{_schema()}:stripe-reversal-{reversal.pk}",
        schema_name=_schema(),
        reversal_id=reversal.pk,
    )


def refund_shares(*, order_id: int, amount: Decimal) -> dict[int, Decimal]:
    """How a refund on an order splits between its producers: in proportion to what each sold in it (final
    amounts), to the cent, the rounding left to the largest share."""
    gross: dict[int, Decimal] = defaultdict(Decimal)
    for line in OrderLine.objects.filter(order_id=order_id).select_related("offer"):
        gross[line.offer.producer_id] += line.final_amount
    total = sum(gross.values(), ZERO)
    if total <= 0:
        return {}
    shares = {producer: money(amount * part / total) for producer, part in gross.items() if part > 0}
    largest = max(shares, key=lambda producer: (gross[producer], -producer))
    shares[largest] += amount - sum(shares.values(), ZERO)
    return shares


def reversals_record(*, refund: Refund) -> list[StripeReversal]:
    """A card refund that follows the Connect transfers of its sale takes each producer's share back from
    their transfer (once per refund and transfer; the order is locked by the caller)."""
    if refund.status != Refund.Status.SUCCEEDED or not refund.payment.is_card:
        return []
    order = refund.payment.order
    transfers = list(
        StripeTransfer.objects.filter(sale_id=order.sale_id, kind=StripeTransfer.Kind.PRODUCER)
        .exclude(status=StripeTransfer.Status.FAILED)
        .select_related("statement")
        .prefetch_related("reversals")
        .order_by("-amount", "pk")
    )
    if not transfers:
        return []
    per_producer: dict[int, list[StripeTransfer]] = defaultdict(list)
    for row in transfers:
        per_producer[row.statement.producer_id].append(row)
    made = []
    for producer_id, share in sorted(refund_shares(order_id=order.pk, amount=refund.amount).items()):
        left = share
        for row in per_producer.get(producer_id, []):
            if left <= 0:
                break
            part = min(left, row.amount - row.reversed_amount)
            if part <= 0 or StripeReversal.objects.filter(transfer=row, refund=refund).exists():
                continue
            reversal = StripeReversal.objects.create(transfer=row, refund=refund, amount=part)
            left -= part
            if row.status == StripeTransfer.Status.SENT:
                _reverse_later(reversal)
            made.append(reversal)
    return made


def reversal_send(*, reversal_id: int) -> StripeReversal:
    """The follow-up of a reversal row, once its transfer is made (transfer_attach queues it then)."""
    reversal = StripeReversal.objects.select_related("transfer").get(pk=reversal_id)
    if reversal.status != StripeReversal.Status.PENDING or reversal.stripe_reversal_id:
        return reversal
    if reversal.transfer.status != StripeTransfer.Status.SENT:
        return reversal
    try:
        remote = gateway.transfer_reversal_create(
            transfer_id=reversal.transfer.stripe_transfer_id or "",
            amount=reversal.amount,
            metadata={
                "schema": _schema(),
                "reversal_id": str(reversal.pk),
                "refund_id": str(reversal.refund_id),
            },
            idempotency_key=f"reversal-{_schema()}-refund-{reversal.refund_id}-transfer-{reversal.transfer_id}",
        )
    except PERMANENT_ERRORS as error:
        logger.warning("reversal %s refused by Stripe: %s", reversal.pk, error)
        StripeReversal.objects.filter(pk=reversal.pk, status=StripeReversal.Status.PENDING).update(
            status=StripeReversal.Status.FAILED, last_error=str(error.user_message or error)[:300]
        )
        reversal.refresh_from_db()
        return reversal
    return reversal_attach(reversal_id=reversal.pk, stripe_reversal_id=remote.id)


@transaction.atomic
def reversal_attach(*, reversal_id: int, stripe_reversal_id: str) -> StripeReversal:
    reversal = locks.stripe_reversal_lock(reversal_id)
    if not reversal.stripe_reversal_id:
        reversal.stripe_reversal_id = stripe_reversal_id
        reversal.status = StripeReversal.Status.SENT
        reversal.last_error = ""
        reversal.save(update_fields=["stripe_reversal_id", "status", "last_error"])
    return reversal
