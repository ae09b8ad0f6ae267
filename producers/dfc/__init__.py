"""The Data Food Consortium (DFC) vocabulary that Étal speaks: the vendored JSON-LD context (see
SOURCE.md), the units of measure, and reading a DFC catalogue into the rows of the catalogue import.

A DFC catalogue is a graph: enterprises supply SuppliedProducts; a CatalogItem references a product and is
offered through Offers, each with a Price (value, VAT rate). Étal's export writes the price *including VAT*
as the Price's value, with its VATrate beside it, and reads an imported file the same way.

An imported file is read with or without the context's prefixes: `dfc-b:name`, the full IRI of the
business ontology (its current address or the older static.datafoodconsortium.org one), or a bare `name`
under a context that maps it. Reading never writes: it only turns the file into the spreadsheet-like rows
that producers.catalogue validates, shows for review, and imports all or nothing.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.utils.translation import gettext as _

from producers.models import Unit

CONTEXT_URL = "https://www.datafoodconsortium.org/ontologies/context.json"
# The addresses the same context is published at (a document loader answers them from the vendored copy).
CONTEXT_URLS = {
    CONTEXT_URL,
    "http://www.datafoodconsortium.org/ontologies/context.json",
    "http://static.datafoodconsortium.org/ontologies/context.json",
    "https://static.datafoodconsortium.org/ontologies/context.json",
}
CONTEXT_DOCUMENT: dict = json.loads((Path(__file__).with_name("context.json")).read_text(encoding="utf-8"))
PREFIXES: dict[str, str] = {
    key: value for key, value in CONTEXT_DOCUMENT["@context"].items() if isinstance(value, str)
}
DFC_B = PREFIXES["dfc-b"]
DFC_M = PREFIXES["dfc-m"]
_BUSINESS_IRIS = (DFC_B, "http://static.datafoodconsortium.org/ontologies/DFC_BusinessOntology.owl#")
_MEASURE_IRIS = (DFC_M, "http://static.datafoodconsortium.org/data/measures.rdf#")

# The classes the export uses (DFC business ontology).
CLASSES = {"Catalog", "CatalogItem", "Offer", "Price", "SuppliedProduct", "Enterprise", "QuantitativeValue"}

# The business ontology's properties the export writes (as the DFC connectors name them).
PROPERTIES = {
    "name",
    "description",
    "hasDescription",
    "hasQuantity",
    "hasUnit",
    "value",
    "supplies",
    "manages",
    "maintainedBy",
    "maintains",
    "lists",
    "references",
    "referencedBy",
    "sku",
    "stockLimitation",
    "offeredThrough",
    "offeredItem",
    "hasPrice",
    "VATrate",
}
# The measures (dfc-m:) the export names.
MEASURES = {"Piece", "Kilogram", "Gram", "Litre", "Euro"}

# Étal's unit → (DFC measure, how many of it). Units the DFC has no measure for are pieces.
UNIT_MEASURES: dict[str, tuple[str, Decimal]] = {
    Unit.PIECE: ("Piece", Decimal(1)),
    Unit.KG: ("Kilogram", Decimal(1)),
    Unit.G: ("Gram", Decimal(1)),
    Unit.LITRE: ("Litre", Decimal(1)),
    Unit.DOZEN: ("Piece", Decimal(12)),
    Unit.HALF_DOZEN: ("Piece", Decimal(6)),
}
_MEASURE_UNITS = {"Kilogram": Unit.KG, "Gram": Unit.G, "Litre": Unit.LITRE, "Piece": Unit.PIECE}
_MEASURE_SYMBOLS = {"Kilogram": "kg", "Gram": "g", "Litre": "l", "Piece": "×"}

DFC_MAX_NODES = 20000


class DfcFileError(Exception):
    """The file is not a DFC catalogue Étal can read; str() says why, in French."""


def measure(unit: str) -> tuple[str, Decimal]:
    return UNIT_MEASURES.get(unit, ("Piece", Decimal(1)))


def _local(name: str, namespaces: tuple[str, ...], prefix: str) -> str | None:
    """`dfc-b:name`, `<namespace>name` → "name"; anything else → None."""
    if name.startswith(prefix + ":"):
        return name[len(prefix) + 1 :]
    for namespace in namespaces:
        if name.startswith(namespace):
            return name[len(namespace) :]
    return None


def _term(key: str, aliases: dict[str, str]) -> str | None:
    key = aliases.get(key, key)
    return _local(key, _BUSINESS_IRIS, "dfc-b")


def _aliases(document) -> dict[str, str]:
    """Bare terms a file's own context maps to DFC IRIs (`"name": "dfc-b:name"`)."""
    context = document.get("@context") if isinstance(document, dict) else None
    contexts = context if isinstance(context, list) else [context]
    aliases = {}
    for item in contexts:
        if isinstance(item, dict):
            for key, value in item.items():
                target = value.get("@id") if isinstance(value, dict) else value
                if isinstance(target, str) and not key.startswith("@") and ":" not in key:
                    aliases[key] = target
    return aliases


