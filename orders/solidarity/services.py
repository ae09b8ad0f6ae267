"""Writes of solidarity prices: a collective's tiers, and each member's tier (their own choice, a
self-declaration with no proof kept, or a coordinator's). The fund's money moves in orders.ledger."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from marketplace.models import User
from orders import locks
from orders.models import MemberTier, Order, PriceTier


class TierRefused(Exception):
    """A tier that cannot be saved or chosen; the message says why."""


class TierNotFound(TierRefused):
    """No such tier in this collective."""


@transaction.atomic
def tier_save(
    *,
    tier_id: int | None,
    name: str,
    percent: Decimal,
    description: str,
    position: int,
    is_active: bool,
) -> PriceTier:
    tier = PriceTier() if tier_id is None else PriceTier.objects.filter(pk=tier_id).first()
    if tier is None:
        raise TierRefused(_("Ce tarif n'existe pas."))
    tier.name = name.strip()
    tier.percent = percent
    tier.description = description.strip()
    tier.position = position
    tier.is_active = is_active
    if PriceTier.objects.filter(name__iexact=tier.name).exclude(pk=tier.pk).exists():
        raise TierRefused(_("Un tarif porte déjà ce nom."))
    try:
        tier.full_clean()
    except ValidationError as error:
        raise TierRefused(" ".join(error.messages)) from error
    tier.save()
    return tier


@transaction.atomic
def tier_delete(*, tier_id: int) -> PriceTier:
    """Delete a tier nobody uses (one created by mistake). A tier of members, or one orders were placed at,
    stays (their prices and the fund's entries refer to it): it can be no longer offered instead."""
    tier = locks.price_tier_lock(tier_id)
    if tier is None:
        raise TierNotFound(_("Ce tarif n'existe pas."))
    members = MemberTier.objects.filter(tier=tier).count()
    if members:
        raise TierRefused(
            ngettext(
                "« %(name)s » est le tarif de %(count)s membre : donnez-lui un autre tarif, ou décochez "
                "« Proposé aux membres » pour ne plus le proposer.",
                "« %(name)s » est le tarif de %(count)s membres : donnez-leur un autre tarif, ou décochez "
                "« Proposé aux membres » pour ne plus le proposer.",
                members,
            )
            % {"name": tier.name, "count": members}
        )
    if Order.objects.filter(price_tier=tier).exists():
        raise TierRefused(
            _(
                "Des commandes ont été passées au tarif « %(name)s » : il reste dans leur historique. "
                "Décochez « Proposé aux membres » pour ne plus le proposer."
            )
            % {"name": tier.name}
        )
    tier.delete()  # locked: nobody chooses it meanwhile (member_tier_set locks it too)
    return tier


@transaction.atomic
def member_tier_set(*, user_id: int, tier_id: int | None, by_member: bool) -> MemberTier | None:
    """The member's tier from now on (None: the base price); orders already placed keep their prices
    until they are changed. A member chooses among the tiers offered; a coordinator may assign any."""
    if tier_id is None:
        MemberTier.objects.filter(user_id=user_id).delete()
        return None
    tier = locks.price_tier_lock(tier_id)  # not deleted meanwhile (tier_delete)
    if tier is None or (by_member and not tier.is_active):
        raise TierRefused(_("Choisissez un des tarifs proposés."))
    row, _created = MemberTier.objects.update_or_create(
        user_id=user_id,
        defaults={"tier": tier, "chosen_by_member": by_member, "updated_at": timezone.now()},
    )
    return row


def member_tier_set_by(*, user: User, tier_id: int | None) -> MemberTier | None:
    return member_tier_set(user_id=user.pk, tier_id=tier_id, by_member=True)
