"""Demo catalogues for `manage.py seed_demo`; idempotent (running it twice adds nothing).

La cagette collective 47: eight farms of Lot-et-Garonne. Emplettes et Cagettes: a few suppliers of basic,
protein-rich local products at negotiated prices.
"""

from __future__ import annotations

import io
import textwrap
import unicodedata
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone
from django_tenants.utils import tenant_context
from PIL import Image, ImageDraw, ImageFont

from marketplace.models import Collective, SharedListing, SharedProduct
from producers import agreements, applications, services, shared_catalogue
from producers.models import Category, PriceAgreement, Producer, ProducerApplication, Product, Unit

D = Decimal

# (name, position, colour of the generated pictures)
CATEGORIES = {
    "cagette47": [
        ("Légumes", 1, (47, 107, 58)),
        ("Fruits", 2, (176, 74, 40)),
        ("Œufs et produits laitiers", 3, (196, 150, 40)),
        ("Viandes", 4, (138, 40, 48)),
        ("Pain et épicerie", 5, (150, 100, 50)),
        ("Miel et confitures", 6, (200, 130, 20)),
        ("Boissons", 7, (90, 40, 90)),
    ],
    "emplettes": [
        ("Œufs et produits laitiers", 1, (196, 150, 40)),
        ("Légumineuses et farines", 2, (150, 100, 50)),
        ("Viandes", 3, (138, 40, 48)),
    ],
}

