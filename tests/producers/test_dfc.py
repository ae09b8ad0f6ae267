"""The open catalogue: a collective's current offer in the Data Food Consortium format (JSON-LD), valid
against the vendored DFC context, and a DFC catalogue imported into a producer's catalogue after review."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.utils import timezone
from pyld import jsonld

from orders.models import Sale
from orders.sales import services as sale_services
from pickup_points import services as point_services
from producers import dfc
from producers.models import ImportJob, Product
from tests.producers import factories
from tests.producers.conftest import back_to
from tests.producers.conftest import read as text

RDF_TYPE = "@type"


def _sale(point, producers, *, title: str, opens_in_days: int, publish: bool = True) -> Sale:
    now = timezone.now()
    return sale_services.sale_create(
        title=title,
        opens_at=now + timedelta(days=opens_in_days),
        closes_at=now + timedelta(days=opens_in_days + 3),
        distribution_starts_at=now + timedelta(days=opens_in_days + 5),
        distribution_ends_at=now + timedelta(days=opens_in_days + 5, hours=2),
        points=[point],
        producers=producers,
        publish=publish,
    )


@pytest.fixture
def offer_world(in_alpha, farm):
    """Alpha: tomatoes and a bottle of wine in an open sale; a cheese only in a sale opening next week and
    a jam only in a draft."""
    tomatoes = factories.product(farm, "Tomates anciennes", unit="kg", price=Decimal("4.50"), stock=30)
    wine = factories.product(
        farm, "Vin rouge", unit="bottle", price=Decimal("8.00"), vat_rate=Decimal("20.0"), stock=None
    )
    point = point_services.point_create(
        name="Salle des fêtes", address="1 place", town="Agen", slot_minutes=30, slot_capacity=3
    )
    open_sale = _sale(point, [farm], title="Vente ouverte", opens_in_days=-1)
    cheese = factories.product(farm, "Tomme", price=Decimal("5.00"), stock=5)
    jam = factories.product(farm, "Confiture", unit="jar", price=Decimal("3.20"), stock=5)
    open_sale.offers.filter(product__in=[cheese, jam]).delete()
    coming = _sale(point, [farm], title="Vente à venir", opens_in_days=6)
    coming.offers.exclude(product=cheese).delete()
    draft = _sale(point, [farm], title="Brouillon", opens_in_days=-1, publish=False)
    draft.offers.exclude(product=jam).delete()
    return {"tomatoes": tomatoes, "wine": wine, "cheese": cheese, "jam": jam, "open_sale": open_sale}


def _loader(url, options=None):
    """The JSON-LD document loader of the tests: the DFC context from the vendored copy, nothing else
    (there is no network here, and a validation must not depend on one)."""
    if url in dfc.CONTEXT_URLS:
        return {"contextUrl": None, "documentUrl": url, "document": dfc.CONTEXT_DOCUMENT}
    raise jsonld.JsonLdError(
        "not vendored", "loading document failed", {"url": url}, code="loading document failed"
    )


def _expanded_nodes(expanded):
    """Every node object of an expanded JSON-LD document, nested ones included."""
    stack = list(expanded)
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict) and "@value" not in node:
            yield node
            for key, value in node.items():
                if not key.startswith("@") or key == "@graph":
                    stack.append(value)


def test_the_dfc_export_lists_the_open_sales_offers_only(browse, in_alpha, offer_world):
    response = browse(in_alpha).get("/dfc/catalogue.jsonld")
    assert response.status_code == 200 and response["Content-Type"] == "application/ld+json"
    document = json.loads(response.content)
    nodes = document["@graph"]
    products = {node["dfc-b:name"]: node for node in nodes if node["@type"] == "dfc-b:SuppliedProduct"}
    assert set(products) == {"Tomates anciennes", "Vin rouge"}  # not the coming sale's, not the draft's
    prices = {node["@id"]: node["dfc-b:hasPrice"] for node in nodes if node["@type"] == "dfc-b:Offer"}
    items = {node["@id"]: node for node in nodes if node["@type"] == "dfc-b:CatalogItem"}
    tomatoes_item = next(
        item for item in items.values() if item["dfc-b:references"] == products["Tomates anciennes"]["@id"]
    )
    assert prices[tomatoes_item["dfc-b:offeredThrough"]] == {
        "@type": "dfc-b:Price",
        "dfc-b:value": 4.5,
        "dfc-b:VATrate": 5.5,
        "dfc-b:hasUnit": "dfc-m:Euro",
    }
    assert tomatoes_item["dfc-b:stockLimitation"] == 30
    assert products["Tomates anciennes"]["dfc-b:hasQuantity"]["dfc-b:hasUnit"] == "dfc-m:Kilogram"
    enterprises = {node["dfc-b:name"] for node in nodes if node["@type"] == "dfc-b:Enterprise"}
    assert enterprises == {"Drive Alpha", "Ferme des Coteaux"}
    catalog = next(node for node in nodes if node["@type"] == "dfc-b:Catalog")
    assert {ref["@id"] for ref in catalog["dfc-b:lists"]} == set(items)
    # The address is stable: the same ids on the next request.
    assert json.loads(browse(in_alpha).get("/dfc/catalogue.jsonld").content) == document


def test_the_dfc_export_is_valid_against_the_dfc_context(browse, in_alpha, offer_world):
    document = json.loads(browse(in_alpha).get("/dfc/catalogue.jsonld").content)
    assert document["@context"] == dfc.CONTEXT_URL
    expanded = jsonld.expand(document, {"documentLoader": _loader})
    nodes = list(_expanded_nodes(expanded))
    assert len(nodes) >= 12
    for node in nodes:
        for kind in node.get("@type", []):
            assert kind.startswith(dfc.DFC_B) and kind.removeprefix(dfc.DFC_B) in dfc.CLASSES, kind
        for key, values in node.items():
            if key.startswith("@"):
                continue
            # A term the context does not define would expand to a foreign IRI, or be dropped.
            assert key.startswith(dfc.DFC_B) and key.removeprefix(dfc.DFC_B) in dfc.PROPERTIES, key
            if key == dfc.DFC_B + "hasUnit":
                unit = values[0]["@id"]
                assert unit.startswith(dfc.DFC_M) and unit.removeprefix(dfc.DFC_M) in dfc.MEASURES, unit
    compact_keys = set()
    for node in document["@graph"]:
        stack = [node]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                compact_keys |= {key for key in item if not key.startswith("@")}
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    assert compact_keys and all(key.startswith("dfc-b:") for key in compact_keys)
    # Nothing was dropped by the expansion: the same number of typed nodes on both sides.
    typed = sum(1 for node in nodes if node.get("@type"))
    assert typed == sum(1 for node in document["@graph"]) + sum(
        1
        for node in document["@graph"]
        for value in node.values()
        if isinstance(value, dict) and "@type" in value
    )


def test_an_invitation_only_collective_publishes_no_dfc_catalogue(browse, beta, public_host):
    assert browse(beta).get("/dfc/catalogue.jsonld").status_code == 404
    assert browse(public_host).get("/dfc/catalogue.jsonld").status_code == 404


# Import ----------------------------------------------------------------------------------------------------


def _committed(request):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return request()


def _upload(client, producer, name: str, content: bytes):
    return _committed(
        lambda: client.post(
            f"/producteurs/{producer.pk}/importer/", {"file": SimpleUploadedFile(name, content)}
        )
    )


OFN_STYLE = {
    "@context": "https://www.datafoodconsortium.org/ontologies/context.json",
    "@graph": [
        {
            "@id": "https://ofn.example/api/dfc/enterprises/10",
            "@type": "dfc-b:Enterprise",
            "dfc-b:name": "Ferme du Lot",
            "dfc-b:supplies": ["https://ofn.example/api/dfc/supplied_products/1"],
        },
        {
            "@id": "https://ofn.example/api/dfc/supplied_products/1",
            "@type": "dfc-b:SuppliedProduct",
            "dfc-b:name": "Pommes reinettes",
            "dfc-b:description": "Vergers du Lot",
            "dfc-b:hasQuantity": {
                "@type": "dfc-b:QuantitativeValue",
                "dfc-b:hasUnit": "dfc-m:Kilogram",
                "dfc-b:value": 1,
            },
        },
        {
            "@id": "https://ofn.example/api/dfc/catalog_items/1",
            "@type": "dfc-b:CatalogItem",
            "dfc-b:references": "https://ofn.example/api/dfc/supplied_products/1",
            "dfc-b:stockLimitation": 40,
            "dfc-b:offeredThrough": "https://ofn.example/api/dfc/offers/1",
        },
        {
            "@id": "https://ofn.example/api/dfc/offers/1",
            "@type": "dfc-b:Offer",
            "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": 2.9, "dfc-b:VATrate": 5.5},
        },
        {
            # Full IRIs, no prefix: read the same way. 250 g a jar: one piece, the size in the description.
            "@id": "https://ofn.example/api/dfc/supplied_products/2",
            "@type": dfc.DFC_B + "SuppliedProduct",
            dfc.DFC_B + "name": "Miel de châtaignier",
            dfc.DFC_B + "hasQuantity": {
                "@type": dfc.DFC_B + "QuantitativeValue",
                dfc.DFC_B + "hasUnit": {"@id": dfc.DFC_M + "Gram"},
                dfc.DFC_B + "value": 250,
            },
            dfc.DFC_B + "totalTheoreticalStock": 12,
        },
        {
            "@id": "https://ofn.example/api/dfc/catalog_items/2",
            "@type": "dfc-b:CatalogItem",
            "dfc-b:references": "https://ofn.example/api/dfc/supplied_products/2",
            "dfc-b:offeredThrough": {
                "@id": "https://ofn.example/api/dfc/offers/2",
                "@type": "dfc-b:Offer",
                "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": "7.50", "dfc-b:VATrate": "5.5"},
            },
        },
    ],
}


def test_a_producer_imports_a_dfc_catalogue_after_review(browse, in_alpha, farm):
    client = browse(in_alpha, in_alpha.producer)
    upload = client.get(f"/producteurs/{farm.pk}/importer/")
    assert "catalogue DFC (.json, .jsonld)" in text(upload)
    response = _upload(client, farm, "catalogue-ofn.jsonld", json.dumps(OFN_STYLE).encode())
    assert response.status_code == 302, response.content[:2000]
    back_to(in_alpha.collective)
    assert not Product.objects.filter(producer=farm).exists()  # nothing before the confirmation
    review = client.get(response["Location"])
    page = text(review)
    assert "2 nouveaux produits" in page and "Pommes reinettes" in page and "Miel de châtaignier" in page
    _committed(lambda: client.post(review.request["PATH_INFO"]))
    back_to(in_alpha.collective)
    products = {product.name: product for product in Product.objects.filter(producer=farm)}
    assert set(products) == {"Pommes reinettes", "Miel de châtaignier"}
    apples, honey = products["Pommes reinettes"], products["Miel de châtaignier"]
    assert (apples.unit, apples.price, apples.vat_rate, apples.stock) == (
        "kg",
        Decimal("2.90"),
        Decimal("5.5"),
        40,
    )
    assert apples.description == "Vergers du Lot"
    assert (honey.unit, honey.price, honey.stock) == ("piece", Decimal("7.50"), 12)
    assert honey.description == "250 g"
    assert ImportJob.objects.get(producer=farm).state == ImportJob.State.APPLIED


def test_the_export_of_one_collective_imports_into_a_producers_catalogue(browse, in_alpha, farm, offer_world):
    exported = browse(in_alpha).get("/dfc/catalogue.jsonld").content
    back_to(in_alpha.collective)
    other = factories.producer("Ferme Voisine", accounts=[in_alpha.producer])
    client = browse(in_alpha, in_alpha.producer)
    review = client.get(_upload(client, other, "alpha.json", exported)["Location"])
    _committed(lambda: client.post(review.request["PATH_INFO"]))
    back_to(in_alpha.collective)
    imported = dict(Product.objects.filter(producer=other).values_list("name", "price"))
    assert imported == {"Tomates anciennes": Decimal("4.50"), "Vin rouge": Decimal("8.00")}
    assert Product.objects.get(producer=other, name="Vin rouge").vat_rate == Decimal("20.0")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{ pas du json", "Ce fichier n'est pas du JSON-LD lisible"),
        (
            json.dumps({"@context": dfc.CONTEXT_URL, "@graph": []}).encode(),
            "Ce fichier ne contient aucun produit DFC",
        ),
        (b"[1, 2, 3]", "Ce fichier ne contient aucun produit DFC"),
    ],
)
def test_a_bad_dfc_file_gets_a_clear_message_and_nothing_is_written(browse, in_alpha, farm, content, message):
    client = browse(in_alpha, in_alpha.producer)
    review = client.get(_upload(client, farm, "catalogue.json", content)["Location"])
    assert message in text(review)
    back_to(in_alpha.collective)
    assert not Product.objects.filter(producer=farm).exists()


def test_a_dfc_product_without_price_stops_the_whole_import(browse, in_alpha, farm):
    broken = json.loads(json.dumps(OFN_STYLE))
    del broken["@graph"][3]["dfc-b:hasPrice"]  # the apples' offer has no price any more
    client = browse(in_alpha, in_alpha.producer)
    review = client.get(_upload(client, farm, "catalogue.json", json.dumps(broken).encode())["Location"])
    page = text(review)
    assert "Pommes reinettes" in page and "prix TTC (€) :" in page
    _committed(lambda: client.post(review.request["PATH_INFO"]))
    back_to(in_alpha.collective)
    assert not Product.objects.filter(producer=farm).exists()  # not even the honey


def test_the_dfc_export_reads_in_a_fixed_number_of_queries(
    browse, in_alpha, farm, offer_world, django_assert_max_num_queries
):
    client = browse(in_alpha)
    with django_assert_max_num_queries(12) as few:
        client.get("/dfc/catalogue.jsonld")
    back_to(in_alpha.collective)
    for number in range(20):
        product = factories.product(farm, f"Légume {number}", price=Decimal("1.00"), stock=3)
        offer_world["open_sale"].offers.create(
            product=product,
            producer=farm,
            name=product.name,
            unit=product.unit,
            price=product.price,
            vat_rate=product.vat_rate,
            quantity=3,
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/dfc/catalogue.jsonld")
    assert sum(1 for node in json.loads(response.content)["@graph"] if node["@type"] == "dfc-b:Offer") == 22


def test_a_size_already_in_the_description_is_not_said_twice():
    """A file whose product already says « 250 g » in its description (one exported from a catalogue that
    imported it before) keeps it once; a product without it gets it added."""
    document = copy.deepcopy(OFN_STYLE)
    honey = next(node for node in document["@graph"] if node["@id"].endswith("supplied_products/2"))
    honey[dfc.DFC_B + "description"] = "Miel de châtaignier – 250 g"
    rows = {row["name"]: row for row in dfc.catalogue_rows(json.dumps(document).encode())}
    assert rows["Miel de châtaignier"]["description"] == "Miel de châtaignier – 250 g"
    honey[dfc.DFC_B + "description"] = "Récolte d'automne"
    rows = {row["name"]: row for row in dfc.catalogue_rows(json.dumps(document).encode())}
    assert rows["Miel de châtaignier"]["description"] == "Récolte d'automne – 250 g"