def _nodes(document) -> dict[str, dict]:
    """Every node of the graph by @id (nested nodes flattened, blank ones numbered), its properties keyed
    by their DFC local name, its types as DFC class names."""
    aliases = _aliases(document)
    nodes: dict[str, dict] = {}
    counter = 0

    def visit(value):
        nonlocal counter
        if isinstance(value, list):
            return [visit(item) for item in value]
        if not isinstance(value, dict):
            return value
        if "@value" in value:
            return value["@value"]
        if set(value) == {"@id"}:
            # A reference names a node by a string; anything else is not one (and would not be a key).
            return {"@ref": value["@id"]} if isinstance(value["@id"], str) else None
        if len(nodes) > DFC_MAX_NODES:
            raise DfcFileError(_("Ce catalogue DFC est trop gros : 2000 produits au plus."))
        node_id = value.get("@id")
        if not isinstance(node_id, str):
            counter += 1
            node_id = f"_:etal{counter}"
        node = nodes.setdefault(node_id, {"@types": set()})
        types = value.get("@type", [])
        for kind in types if isinstance(types, list) else [types]:
            if isinstance(kind, str) and (name := _term(kind, aliases)):
                node["@types"].add(name)
        for key, item in value.items():
            if key.startswith("@"):
                if key == "@graph":
                    visit(item)
                continue
            name = _term(key, aliases)
            if name is not None:
                node[name] = visit(item)
        return {"@ref": node_id}

    visit(document)
    return nodes


def _first(value):
    return value[0] if isinstance(value, list) and value else (None if isinstance(value, list) else value)


def _refs(value) -> list[str]:
    items = value if isinstance(value, list) else [value]
    refs = []
    for item in items:
        if isinstance(item, dict) and "@ref" in item:
            refs.append(item["@ref"])
        elif isinstance(item, str):
            refs.append(item)
    return refs


def _text(value) -> str:
    value = _first(value)
    return "" if value is None or isinstance(value, dict) else str(value).strip()


def _number(value) -> Decimal | None:
    value = _first(value)
    if value is None or isinstance(value, dict | bool):
        return None
    try:
        return Decimal(str(value).replace(",", "."))
    except InvalidOperation:
        return None


def _linked(nodes: dict[str, dict], value) -> dict | None:
    refs = _refs(value)
    return nodes.get(refs[0]) if refs else None


def catalogue_rows(content: bytes) -> list[dict]:
    """The SuppliedProducts of a DFC JSON-LD file as rows of the catalogue import (attribute → cell).
    Raises DfcFileError when the file is not JSON, or holds no DFC product."""
    try:
        document = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise DfcFileError(
            _("Ce fichier n'est pas du JSON-LD lisible : exportez le catalogue DFC à nouveau.")
        ) from None
    if not isinstance(document, dict | list):
        raise DfcFileError(_("Ce fichier ne contient pas de catalogue DFC."))
    nodes = _nodes(document)
    items_of: dict[str, list[dict]] = {}
    for node in nodes.values():
        if "CatalogItem" in node["@types"]:
            for product_id in _refs(node.get("references")):
                items_of.setdefault(product_id, []).append(node)
    rows = []
    for node_id, node in nodes.items():
        if "SuppliedProduct" not in node["@types"]:
            continue
        row = {"name": _text(node.get("name")), "description": _text(node.get("description"))}
        quantity = _linked(nodes, node.get("hasQuantity")) if "hasQuantity" in node else None
        unit_name = None
        amount = None
        if quantity is not None:
            unit_ref = _first(_refs(quantity.get("hasUnit"))) if quantity.get("hasUnit") else None
            unit_name = _local(unit_ref, _MEASURE_IRIS, "dfc-m") if isinstance(unit_ref, str) else None
            amount = _number(quantity.get("value"))
        unit = _MEASURE_UNITS.get(unit_name or "", Unit.PIECE)
        if unit_name in _MEASURE_UNITS and amount not in (None, Decimal(1)):
            # 500 g sold as one bag: one piece, the quantity said in the description.
            unit = Unit.PIECE
            size = f"{amount.normalize():f} {_MEASURE_SYMBOLS[unit_name]}".replace(".", ",")
            # Said once: a description that says it already (a file exported from here) keeps as it is.
            if size not in row["description"].split(" – "):
                row["description"] = " – ".join(part for part in [row["description"], size] if part)
        row["unit"] = str(unit)
        stock = _number(node.get("totalTheoreticalStock"))
        price = vat = None
        for item in items_of.get(node_id, []):
            stock = _number(item.get("stockLimitation")) if item.get("stockLimitation") is not None else stock
            for offer_id in _refs(item.get("offeredThrough")):
                offer = nodes.get(offer_id) or {}
                price_node = _linked(nodes, offer.get("hasPrice")) if offer.get("hasPrice") else None
                if price_node is not None:
                    price = _number(price_node.get("value"))
                    vat = _number(price_node.get("VATrate"))
                elif offer.get("price") is not None:
                    price = _number(offer.get("price"))
                if offer.get("stockLimitation") is not None:
                    stock = _number(offer.get("stockLimitation"))
                if price is not None:
                    break
        row["price"] = "" if price is None else f"{price}"
        # DFC files often carry no VAT rate: food's 5.5 % then, shown in the review before anything is kept.
        row["vat_rate"] = f"{vat if vat is not None else Decimal('5.5')}"
        row["stock"] = "" if stock is None else f"{stock.normalize():f}"
        rows.append(row)
    if not rows:
        raise DfcFileError(_("Ce fichier ne contient aucun produit DFC : est-ce bien un catalogue DFC ?"))
    return rows
