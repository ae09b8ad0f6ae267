"""The collective's current offer in the Data Food Consortium format (JSON-LD with the DFC context), as
Open Food Network and Cagette.net read it: a Catalog maintained by the collective (an Enterprise), listing
one CatalogItem per product of each open sale, offered through an Offer with its Price; each producer is an
Enterprise that supplies its SuppliedProducts. Open sales only: a draft, coming or closed sale is not
offered. Names no member, no order, no stock figure beyond what a shop visitor sees (what remains)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from orders.models import Offer
from producers import dfc

MEDIA_TYPE = "application/ld+json"


def current_offers() -> QuerySet[Offer]:
    """Offers of the sales open now (published, opened, not closed), with their producer and product."""
    now = timezone.now()
    return (
        Offer.objects.filter(
            sale__is_published=True,
            sale__opens_at__lte=now,
            sale__closes_at__gt=now,
            sale__closed_at__isnull=True,
        )
        .select_related("producer", "product__shared_product", "sale")
        .order_by("producer__name", "producer_id", "name", "pk")
    )


def _number(value: Decimal) -> int | float:
    """A JSON number (the JSON-LD boundary: money stays Decimal everywhere else)."""
    return int(value) if value == value.to_integral_value() else float(value)


def catalogue_document(*, collective, offers) -> dict:
    base = f"{collective.base_url}/dfc"
    catalog_id = f"{base}/catalogue.jsonld"
    collective_id = f"{base}/enterprises/collectif"
    graph: list[dict] = []
    producers: dict[int, dict] = {}
    products: dict[int, dict] = {}
    items = []
    for offer in offers:
        producer = producers.get(offer.producer_id)
        if producer is None:
            producer = producers[offer.producer_id] = {
                "@id": f"{base}/enterprises/{offer.producer_id}",
                "@type": "dfc-b:Enterprise",
                "dfc-b:name": offer.producer.name,
                "dfc-b:hasDescription": offer.producer.description,
                "dfc-b:supplies": [],
                "dfc-b:manages": [],
            }
        product_id = f"{base}/products/{offer.product_id}"
        item_id = f"{base}/catalog-items/{offer.pk}"
        offer_id = f"{base}/offers/{offer.pk}"
        if offer.product_id not in products:
            unit, amount = dfc.measure(offer.unit)
            products[offer.product_id] = {
                "@id": product_id,
                "@type": "dfc-b:SuppliedProduct",
                "dfc-b:name": offer.name,
                "dfc-b:description": offer.product.description,
                "dfc-b:hasQuantity": {
                    "@type": "dfc-b:QuantitativeValue",
                    "dfc-b:hasUnit": f"dfc-m:{unit}",
                    "dfc-b:value": _number(amount),
                },
                "dfc-b:referencedBy": [],
            }
            producer["dfc-b:supplies"].append(product_id)
        products[offer.product_id]["dfc-b:referencedBy"].append(item_id)
        producer["dfc-b:manages"].append(item_id)
        item = {
            "@id": item_id,
            "@type": "dfc-b:CatalogItem",
            "dfc-b:references": product_id,
            "dfc-b:sku": str(offer.product_id),
            "dfc-b:offeredThrough": offer_id,
        }
        offer_node = {
            "@id": offer_id,
            "@type": "dfc-b:Offer",
            "dfc-b:offeredItem": {"@id": item_id},
            "dfc-b:hasPrice": {
                "@type": "dfc-b:Price",
                "dfc-b:value": _number(offer.price),
                "dfc-b:VATrate": _number(offer.vat_rate),
                "dfc-b:hasUnit": "dfc-m:Euro",
            },
        }
        if offer.remaining is not None:
            item["dfc-b:stockLimitation"] = offer.remaining
            offer_node["dfc-b:stockLimitation"] = offer.remaining
        items.append(item_id)
        graph += [item, offer_node]
    graph[:0] = [
        {
            "@id": catalog_id,
            "@type": "dfc-b:Catalog",
            "dfc-b:maintainedBy": {"@id": collective_id},
            "dfc-b:lists": [{"@id": item_id} for item_id in items],
        },
        {
            "@id": collective_id,
            "@type": "dfc-b:Enterprise",
            "dfc-b:name": collective.name,
            "dfc-b:hasDescription": collective.description,
            "dfc-b:maintains": {"@id": catalog_id},
        },
        *producers.values(),
        *products.values(),
    ]
    return {"@context": dfc.CONTEXT_URL, "@graph": graph}
