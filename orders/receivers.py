"""What the ordering app gives other apps: what it holds about a member (marketplace.personal_data: export,
cancel, anonymise) and the home page's sales (marketplace.home)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Prefetch, Q
from django.dispatch import receiver
from django.urls import reverse
from django.utils.translation import gettext as _

from marketplace.home import FirstStep
from marketplace.models import User
from marketplace.personal_data import ErasureRefused, Provider
from orders.checkout import services as checkout_services
from orders.closing.jobs import shared_pending_quantities
from orders.models import (
    CardTopUp,
    CashBox,
    CashCount,
    LedgerEntry,
    MemberAccount,
    MemberPreferences,
    MemberTier,
    OfferWait,
    Order,
    OrderLine,
    Payment,
    ProducerBankAccount,
    RecurringSchedule,
    Refund,
    Sale,
    ShopSettings,
    SlotWait,
    Transfer,
)
from orders.sales.selectors import sales_open_or_coming, with_pickup_hours
from orders.sheets import storage as sheet_storage
from orders.waiting import offers as offer_waits
from orders.waiting import services as waiting_services
from pickup_points.models import PickupSlot
from pickup_points.signals import slot_freed
from producers.models import Producer


def export(user: User) -> dict:
    orders = (
        Order.objects.filter(user=user)
        .select_related("sale")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("pk")),
            "events",
            Prefetch("payments", queryset=Payment.objects.prefetch_related("refunds")),
        )
        .order_by("created_at", "pk")
    )
    preferences = MemberPreferences.objects.filter(user=user).first()
    tier = MemberTier.objects.filter(user=user).select_related("tier").first()
    return {
        "orders": [
            {
                "number": order.number,
                "sale": order.sale.title,
                "distribution_starts_at": order.sale.distribution_starts_at,
                "status": str(order.get_status_display()),
                "created_at": order.created_at,
                "basket_number": order.basket_number,
                "payment_method": str(order.get_payment_method_display()),
                "payment_status": str(order.get_payment_status_display()),
                "total": order.total,
                "lines": [
                    {
                        "product": line.name,
                        "quantity": line.quantity,
                        "unit": line.unit,
                        "unit_price": line.unit_price,
                        "amount": line.amount,
                        "weight_kg": line.weight_kg,
                        "weighed_amount": line.weighed_amount,
                    }
                    for line in order.lines.all()
                ],
                "payments": [
                    {
                        "method": str(payment.get_method_display()),
                        "status": str(payment.get_status_display()),
                        "amount": payment.amount,
                        "note": payment.note,
                        "created_at": payment.created_at,
                        "refunds": [
                            {
                                "amount": refund.amount,
                                "reason": refund.reason,
                                "status": str(refund.get_status_display()),
                                "created_at": refund.created_at,
                            }
                            for refund in payment.refunds.all()
                        ],
                    }
                    for payment in order.payments.all()
                ],
                "events": [
                    {"kind": event.kind, "note": event.note, "at": event.at} for event in order.events.all()
                ],
            }
            for order in orders
        ],
        "payments_recorded": [
            {"order": payment.order.number, "amount": payment.amount, "created_at": payment.created_at}
            for payment in Payment.objects.filter(recorded_by=user).select_related("order")
        ],
        "order_preferences": {"reminders": preferences.reminders} if preferences else None,
        "slot_waiting_lists": [
            {
                "sale": wait.sale.title,
                "slot_starts_at": wait.slot.starts_at,
                "status": str(wait.get_status_display()),
                "joined_at": wait.joined_at,
                "offered_until": wait.offered_until,
            }
            for wait in SlotWait.objects.filter(user=user).select_related("sale", "slot").order_by("pk")
        ],
        "product_waiting_lists": [
            {
                "sale": wait.sale.title,
                "product": wait.offer.name,
                "wanted": wait.wanted,
                "status": str(wait.get_status_display()),
                "joined_at": wait.joined_at,
                "offered_until": wait.offered_until,
            }
            for wait in OfferWait.objects.filter(user=user).select_related("sale", "offer").order_by("pk")
        ],
        "price_tier": {
            "name": tier.tier.name,
            "percent": tier.tier.percent,
            "chosen_by_member": tier.chosen_by_member,
        }
        if tier
        else None,
    }


def stop(user: User) -> None:
    """Orders of sales still open are cancelled through the member's own cancel (stock, slot, refund), and
    the member leaves the waiting lists."""
    running = [
        order
        for order in Order.objects.filter(user=user, status=Order.Status.PLACED).select_related("sale")
        if order.sale.status == Sale.Status.OPEN
    ]
    for order in running:
        try:
            checkout_services.order_cancel(order_id=order.pk, user=user)
        except checkout_services.OrderRefused as refusal:
            raise ErasureRefused(str(refusal)) from refusal
    # Waiting lists are left (a place held for the member goes to the next in line).
    for wait_id in SlotWait.objects.filter(user=user, status__in=SlotWait.OPEN).values_list("pk", flat=True):
        waiting_services.slot_wait_leave(wait_id=wait_id, user=user)
    for wait_id in OfferWait.objects.filter(user=user, status__in=OfferWait.OPEN).values_list(
        "pk", flat=True
    ):
        offer_waits.offer_wait_leave(wait_id=wait_id, user=user)


def erase(user: User, ghost: User) -> None:
    """Orders and payments stay for accounting, handed to the anonymous account; preferences, waiting-list
    entries and the member's price tier go."""
    Order.objects.filter(user=user).update(user=ghost)
    Payment.objects.filter(recorded_by=user).update(recorded_by=ghost)
    Refund.objects.filter(created_by=user).update(created_by=ghost)
    # The books keep every euro (top-ups, gifts to the solidarity fund, what is still owed): without a name.
    LedgerEntry.objects.filter(user=user).update(user=ghost)
    LedgerEntry.objects.filter(created_by=user).update(created_by=ghost)
    if ghost != user:
        MemberAccount.objects.filter(user=user).update(user=ghost)  # the ghost is new: it has no account yet
    CardTopUp.objects.filter(user=user).update(user=ghost)
    CashBox.objects.filter(closed_by=user).update(closed_by=ghost)
    CashCount.objects.filter(created_by=user).update(created_by=ghost)
    Transfer.objects.filter(created_by=user).update(created_by=ghost)
    MemberPreferences.objects.filter(Q(user=user) | Q(user=ghost)).delete()
    MemberTier.objects.filter(Q(user=user) | Q(user=ghost)).delete()  # a self-declaration: it goes
    SlotWait.objects.filter(user=user).delete()  # nothing accounting needs
    OfferWait.objects.filter(user=user).delete()