# Product: (name, category, unit, price incl. VAT, VAT rate, stock or None, estimated kg if sold by weight)
PRODUCERS = {
    "cagette47": [
        {
            "name": "Ferme des Coteaux de Gascogne",
            "town": "Nérac",
            "labels": "AB",
            "account": "producteur@cagette47.demo",
            "description": "Maraîchage diversifié sur 3 hectares, en agriculture biologique depuis 2009.",
            "contact_phone": "06 10 00 00 02",
            "products": [
                ("Tomates anciennes", "Légumes", Unit.KG, D("4.50"), D("5.5"), 30, None),
                ("Courgettes", "Légumes", Unit.KG, D("2.80"), D("5.5"), None, None),
                ("Salade batavia", "Légumes", Unit.PIECE, D("1.20"), D("5.5"), 40, None),
                ("Carottes", "Légumes", Unit.BUNCH, D("2.20"), D("5.5"), 25, None),
                ("Pommes de terre", "Légumes", Unit.KG, D("1.90"), D("5.5"), None, None),
                ("Poireaux", "Légumes", Unit.KG, D("3.20"), D("5.5"), 12, None),
                ("Radis roses", "Légumes", Unit.BUNCH, D("1.50"), D("5.5"), 3, None),
            ],
        },
        {
            "name": "Vergers de la Garonne",
            "town": "Aiguillon",
            "labels": "HVE",
            "description": "Pruniers d'ente, pommiers et poiriers en bord de Garonne.",
            "products": [
                ("Pruneaux d'Agen (500 g)", "Fruits", Unit.BAG, D("7.50"), D("5.5"), 50, None),
                ("Pommes Chantecler", "Fruits", Unit.KG, D("2.60"), D("5.5"), None, None),
                ("Poires Williams", "Fruits", Unit.KG, D("3.20"), D("5.5"), 20, None),
                ("Fraises Gariguette (500 g)", "Fruits", Unit.BOX, D("4.50"), D("5.5"), 0, None),
                ("Jus de pomme (1 L)", "Boissons", Unit.BOTTLE, D("3.80"), D("5.5"), 24, None),
            ],
        },
        {
            "name": "Les Poules de Montesquieu",
            "town": "Montesquieu",
            "labels": "AB, Plein air",
            "description": "Poules pondeuses et volailles élevées en plein air sur les coteaux.",
            "products": [
                ("Œufs plein air", "Œufs et produits laitiers", Unit.DOZEN, D("4.80"), D("5.5"), 40, None),
                (
                    "Œufs plein air (x6)",
                    "Œufs et produits laitiers",
                    Unit.HALF_DOZEN,
                    D("2.50"),
                    D("5.5"),
                    20,
                    None,
                ),
                ("Poulet fermier entier", "Viandes", Unit.KG, D("11.50"), D("5.5"), 8, D("1.800")),
            ],
        },
        {
            "name": "Chèvrerie du Pech",
            "town": "Penne-d'Agenais",
            "labels": "Bienvenue à la ferme",
            "account": "claire@demo.etal",
            "description": "Quarante chèvres alpines, fromages au lait cru moulés à la louche.",
            "contact_email": "chevrerie-du-pech@demo.etal",
            "products": [
                ("Crottin frais", "Œufs et produits laitiers", Unit.PIECE, D("2.20"), D("5.5"), 30, None),
                (
                    "Tomme de chèvre",
                    "Œufs et produits laitiers",
                    Unit.KG,
                    D("24.00"),
                    D("5.5"),
                    10,
                    D("0.300"),
                ),
                (
                    "Yaourt au lait de chèvre",
                    "Œufs et produits laitiers",
                    Unit.JAR,
                    D("1.10"),
                    D("5.5"),
                    48,
                    None,
                ),
                (
                    "Lait cru de chèvre (1 L)",
                    "Œufs et produits laitiers",
                    Unit.BOTTLE,
                    D("1.40"),
                    D("5.5"),
                    2,
                    None,
                ),
            ],
        },
        {
            "name": "Ferme de Lasbarthes",
            "town": "Laplume",
            "labels": "Label Rouge",
            "description": "Bœuf blond d'Aquitaine et porc noir gascon, découpe à la ferme.",
            "products": [
                ("Rôti de bœuf", "Viandes", Unit.KG, D("28.00"), D("5.5"), 6, D("1.000")),
                ("Côte de bœuf", "Viandes", Unit.KG, D("32.00"), D("5.5"), 4, D("1.200")),
                ("Saucisses de porc noir", "Viandes", Unit.KG, D("14.50"), D("5.5"), 15, D("0.500")),
                ("Steaks hachés (x4)", "Viandes", Unit.BOX, D("8.90"), D("5.5"), 20, None),
            ],
        },
        {
            "name": "Fournil de Layrac",
            "town": "Layrac",
            "labels": "AB",
            "description": "Pains au levain cuits au feu de bois, farines de blés anciens.",
            "products": [
                ("Pain de campagne (1 kg)", "Pain et épicerie", Unit.PIECE, D("5.20"), D("5.5"), 30, None),
                ("Baguette tradition", "Pain et épicerie", Unit.PIECE, D("1.30"), D("5.5"), 60, None),
                ("Pain aux noix", "Pain et épicerie", Unit.PIECE, D("4.50"), D("5.5"), 12, None),
                ("Fouace", "Pain et épicerie", Unit.PIECE, D("6.00"), D("5.5"), 8, None),
            ],
        },
        {
            "name": "Rucher de l'Albret",
            "town": "Mézin",
            "labels": "AB",
            "description": "Deux cents ruches sédentaires dans les landes et les coteaux de l'Albret.",
            "products": [
                ("Miel de fleurs (500 g)", "Miel et confitures", Unit.JAR, D("8.50"), D("5.5"), None, None),
                ("Miel d'acacia (500 g)", "Miel et confitures", Unit.JAR, D("10.00"), D("5.5"), 15, None),
                ("Pain d'épices", "Pain et épicerie", Unit.PIECE, D("6.50"), D("5.5"), 10, None),
                ("Confiture de prunes", "Miel et confitures", Unit.JAR, D("4.90"), D("5.5"), 20, None),
            ],
        },
        {
            "name": "Domaine du Pech de Buzet",
            "town": "Buzet-sur-Baïse",
            "labels": "AOP Buzet",
            "description": "Vins rouges et rosés de l'appellation Buzet, vinifiés au domaine.",
            "products": [
                ("Buzet rouge (75 cl)", "Boissons", Unit.BOTTLE, D("8.00"), D("20.0"), 36, None),
                ("Buzet rosé (75 cl)", "Boissons", Unit.BOTTLE, D("7.00"), D("20.0"), 24, None),
            ],
        },
    ],
    "emplettes": [
        {
            "name": "Coopérative du Lauragais",
            "town": "Villefranche-de-Lauragais",
            "labels": "AB",
            "account": "fournisseur@emplettes.demo",
            "description": "Légumineuses et céréales du Lauragais, triées et ensachées à la coopérative.",
            "products": [
                (
                    "Lentilles vertes (1 kg)",
                    "Légumineuses et farines",
                    Unit.BAG,
                    D("3.20"),
                    D("5.5"),
                    80,
                    None,
                ),
                ("Pois chiches (1 kg)", "Légumineuses et farines", Unit.BAG, D("3.50"), D("5.5"), 60, None),
                (
                    "Haricots lingots (500 g)",
                    "Légumineuses et farines",
                    Unit.BAG,
                    D("3.80"),
                    D("5.5"),
                    40,
                    None,
                ),
                (
                    "Farine de blé T65 (1 kg)",
                    "Légumineuses et farines",
                    Unit.BAG,
                    D("1.60"),
                    D("5.5"),
                    100,
                    None,
                ),
            ],
        },
        {
            "name": "Ferme avicole de Bessières",
            "town": "Bessières",
            "labels": "Plein air",
            "description": "Œufs et poulets élevés en plein air au nord de Toulouse.",
            "products": [
                ("Œufs frais", "Œufs et produits laitiers", Unit.DOZEN, D("3.60"), D("5.5"), 120, None),
                ("Poulet entier", "Viandes", Unit.KG, D("7.90"), D("5.5"), 30, D("1.600")),
                ("Cuisses de poulet", "Viandes", Unit.KG, D("9.50"), D("5.5"), 25, D("0.800")),
            ],
        },
        {
            "name": "Laiterie du Volvestre",
            "town": "Rieux-Volvestre",
            "labels": "",
            "description": "Lait et produits laitiers de vaches nourries à l'herbe.",
            "products": [
                (
                    "Lait demi-écrémé (1 L)",
                    "Œufs et produits laitiers",
                    Unit.BOTTLE,
                    D("1.05"),
                    D("5.5"),
                    200,
                    None,
                ),
                ("Yaourts nature (x4)", "Œufs et produits laitiers", Unit.BOX, D("2.10"), D("5.5"), 80, None),
                (
                    "Fromage blanc (500 g)",
                    "Œufs et produits laitiers",
                    Unit.JAR,
                    D("2.40"),
                    D("5.5"),
                    40,
                    None,
                ),
            ],
        },
        {
            "name": "Moulin de Castelnau",
            "town": "Castelnau-d'Estrétefonds",
            "labels": "",
            "description": "Moulin à meules de pierre : farines et pâtes de blé dur.",
            "products": [
                (
                    "Farine complète T110 (1 kg)",
                    "Légumineuses et farines",
                    Unit.BAG,
                    D("2.10"),
                    D("5.5"),
                    60,
                    None,
                ),
                (
                    "Pâtes de blé dur (500 g)",
                    "Légumineuses et farines",
                    Unit.BAG,
                    D("2.20"),
                    D("5.5"),
                    None,
                    None,
                ),
            ],
        },
        {
            # Claire sells here too, from her one catalogue (SHARED below): no products of its own.
            "name": "Chèvrerie du Pech",
            "town": "Penne-d'Agenais",
            "labels": "Bienvenue à la ferme",
            "account": "claire@demo.etal",
            "description": "Quarante chèvres alpines, fromages au lait cru moulés à la louche.",
            "contact_email": "chevrerie-du-pech@demo.etal",
            "products": [],
        },
    ],
}


