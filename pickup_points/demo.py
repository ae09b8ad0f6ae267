"""Demo data of this app for `manage.py seed_demo`; must be idempotent (running it twice adds nothing)."""

from __future__ import annotations

from datetime import date, time, timedelta

from django.utils import timezone

from marketplace.models import PointProposal
from marketplace.point_proposals import point_proposal_submit
from pickup_points import services
from pickup_points.models import Distribution, PickupPoint, PickupSlot, SlotBooking, Weekday
from pickup_points.proposals import point_proposal_accept

FRIDAY, SATURDAY, WEDNESDAY = Weekday.FRIDAY, Weekday.SATURDAY, Weekday.WEDNESDAY

# Per collective: points (fields, hours, staff e-mails), the weekday of a stand-alone distribution (no sale:
# the orders demo puts its sale on another day), its label,
# and a few households already booked (e-mail, point name, slot start) so the check-in list is not empty.
DEMO = {
    "cagette47": {
        "points": [
            {
                "fields": {
                    "name": "Salle des fêtes de la mairie",
                    "address": "Place du Docteur-Esquirol",
                    "postcode": "47000",
                    "town": "Agen",
                    "map_url": "https://www.openstreetmap.org/?mlat=44.2035&mlon=0.6163#map=18/44.2035/0.6163",
                    "access_instructions": (
                        "Entrée par la petite porte côté parking, "
                        "à gauche de l'entrée principale de la mairie."
                    ),
                    "rules": (
                        "Venez à l'heure de votre créneau, une personne par foyer. Apportez vos sacs. "
                        "Gel hydroalcoolique à l'entrée ; gardez vos distances dans la file."
                    ),
                    "accessibility": "Salle de plain-pied, accessible en fauteuil roulant.",
                    "slot_minutes": 15,
                    "slot_capacity": 6,
                },
                "hours": [(FRIDAY, time(17, 0), time(19, 0))],
                "staff": ["mairie@cagette47.demo"],
            }
        ],
        "weekday": FRIDAY,
        "label": "Paniers réservés par téléphone",
        "bookings": [
            ("membre@cagette47.demo", "Salle des fêtes de la mairie", time(17, 15)),
            ("coordination@cagette47.demo", "Salle des fêtes de la mairie", time(17, 15)),
        ],
    },
    "emplettes": {
        "points": [
            {
                "fields": {
                    "name": "Centre socio-culturel des Izards",
                    "address": "3 chemin des Izards",
                    "postcode": "31200",
                    "town": "Toulouse",
                    "access_instructions": "Salle polyvalente au rez-de-chaussée, entrée par la cour.",
                    "rules": "Apportez vos cabas. Les produits frais sont à emporter tout de suite.",
                    "accessibility": "Accessible en fauteuil roulant ; un·e bénévole aide à porter.",
                    "slot_minutes": 30,
                    "slot_capacity": 8,
                },
                "hours": [(SATURDAY, time(9, 30), time(12, 0)), (WEDNESDAY, time(16, 0), time(18, 0))],
                "staff": ["centre-social@emplettes.demo"],
            },
            {
                "fields": {
                    "name": "Maison des solidarités Bagatelle",
                    "address": "12 rue du Lot",
                    "postcode": "31100",
                    "town": "Toulouse",
                    "access_instructions": "Sonnez à l'accueil : la distribution a lieu salle du fond.",
                    "rules": "Une personne par foyer. Pensez à votre numéro de panier.",
                    "accessibility": "Trois marches à l'entrée ; rampe amovible sur demande à l'accueil.",
                    "slot_minutes": 20,
                    "slot_capacity": 5,
                },
                "hours": [(SATURDAY, time(14, 0), time(17, 0))],
                "staff": [],
            },
            {
                "fields": {
                    "name": "Association étudiante du Mirail",
                    "address": "5 allées Antonio-Machado",
                    "postcode": "31100",
                    "town": "Toulouse",
                    "access_instructions": "Local de l'association, Maison des initiatives étudiantes.",
                    "rules": "Carte d'étudiant·e ou de membre demandée.",
                    "accessibility": "Ascenseur à côté de l'accueil.",
                    "slot_minutes": 15,
                    "slot_capacity": 4,
                },
                "hours": [(SATURDAY, time(11, 0), time(13, 0)), (WEDNESDAY, time(17, 30), time(19, 30))],
                "staff": [],
            },
        ],
        "weekday": SATURDAY,
        "label": "Colis de dépannage",
        "bookings": [
            ("membre@emplettes.demo", "Centre socio-culturel des Izards", time(10, 0)),
            ("claire@demo.etal", "Maison des solidarités Bagatelle", time(14, 20)),
        ],
    },
}


