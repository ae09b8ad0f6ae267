"""The two demo collectives and their accounts, as created by `manage.py seed_demo`."""

from __future__ import annotations

DEMO_PASSWORD = "etal-demo-2026"

COLLECTIVES = [
    {
        "slug": "cagette47",
        "name": "La cagette collective 47",
        "kind": "drive",
        "town": "Agen",
        "department": "47",
        "description": (
            "Un drive fermier : des paysannes et paysans du Lot-et-Garonne se fédèrent pour proposer une "
            "gamme de produits fermiers diversifiés, commandés et payés en ligne, à retirer en un seul "
            "point de retrait collectif prêté par la mairie, dans le respect des règles sanitaires."
        ),
        "contact_email": "contact@cagette47.demo",
        "contact_phone": "05 53 00 00 47",
        "join_mode": "open",
        "allow_cooptation": False,
        "colour": (47, 107, 58),
        "initials": "C47",
    },
    {
        "slug": "emplettes",
        "name": "Emplettes et Cagettes",
        "kind": "buying_group",
        "town": "Toulouse",
        "department": "31",
        "description": (
            "Un groupement d'achat de personnes en précarité alimentaire : un bon de commande mensuel, "
            "ouvert au début du mois, des produits locaux et protéinés à prix stables négociés avec les "
            "fournisseurs, livrés dans des lieux connus (centres sociaux, associations). "
            "Les acheteurs se cooptent."
        ),
        "contact_email": "contact@emplettes.demo",
        "contact_phone": "05 61 00 00 31",
        "join_mode": "invitation",
        "allow_cooptation": True,
        "colour": (138, 59, 0),
        "initials": "E&C",
    },
]

# (email, first name, last name, phone, {collective slug: roles})
ACCOUNTS = [
    (
        "coordination@cagette47.demo",
        "Hélène",
        "Garrigues",
        "06 10 00 00 01",
        {"cagette47": ["coordinator", "member"]},
    ),
    ("producteur@cagette47.demo", "Jean", "Laborde", "06 10 00 00 02", {"cagette47": ["producer"]}),
    ("mairie@cagette47.demo", "Sophie", "Mairie-d'Agen", "05 53 00 00 02", {"cagette47": ["point_staff"]}),
    ("membre@cagette47.demo", "Karim", "Benali", "06 10 00 00 03", {"cagette47": ["member"]}),
    # The town hall whose proposed point cagette47 accepted (pickup_points.demo): staff of that point only.
    (
        "secretariat@mairie-boe.demo",
        "Annie",
        "Secrétariat-de-Boé",
        "05 53 00 00 12",
        {"cagette47": ["point_staff"]},
    ),
    (
        "coordination@emplettes.demo",
        "Nadia",
        "Roussel",
        "06 20 00 00 01",
        {"emplettes": ["coordinator", "member"]},
    ),
    (
        "fournisseur@emplettes.demo",
        "Paul",
        "Coopérative-du-Lauragais",
        "06 20 00 00 02",
        {"emplettes": ["producer"]},
    ),
    (
        "centre-social@emplettes.demo",
        "Inès",
        "Centre-social",
        "05 61 00 00 02",
        {"emplettes": ["point_staff"]},
    ),
    ("membre@emplettes.demo", "Fatou", "Diallo", "06 20 00 00 03", {"emplettes": ["member"]}),
    # One account in both collectives: a producer in both (one catalogue, one central stock), a member in one.
    (
        "claire@demo.etal",
        "Claire",
        "Dubois",
        "06 30 00 00 01",
        {"cagette47": ["producer"], "emplettes": ["member", "producer"]},
    ),
]