def _font_and_text(name: str) -> tuple[ImageFont.ImageFont | ImageFont.FreeTypeFont, str]:
    """DejaVu (Debian's usual font) draws accents; Pillow's built-in font does not, so they go without."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", 56), name
    except OSError:
        plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
        return ImageFont.load_default(56), plain.replace("œ", "oe").replace("Œ", "Oe")


def _picture(name: str, colour: tuple[int, int, int]) -> ContentFile:
    font, name = _font_and_text(name)
    image = Image.new("RGB", (640, 480), colour)
    draw = ImageDraw.Draw(image)
    light = tuple(min(255, channel + 40) for channel in colour)
    draw.ellipse((380, -120, 760, 260), fill=light)
    draw.ellipse((-140, 300, 200, 640), fill=light)
    draw.multiline_text(
        (320, 240), textwrap.fill(name, 16), fill="white", anchor="mm", align="center", font=font
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return ContentFile(buffer.getvalue(), name="demo.png")


def seed(*, collective, accounts: dict) -> None:
    """Called inside the collective's schema. `accounts` maps the demo e-mails to their User objects."""
    if collective.slug not in PRODUCERS:
        return
    categories, colours = {}, {}
    for name, position, colour in CATEGORIES[collective.slug]:
        category = Category.objects.filter(name=name).first() or services.category_create(
            name=name, position=position
        )
        categories[name] = category
        colours[name] = colour
    for spec in PRODUCERS[collective.slug]:
        producer = Producer.objects.filter(name=spec["name"]).first()
        if producer is None:
            producer = services.producer_create(
                name=spec["name"],
                town=spec["town"],
                labels=spec["labels"],
                description=spec["description"],
                contact_email=spec.get("contact_email", ""),
                contact_phone=spec.get("contact_phone", ""),
            )
        if spec.get("account") in accounts:
            services.producer_account_link(producer=producer, user=accounts[spec["account"]])
        for name, category, unit, price, vat_rate, stock, weight in spec["products"]:
            if Product.objects.filter(producer=producer, name=name).exists():
                continue
            services.product_create(
                producer=producer,
                name=name,
                category=categories[category],
                unit=unit,
                price=price,
                vat_rate=vat_rate,
                stock=stock,
                is_variable_weight=weight is not None,
                estimated_weight_kg=weight,
                photo=_picture(name, colours[category]),
            )
    _agreement_seed(collective=collective, accounts=accounts)
    _shared_seed(collective=collective, accounts=accounts)
    _applications_seed(collective=collective, accounts=accounts)


