"""The living lab of the demo buying group (« emplettes »): two lab groups with their pickup points, a few
proposals with supports and comments, a past session whose adopted decision became a product request and then
a catalogue product, and an upcoming session. Dates are counted from today, so the demo works on any day."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from pickup_points import groups
from pickup_points.models import LabGroup, PickupPoint
from producers.lab import services
from producers.models import Category, Outcome, Producer, Proposal, Unit

GROUPS = [
    # (name, kind, pickup point, members)
    (
        "Les Izards",
        LabGroup.Kind.SOCIAL_CENTRE,
        "Centre socio-culturel des Izards",
        ["membre@emplettes.demo", "coordination@emplettes.demo"],
    ),
    ("Bagatelle", LabGroup.Kind.NEIGHBOURHOOD, "Maison des solidarités Bagatelle", ["claire@demo.etal"]),
]


def _at(days: int, hour: int) -> datetime:
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def seed(*, collective, accounts: dict) -> None:
    if collective.slug != "emplettes" or Proposal.objects.exists():
        return
    made = {}
    for name, kind, point_name, emails in GROUPS:
        group = LabGroup.objects.filter(name=name).first() or groups.lab_group_create(
            name=name, kind=kind, pickup_point=PickupPoint.objects.filter(name=point_name).first()
        )
        for email in emails:
            groups.lab_group_member_set(collective=collective, user=accounts[email], group=group)
        made[name] = group
    izards, bagatelle = made["Les Izards"], made["Bagatelle"]
    fatou, nadia, claire = (
        accounts["membre@emplettes.demo"],
        accounts["coordination@emplettes.demo"],
        accounts["claire@demo.etal"],
    )
    coop = Producer.objects.get(name="Coopérative du Lauragais")

    flour = services.proposal_create(
        author=fatou,
        group=izards,
        title="Farine de pois chiches",
        reason=(
            "Pour les galettes et la socca : ça nourrit, c'est riche en protéines et ça ne coûte pas cher."
        ),
        target_price=Decimal("3.00"),
        target_unit="le kg",
        supplier=coop,
    )
    sardines = services.proposal_create(
        author=nadia,
        group=izards,
        title="Sardines en boîte",
        reason="Du poisson qui se garde, pour les fins de mois.",
        target_price=Decimal("2.00"),
        target_unit="la boîte",
        supplier_hint="Une conserverie de la côte, à trouver",
    )
    soda = services.proposal_create(
        author=fatou,
        group=izards,
        title="Soda au cola",
        reason="Les enfants en demandent.",
    )
    chicken = services.proposal_create(
        author=fatou,
        group=izards,
        title="Poulet fermier",
        reason="De la viande de qualité, une fois par mois, pour le repas en famille.",
        target_price=Decimal("8.00"),
        target_unit="le kg",
        supplier_hint="Un éleveur du Gers, vu au marché",
    )
    services.proposal_create(
        author=claire,
        group=bagatelle,
        title="Yaourts nature au lait de vache",
        reason="Pour le goûter des enfants, en grand pot pour moins d'emballage.",
        target_price=Decimal("2.50"),
        target_unit="le pot de 1 kg",
    )
    for proposal, supporters in [(flour, [nadia]), (sardines, [fatou]), (chicken, [nadia])]:
        for supporter in supporters:
            services.proposal_support(proposal=proposal, user=supporter)
    services.proposal_comment_add(
        proposal=flour, author=nadia, text="Oui ! Et la coopérative fait déjà les pois chiches entiers."
    )
    services.proposal_comment_add(
        proposal=chicken,
        author=nadia,
        text="À voir avec un prix stable sur trois mois, sinon c'est trop cher.",
    )

    past = services.lab_session_create(
        group=izards,
        starts_at=_at(-20, 18),
        place="Centre socio-culturel des Izards, salle polyvalente",
        proposals=[flour, sardines, soda],
        created_by=nadia,
    )
    decision = services.lab_decision_record(
        session=past,
        proposal_id=flour.pk,
        outcome=Outcome.ADOPTED,
        reason="Douze personnes pour, prix visé tenu : la Coopérative du Lauragais peut la moudre.",
        decided_by=nadia,
    )
    services.lab_decision_record(
        session=past,
        proposal_id=sardines.pk,
        outcome=Outcome.TO_SEARCH,
        reason="Personne ne connaît de conserverie proche : on cherche d'ici la prochaine séance.",
        decided_by=nadia,
    )
    services.lab_decision_record(
        session=past,
        proposal_id=soda.pk,
        outcome=Outcome.REJECTED,
        reason=(
            "Hors de nos critères : le collectif achète des produits élémentaires, locaux et nourrissants."
        ),
        decided_by=nadia,
    )
    services.product_request_answer(
        request_id=decision.product_request.pk,
        producer=coop,
        name="Farine de pois chiches (1 kg)",
        category=Category.objects.filter(name="Légumineuses et farines").first(),
        unit=Unit.BAG,
        price=Decimal("3.10"),
        vat_rate=Decimal("5.5"),
        stock=40,
        description="Pois chiches du Lauragais moulus à la coopérative.",
    )
    services.lab_session_create(
        group=izards,
        starts_at=_at(12, 18),
        place="Centre socio-culturel des Izards, salle polyvalente",
        proposals=[chicken, sardines],
        created_by=nadia,
    )
