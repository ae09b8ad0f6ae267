"""Demo data of this app for `manage.py seed_demo`; must be idempotent (running it twice adds nothing)."""

from __future__ import annotations

from datetime import date, time, timedelta

from django.utils import timezone

from pickup_points import services
from pickup_points.models import Distribution, PickupPoint, PickupSlot, SlotBooking, Weekday

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