# « Rejoindre comme producteur »: the drive has one application to examine and one accepted earlier.
APPLICATIONS = {
    "cagette47": {
        "coordinator": "coordination@cagette47.demo",
        "accepted": {
            "farm_name": "Le Rucher de Pujols",
            "contact_name": "Bastien Roux",
            "email": "rucher.pujols@exemple.demo",
            "phone": "06 20 30 40 50",
            "town": "Pujols",
            "department": "47",
            "categories": ["grocery"],
            "products": "Miel de fleurs et d'acacia, pain d'épices.",
            "labels": ["ab"],
            "selling_today": "Marché de Villeneuve-sur-Lot, le samedi.",
            "message": "Je peux livrer le point de retrait chaque vendredi.",
        },
        "pending": {
            "farm_name": "Vergers de la Lède",
            "contact_name": "Inès Barrau",
            "email": "vergers.lede@exemple.demo",
            "phone": "06 11 22 33 44",
            "town": "Monflanquin",
            "department": "47",
            "categories": ["fruits", "drinks"],
            "products": "Pommes, poires et prunes d'Ente ; jus de pomme.",
            "labels": ["hve", "bienvenue"],
            "selling_today": "Vente à la ferme et deux AMAP.",
            "message": "Nous cherchons un débouché près d'Agen.",
        },
    }
}