def _next(weekday: int, after: date) -> date:
    """The first `weekday` strictly after `after`."""
    return after + timedelta(days=(weekday - after.weekday() - 1) % 7 + 1)


# « Proposer un point de retrait » in Lot-et-Garonne: one proposal still open (cagette47's coordinator sees it
# in « Points proposés »), one accepted earlier, whose point exists with the town hall's staff account.
PROPOSALS = {
    "cagette47": [
        {
            "kind": "mairie",
            "place_name": "Salle du conseil de la mairie de Layrac",
            "address": "Place de la Mairie",
            "postcode": "47390",
            "town": "Layrac",
            "department": "47",
            "hours_text": "Le mardi de 17 h 30 à 19 h, hors vacances d'août",
            "weekday": Weekday.TUESDAY,
            "starts_at": time(17, 30),
            "ends_at": time(19, 0),
            "capacity": 4,
            "access_instructions": "Entrée par la porte latérale, rampe d'accès côté parking.",
            "rules": "Masque conseillé, gel à l'entrée, une personne par foyer dans la salle.",
            "contact_name": "Martine Lafitte",
            "contact_role": "Secrétaire de mairie",
            "contact_email": "secretariat@mairie-layrac.demo",
            "contact_phone": "05 53 00 00 11",
        },
        {
            "kind": "mairie",
            "place_name": "Salle des associations de Boé",
            "address": "Avenue de la Mairie",
            "postcode": "47550",
            "town": "Boé",
            "department": "47",
            "hours_text": "Le samedi de 10 h à 12 h",
            "weekday": Weekday.SATURDAY,
            "starts_at": time(10, 0),
            "ends_at": time(12, 0),
            "capacity": 5,
            "access_instructions": "Derrière la mairie, parking gratuit.",
            "rules": "Gel hydroalcoolique à l'entrée ; sortie par la porte du jardin.",
            "contact_name": "Annie Secrétariat-de-Boé",
            "contact_role": "Secrétaire générale",
            "contact_email": "secretariat@mairie-boe.demo",
            "contact_phone": "05 53 00 00 12",
            "accepted_by": "coordination@cagette47.demo",
        },
    ],
}


def _proposals_seed(*, collective, accounts: dict) -> None:
    for spec in PROPOSALS.get(collective.slug, []):
        fields = {key: value for key, value in spec.items() if key != "accepted_by"}
        proposal = PointProposal.objects.filter(place_name=fields["place_name"]).first()
        if proposal is None:
            proposal = point_proposal_submit(**fields)
        if "accepted_by" in spec and proposal.is_open:
            point_proposal_accept(
                collective=collective, proposal_id=proposal.pk, by=accounts[spec["accepted_by"]]
            )


def seed(*, collective, accounts: dict) -> None:
    """Called inside the collective's schema. `accounts` maps the demo e-mails to their User objects."""
    spec = DEMO.get(collective.slug)
    if spec is None:
        return
    points = []
    for point_spec in spec["points"]:
        point = PickupPoint.objects.filter(name=point_spec["fields"]["name"]).first()
        if point is None:
            point = services.point_create(**point_spec["fields"])
            services.point_update(point=point, hours=point_spec["hours"])
            for email in point_spec["staff"]:
                services.point_staff_add(collective=collective, point=point, user=accounts[email])
        points.append(point)
    _proposals_seed(
        collective=collective, accounts=accounts
    )  # after the demo's own points: theirs come first
    if Distribution.objects.filter(date__gte=timezone.localdate()).exists():
        return
    distribution = services.distribution_create(
        date=_next(spec["weekday"], timezone.localdate()), points=points, label=spec["label"]
    )
    for email, point_name, starts_at in spec["bookings"]:
        slot = next(
            slot
            for slot in PickupSlot.objects.filter(distribution=distribution, point__name=point_name)
            if timezone.localtime(slot.starts_at).time() == starts_at
        )
        if not SlotBooking.objects.filter(distribution=distribution, user=accounts[email]).exists():
            services.slot_reserve(slot_id=slot.pk, user=accounts[email])