def purge(now) -> dict:
    """Sheet files that no sheet points to any more (a render killed between writing its file and
    swapping it in), once they are an hour old."""
    return {"orphan_sheet_files": sheet_storage.sheet_orphans_delete(older_than=now - timedelta(hours=1))}


provider = Provider(name="orders", export=export, stop=stop, erase=erase, purge=purge)


def bank_accounts_export(user: User) -> dict:
    """The bank details of the producers the account manages (statements and SEPA files are paid there)."""
    accounts = ProducerBankAccount.objects.filter(producer__accounts=user).select_related("producer")
    return {
        "producer_bank_accounts": [
            {
                "producer": account.producer.name,
                "holder": account.holder,
                "iban": account.iban,
                "bic": account.bic,
                "updated_at": account.updated_at,
            }
            for account in accounts.order_by("producer__name")
        ]
    }


def bank_accounts_erase(user: User, ghost: User) -> None:
    """The bank details of a producer that only this account manages go with the person (a farmer's
    account is often their own). Transfer files already made keep them: they are the collective's books.
    Runs before the producers app unlinks the account (position)."""
    mine = Producer.objects.filter(accounts=user).values("pk")
    sole = Producer.objects.filter(pk__in=mine).annotate(linked=Count("accounts")).filter(linked=1)
    ProducerBankAccount.objects.filter(producer__in=sole.values("pk")).delete()


bank_accounts_provider = Provider(
    name="orders.bank_accounts", export=bank_accounts_export, erase=bank_accounts_erase, position=50
)


def home_sales(request) -> dict:
    """The collective's home page (marketplace.home): the sales open now or coming."""
    return {"sales": with_pickup_hours(sales_open_or_coming())}


def first_steps(request) -> list[FirstStep]:
    """« Premiers pas » (marketplace.home): a sale or a schedule, and the payment settings saved once."""
    has_sale = Sale.objects.exists() or RecurringSchedule.objects.exists()
    sale_label = (
        _("Préparer un bon de commande ou une programmation")
        if request.tenant.is_buying_group
        else _("Préparer une vente ou une programmation")
    )
    return [
        FirstStep(position=30, label=sale_label, url=reverse("sale_create"), done=has_sale),
        FirstStep(
            position=50,
            label=_("Choisir les moyens de paiement acceptés"),
            url=reverse("payment_settings"),
            done=ShopSettings.objects.filter(pk=1).exists(),
        ),
    ]


def pending_shared_quantities(product_ids: list[int]) -> dict[int, int]:
    """For producers.shared_catalogue: what this collective's orders hold of these products, not delivered."""
    return shared_pending_quantities(product_ids=product_ids)


# Waiting lists (orders.waiting) -----------------------------------------------------------------------------


@receiver(slot_freed, sender=PickupSlot, dispatch_uid="orders.slot_freed_offer")
def offer_freed_place(sender, *, slot_id: int, **kwargs) -> None:
    """A place freed in a slot with a waiting list is offered to it once the freeing transaction commits."""
    if SlotWait.objects.filter(slot_id=slot_id, status=SlotWait.Status.WAITING).exists():
        waiting_services.offer_later(slot_id=slot_id)