def _applications_seed(*, collective, accounts: dict) -> None:
    spec = APPLICATIONS.get(collective.slug)
    if spec is None or ProducerApplication.objects.exists():
        return
    accepted, _created = applications.application_submit(**spec["accepted"])
    applications.application_accept(
        collective=collective, application_id=accepted.pk, by=accounts[spec["coordinator"]]
    )
    applications.application_submit(**spec["pending"])


# Claire's one catalogue: her products of the drive are shared, offered to the buying group at its own prices;
# the buying group accepts them but the raw milk (its members asked for pasteurised milk only).
SHARED = {
    "account": "claire@demo.etal",
    "from": "cagette47",
    "to": "emplettes",
    "category": "Œufs et produits laitiers",
    "prices": {"Crottin frais": D("2.00"), "Yaourt au lait de chèvre": D("1.00")},
    "refused": {"Lait cru de chèvre (1 L)"},
}


def _shared_seed(*, collective, accounts: dict) -> None:
    if collective.slug != SHARED["to"] or SHARED["account"] not in accounts:
        return
    claire = accounts[SHARED["account"]]
    source = Collective.objects.get(slug=SHARED["from"])
    with tenant_context(source):
        own = list(
            Product.objects.filter(producer__accounts=claire, shared_product__isnull=True).order_by("pk")
        )
    for product in own:
        shared_catalogue.shared_product_create_from(collective=source, product_id=product.pk, user=claire)
    listed = set(
        SharedListing.objects.filter(collective=collective).values_list("shared_product_id", flat=True)
    )
    category = Category.objects.filter(name=SHARED["category"]).first()
    for shared in SharedProduct.objects.filter(owner=claire).exclude(pk__in=listed).order_by("pk"):
        copy = shared_catalogue.shared_product_offer(
            shared=shared, collective=collective, user=claire, price=SHARED["prices"].get(shared.name)
        )
        copy = shared_catalogue.product_link_decide(
            product_id=copy.pk, accept=shared.name not in SHARED["refused"]
        )
        services.product_update(product=copy, category=category)


# The buying group's prices are « stables sur une période discutée avec les fournisseurs »: an agreement with
# the Lauragais cooperative for the current quarter, computed from today so the demo works on any date.
AGREEMENTS = {
    "emplettes": {
        "producer": "Coopérative du Lauragais",
        "recorded_by": "coordination@emplettes.demo",
        "agreed_with": "Julien Marty (coopérative) et le labo d'usage du centre social",
        "note": "Prix discutés au labo d'usage : les légumineuses restent sous 3,50 € le kilo.",
        "prices": {"Lentilles vertes (1 kg)": D("2.90"), "Pois chiches (1 kg)": D("3.20")},
    },
}


def quarter_bounds(today: date) -> tuple[date, date]:
    """The first and last day of the quarter `today` is in."""
    first_month = 3 * ((today.month - 1) // 3) + 1
    start = date(today.year, first_month, 1)
    next_start = date(today.year + 1, 1, 1) if first_month == 10 else date(today.year, first_month + 3, 1)
    return start, next_start - timedelta(days=1)


def _agreement_seed(*, collective, accounts: dict) -> None:
    spec = AGREEMENTS.get(collective.slug)
    if spec is None or spec["recorded_by"] not in accounts:
        return
    producer = Producer.objects.filter(name=spec["producer"]).first()
    if producer is None or PriceAgreement.objects.filter(producer=producer).exists():
        return
    today = timezone.localdate()
    start, end = quarter_bounds(today)
    products = dict(Product.objects.filter(producer=producer).values_list("name", "pk"))
    agreements.agreement_record(
        producer=producer,
        recorded_by=accounts[spec["recorded_by"]],
        starts_on=start,
        ends_on=end,
        agreed_on=start - timedelta(days=10),
        agreed_with=spec["agreed_with"],
        note=spec["note"],
        prices={products[name]: price for name, price in spec["prices"].items() if name in products},
    )
