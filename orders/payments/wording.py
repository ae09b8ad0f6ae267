"""What a member reads about the money of a card order, before and after paying: plain sentences built
here from balance.py's amounts and balance, so that every page says the same thing in the same words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils.translation import gettext as _

from marketplace.money import euros
from orders.models import Order, Payment, Sale, ShopSettings
from orders.payments.balance import Amounts, Balance, amounts_of, capture_method_of, order_amounts


@dataclass(frozen=True)
class Fact:
    """One term and its value in the order page's « Règlement » list."""

    term: str
    value: str


def card_notice(*, sale: Sale, amounts: Amounts, now: datetime | None = None) -> str:
    """Before paying: what the card will be asked for, and why it is more than the estimate. Empty when
    nothing is weighed: the total is then the exact amount charged."""
    if not amounts.has_weighed_goods:
        return ""
    if capture_method_of(sale, True, now) == "manual":
        return _(
            "Votre carte sera autorisée pour %(amount)s au plus : les produits pesés sont estimés, vous ne "
            "serez débité·e que du poids réel après la pesée."
        ) % {"amount": euros(amounts.cap)}
    # The distribution is beyond an authorisation's validity: the cap is charged, the rest refunded.
    return _(
        "Votre carte sera débitée de %(amount)s : les produits pesés sont estimés, la différence avec le "
        "poids réel vous sera remboursée après la pesée."
    ) % {"amount": euros(amounts.cap)}


def cart_card_notice(*, sale: Sale, lines) -> str:
    """`card_notice` for a cart not ordered yet (checkout's CartLine rows)."""
    amounts = amounts_of(
        [(line.amount, line.offer.is_variable_weight) for line in lines],
        ShopSettings.current().weight_margin_percent,
    )
    return card_notice(sale=sale, amounts=amounts)


def order_card_notice(order: Order) -> str:
    return card_notice(sale=order.sale, amounts=order_amounts(order))


def authorized_text(balance: Balance) -> str:
    return _("Autorisé, débité après la pesée : au plus %(amount)s") % {"amount": euros(balance.authorized)}


def paid_text(order: Order, balance: Balance) -> str:
    """What was actually received (charged to the card, or paid on site), net of refunds."""
    card = sum(
        (p.amount for p in order.payments.all() if p.is_card and p.status == Payment.Status.SUCCEEDED),
        Decimal("0"),
    )
    on_card = bool(card) and card == balance.received
    paid = balance.received - balance.refunded  # the member's credit (« avoir ») has its own row
    if balance.refunded:
        if on_card:
            text = _("%(net)s : %(received)s débités de votre carte, %(refunded)s remboursés")
        else:
            text = _("%(net)s : %(received)s reçus, %(refunded)s remboursés")
        return text % {
            "net": euros(paid),
            "received": euros(balance.received),
            "refunded": euros(balance.refunded),
        }
    if on_card:
        return _("%(amount)s, débités de votre carte") % {"amount": euros(paid)}
    return euros(paid)


def money_facts(order: Order, balance: Balance) -> list[Fact]:
    """« Règlement » on the order page: the authorisation (never called « payé »), then what was paid."""
    facts = []
    if balance.goodwill:
        facts.append(Fact(term=_("Geste commercial"), value=f"−{euros(balance.goodwill)}"))
    if balance.credit:
        facts.append(Fact(term=_("Payé avec l'avoir"), value=euros(balance.credit)))
    if balance.authorized:
        facts.append(Fact(term=_("Carte bancaire"), value=authorized_text(balance)))
    if balance.received or not (balance.authorized or balance.credit):
        facts.append(Fact(term=_("Payé"), value=paid_text(order, balance)))
    return facts


def money_line(order: Order, balance: Balance) -> str:
    """One line for « Mes commandes »; empty while nothing is paid nor authorised (the badge says so)."""
    if balance.authorized:
        return authorized_text(balance)
    if balance.received:
        return _("Payé : %(amount)s") % {"amount": paid_text(order, balance)}
    return ""
