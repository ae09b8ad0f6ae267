"""The PDF sheets of a sale (per producer, per pickup point, the whole sale), in private storage."""

from __future__ import annotations

from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketplace.storage import private_storage
from orders.models.sales import Sale
from pickup_points.models import PickupPoint
from producers.models import Producer


def sheet_path_for(sale: Sale, filename: str) -> str:
    """Sheets live under the collective's own folder of the private storage, never in public media."""
    return f"{connection.schema_name}/sheets/sale-{sale.pk}/{filename}"


def sheet_path(sheet: Sheet, filename: str) -> str:
    return sheet_path_for(sheet.sale, filename)


class Sheet(models.Model):
    """A PDF made for a sale: what a producer brings, a pickup point's sign-in sheet, the coordinator's
    summary, or a supplier's purchase order (buying groups). Made again, it replaces the previous one."""

    class Kind(models.TextChoices):
        PRODUCER = "producer", _("Bon de livraison producteur")
        POINT = "point", _("Feuille d'émargement")
        SUMMARY = "summary", _("Récapitulatif de la vente")
        PURCHASE_ORDER = "purchase_order", _("Bon de commande fournisseur")

    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="sheets")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    producer = models.ForeignKey(Producer, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    point = models.ForeignKey(PickupPoint, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    title = models.CharField(max_length=200)
    file = models.FileField(upload_to=sheet_path, storage=private_storage, max_length=255)
    pages = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    # Set when the sheet has been e-mailed to whom it concerns; a sheet made again is sent again.
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["sale", "kind", "producer", "point"],
                nulls_distinct=False,
                name="sheet_once_per_subject",
            ),
        ]

    def __str__(self) -> str:
        return self.title


def sheet_part_path(part: SheetPart, filename: str) -> str:
    return sheet_path_for(part.build.sale, f"parts/{filename}")


class SheetBuild(models.Model):
    """A sheet made in parts: a big sign-in sheet split by slots, a big delivery sheet by pickup points. Each
    part is rendered by its own task on the sheets queue (several workers share one big sheet); the last part
    in queues the merge, which makes the sheet's one file and then deletes the build and its parts."""

    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Sheet.Kind.choices)
    producer = models.ForeignKey(Producer, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    point = models.ForeignKey(PickupPoint, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    # One entry per part, in the sheet's order: {"slot_ids": [...]} or {"point_ids": [...]} (None: no point).
    plan = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.kind} of sale {self.sale_id}: {len(self.plan)} parts"


class SheetPart(models.Model):
    """One rendered part of a SheetBuild (its pages are numbered once merged)."""

    build = models.ForeignKey(SheetBuild, on_delete=models.CASCADE, related_name="parts")
    index = models.PositiveSmallIntegerField()
    file = models.FileField(upload_to=sheet_part_path, storage=private_storage, max_length=255)
    pages = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["build", "index"]
        constraints = [models.UniqueConstraint(fields=["build", "index"], name="sheet_part_once")]

    def __str__(self) -> str:
        return f"part {self.index} of {self.build_id}"
