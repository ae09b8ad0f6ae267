"""Catalogue objects for tests, made through the services (so photos, search text and links are real)."""

from __future__ import annotations

import io
from decimal import Decimal

from django.db import connection
from django_tenants.utils import tenant_context
from PIL import Image

from producers import services
from producers.models import (
    Category,
    ImportJob,
    Producer,
    ProducerAccount,
    ProducerApplication,
    Product,
    Unit,
)


def png(size=(800, 600), colour=(200, 60, 20), name="photo.png") -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = name
    return buffer


def producer(name: str = "Ferme du Test", *, accounts=(), **fields) -> Producer:
    made = services.producer_create(name=name, town=fields.pop("town", "Nérac"), **fields)
    for account in accounts:
        services.producer_account_link(producer=made, user=account)
    return made


def product(owner: Producer, name: str = "Tomates", **fields) -> Product:
    values = {"price": Decimal("3.50"), "unit": Unit.KG, "vat_rate": Decimal("5.5"), **fields}
    return services.product_create(producer=owner, name=name, **values)


def products_bulk(owner: Producer, count: int, *, category: Category | None = None, start: int = 0) -> None:
    """Many products at once (query-count tests): a mix of stocks, of variable weight, all with thumbnails."""
    made = []
    for number in range(start, start + count):
        variable = number % 3 == 0
        made.append(
            Product(
                producer=owner,
                category=category,
                name=f"Produit {number:04d}",
                search_text=f" produit {number:04d} ",
                unit=Unit.KG if variable else Unit.PIECE,
                price=Decimal("2.00") + number,
                stock=[None, 0, 2, 12][number % 4],
                is_variable_weight=variable,
                estimated_weight_kg=Decimal("0.250") if variable else None,
                thumbnail=f"{connection.schema_name}/products/p{number}-320.jpg",
            )
        )
    Product.objects.bulk_create(made)


def catalogue_ids(cast) -> dict[str, int]:
    """A catalogue in `cast`'s collective managed by its producer, and the URL ids that point at it."""
    with tenant_context(cast.collective):
        category = services.category_create(name="Légumes secrets")
        farm = producer("Ferme secrète", accounts=[cast.producer])
        item = product(farm, "Produit secret", category=category, stock=4)
        job = services.import_job_create(
            producer=farm,
            created_by=cast.producer,
            file_name="c.csv",
            content=b"nom;prix TTC (\xe2\x82\xac)\n",
        )
        application = ProducerApplication.objects.create(  # « Rejoindre comme producteur »
            farm_name="Candidature secrète",
            contact_name="Candidate secrète",
            email=f"candidate@{cast.collective.slug}.test",
            town="Nérac",
            department="47",
            categories=["vegetables"],
            products="Légumes",
        )
    return {
        "application_id": application.pk,
        "producer_id": farm.pk,
        "product_id": item.pk,
        "category_id": category.pk,
        "job_id": job.pk,
        "user_id": cast.producer.pk,
    }


def catalogue_state(cast) -> tuple:
    """Everything of the catalogue of `cast`'s collective that a write could change."""
    with tenant_context(cast.collective):
        return (
            sorted(Category.objects.values_list("pk", "name", "position")),
            sorted(Producer.objects.values_list("pk", "name", "is_active", "description")),
            sorted(ProducerAccount.objects.values_list("producer_id", "user_id")),
            sorted(Product.objects.values_list("pk", "producer_id", "name", "price", "stock", "is_active")),
            sorted(ImportJob.objects.values_list("pk", "applied_at")),
            sorted(ProducerApplication.objects.values_list("pk", "status", "producer_id")),
        )


def png_header_only(width: int, height: int, name: str = "photo.png") -> io.BytesIO:
    """A valid, tiny PNG file that claims width × height pixels: what a decompression bomb looks like to a
    form that only reads the header (a few hundred bytes for 150 megapixels)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    buffer = io.BytesIO(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1024))
        + chunk(b"IEND", b"")
    )
    buffer.name = name
    return buffer


def lab_ids(cast) -> dict[str, int]:
    """A living lab in `cast`'s collective: a group, a proposal adopted in a session, its product request
    to a supplier managed by its producer; the URL ids that point at them."""
    from django.utils import timezone

    from pickup_points import groups
    from pickup_points.models import LabGroup
    from producers.lab import services as lab
    from producers.models import Outcome

    with tenant_context(cast.collective):
        group = groups.lab_group_create(name="Groupe secret", kind=LabGroup.Kind.SITE, pickup_point=None)
        supplier = producer("Fournisseur du labo secret", accounts=[cast.producer])
        proposal = lab.proposal_create(
            author=cast.member,
            group=None,
            title="Proposition secrète",
            reason="Raison secrète.",
            supplier=supplier,
        )
        lab.proposal_comment_add(proposal=proposal, author=cast.member, text="Commentaire secret.")
        session = lab.lab_session_create(
            group=None,
            starts_at=timezone.now(),
            place="Lieu secret",
            proposals=[proposal],
            created_by=cast.coordinator,
        )
        decision = lab.lab_decision_record(
            session=session,
            proposal_id=proposal.pk,
            outcome=Outcome.ADOPTED,
            reason="Décision secrète.",
            decided_by=cast.coordinator,
        )
    return {
        "lab_group_id": group.pk,
        "proposal_id": proposal.pk,
        "session_id": session.pk,
        "request_id": decision.product_request.pk,
        "lab_producer_id": supplier.pk,
    }


def lab_state(cast) -> tuple:
    from pickup_points.models import LabGroup, LabGroupMember
    from producers.models import (
        LabDecision,
        LabSession,
        ProductRequest,
        Proposal,
        ProposalComment,
        ProposalSupport,
    )

    with tenant_context(cast.collective):
        return (
            sorted(LabGroup.objects.values_list("pk", "name")),
            sorted(LabGroupMember.objects.values_list("user_id", "group_id")),
            sorted(Proposal.objects.values_list("pk", "title", "status")),
            ProposalSupport.objects.count(),
            ProposalComment.objects.count(),
            sorted(LabSession.objects.values_list("pk", "place")),
            LabDecision.objects.count(),
            sorted(ProductRequest.objects.values_list("pk", "product_id")),
        )
