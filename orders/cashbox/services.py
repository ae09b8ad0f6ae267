"""Writes of the treasurer's books: a cash box counted (each count a new row, never changed) and closed once,
food-voucher issuers kept, a member's transfer marked received. Refusals are ValidationErrors in French,
on the field they are about."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from marketplace.models import User
from marketplace.money import euros, money
from orders import locks
from orders.cashbox.selectors import BOX_METHODS, expected_by_method
from orders.models import CashBox, CashCount, Payment, PaymentMethod, VoucherIssuer
from orders.payments import services as payment_services
from orders.payments.balance import order_balance

MAX_COUNTED = Decimal("100000")


def _closed_refusal(box: CashBox) -> ValidationError:
    return ValidationError(
        _(
            "Cette caisse a été clôturée le %(date)s : elle ne change plus. Une erreur ? Notez-la pour la "
            "caisse suivante et prévenez la trésorerie."
        )
        % {"date": formats.date_format(timezone.localtime(box.closed_at), "DATETIME_FORMAT")}
    )


@transaction.atomic
def cash_count_record(
    *, distribution_id: int, point_id: int, method: str, counted: Decimal, reason: str, key: str, by: User
) -> CashCount:
    """What was counted for one method, against what the ledger expects now; the difference needs its
    reason (« écart de caisse »). The same form sent twice (`key`) records one count."""
    box = locks.cash_box_lock(distribution_id=distribution_id, point_id=point_id)
    if box.is_closed:
        raise _closed_refusal(box)
    if already := CashCount.objects.filter(key=key).first():
        return already
    if method not in BOX_METHODS:
        raise ValidationError(_("On compte les espèces et les chèques."))
    if counted is None or counted < 0 or counted > MAX_COUNTED or money(counted) != counted:
        raise ValidationError(
            {"counted": _("Le montant compté doit être positif ou nul, en euros et centimes.")}
        )
    expected = expected_by_method(distribution_id=distribution_id, point_id=point_id)[method]
    difference = counted - expected
    reason = (reason or "").strip()[:200]
    if difference and not reason:
        raise ValidationError(
            {
                "reason": _(
                    "Écart de caisse de %(difference)s (attendu %(expected)s, compté %(counted)s) : "
                    "indiquez-en le motif."
                )
                % {
                    "difference": euros(difference),
                    "expected": euros(expected),
                    "counted": euros(counted),
                }
            }
        )
    count = CashCount(
        cash_box=box,
        method=method,
        counted=counted,
        expected=expected,
        difference=difference,
        reason=reason,
        key=key[:64],
        created_by=by,
    )
    count.full_clean(exclude=["cash_box", "created_by"])
    count.save()
    return count


@transaction.atomic
def cash_box_close(*, distribution_id: int, point_id: int, by: User) -> CashBox:
    """Close the box once every method holding money is counted and no count is stale; then it is
    read-only."""
    box = locks.cash_box_lock(distribution_id=distribution_id, point_id=point_id)
    if box.is_closed:
        raise _closed_refusal(box)
    expected = expected_by_method(distribution_id=distribution_id, point_id=point_id)
    labels = {CashBox.Method.CASH: _("les espèces"), CashBox.Method.CHEQUE: _("les chèques")}
    counted_labels = {CashBox.Method.CASH: _("des espèces"), CashBox.Method.CHEQUE: _("des chèques")}
    for method in BOX_METHODS:
        latest = CashCount.objects.filter(cash_box=box, method=method).order_by("-created_at", "-pk").first()
        if latest is None and expected[method]:
            raise ValidationError(
                _("Comptez d'abord %(what)s (%(amount)s attendus).")
                % {"what": labels[method], "amount": euros(expected[method])}
            )
        if latest is not None and latest.expected != expected[method]:
            raise ValidationError(
                _(
                    "Des paiements ont été enregistrés depuis le comptage %(what)s : %(amount)s attendus "
                    "maintenant. Comptez de nouveau."
                )
                % {"what": counted_labels[method], "amount": euros(expected[method])}
            )
    box.closed_at = timezone.now()
    box.closed_by = by
    box.save(update_fields=["closed_at", "closed_by"])
    return box


# Food-voucher issuers ---------------------------------------------------------------------------------------


@transaction.atomic
def voucher_issuer_add(*, name: str) -> VoucherIssuer:
    name = " ".join((name or "").split())[:120]
    if not name:
        raise ValidationError({"name": _("Indiquez le nom de l'émetteur.")})
    existing = VoucherIssuer.objects.annotate(lower=Lower("name")).filter(lower=name.lower()).first()
    if existing is not None:
        if existing.is_active:
            raise ValidationError(
                {"name": _("« %(name)s » est déjà dans la liste.") % {"name": existing.name}}
            )
        existing.is_active = True
        existing.save(update_fields=["is_active"])
        return existing
    return VoucherIssuer.objects.create(name=name)


@transaction.atomic
def voucher_issuer_set_active(*, issuer_id: int, active: bool) -> VoucherIssuer:
    """An issuer no longer accepted leaves the on-site forms; its past vouchers keep their name."""
    issuer = VoucherIssuer.objects.get(pk=issuer_id)
    issuer.is_active = active
    issuer.save(update_fields=["is_active"])
    return issuer


# Members' transfers -----------------------------------------------------------------------------------------


@transaction.atomic
def transfer_receive(
    *, order_id: int, amount: Decimal, received_on: date, seen_remaining: Decimal, by: User
) -> Payment:
    """A member's transfer has reached the bank: recorded as the order's payment, of the amount received
    (a partial transfer leaves the rest due, a larger one shows as paid beyond the due). `seen_remaining`
    is what the page said was expected: if it changed, the transfer was just recorded (a double submit)."""
    order = locks.order_lock(order_id)
    if order.payment_method != PaymentMethod.TRANSFER:
        raise ValidationError(_("Cette commande n'est pas payée par virement."))
    if received_on is None or received_on > timezone.localdate():
        raise ValidationError({"received_on": _("La date de réception ne peut pas être dans le futur.")})
    remaining = order_balance(order).remaining
    if remaining != seen_remaining:
        raise ValidationError(
            _(
                "Commande n° %(number)s : ce virement vient d'être enregistré, ou la commande a changé. "
                "Il reste %(remaining)s attendus."
            )
            % {"number": order.number, "remaining": euros(remaining)}
        )
    try:
        return payment_services.onsite_payment_record(
            order_id=order.pk,
            method=PaymentMethod.TRANSFER,
            amount=amount,
            note="",
            received_on=received_on,
            by=by,
        )
    except payment_services.PaymentRefused as refusal:
        raise ValidationError({"amount": str(refusal)}) from refusal
