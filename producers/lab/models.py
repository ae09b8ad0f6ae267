"""The living lab (« labo d'usage ») of a buying group: members propose products, support and comment them;
coordinators put proposals on the table of a lab session and record decisions; an adopted proposal becomes a
product request to a supplier, answered by a catalogue product linked to it.

Every proposal and session belongs to a lab group (pickup_points.LabGroup), or to none when the collective
has no groups: each group has its own lab. Imported by producers.models so that Django finds the models.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    ADOPTED = "adopted", _("adoptée")
    REJECTED = "rejected", _("écartée")
    TO_SEARCH = "to_search", _("à rechercher")


class Proposal(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("proposée")
        TO_SEARCH = "to_search", _("à rechercher")
        ADOPTED = "adopted", _("adoptée")
        REJECTED = "rejected", _("écartée")

    # Still on the lab's table: a proposal « à rechercher » comes back to a later session.
    OPEN_STATUSES = (Status.OPEN, Status.TO_SEARCH)

    group = models.ForeignKey(
        "pickup_points.LabGroup", on_delete=models.SET_NULL, null=True, blank=True, related_name="proposals"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+")
    title = models.CharField(_("quel produit ?"), max_length=120)
    reason = models.TextField(_("pourquoi ?"), max_length=2000)
    target_price = models.DecimalField(
        _("prix visé (€)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"), message=_("Le prix visé doit être supérieur à 0 €."))],
    )
    target_unit = models.CharField(
        _("pour quelle quantité ?"),
        max_length=40,
        blank=True,
        help_text=_("Par exemple : le kg, la douzaine."),
    )
    supplier = models.ForeignKey(
        "producers.Producer",
        verbose_name=_("fournisseur"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="lab_proposals",
    )
    supplier_hint = models.CharField(
        _("fournisseur connu (si vous en connaissez un)"), max_length=160, blank=True
    )
    status = models.CharField(_("état"), max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("proposition du labo")
        verbose_name_plural = _("propositions du labo")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(target_price__isnull=True) | Q(target_price__gt=0), name="proposal_price_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class ProposalSupport(models.Model):
    """« Je soutiens » : once per member and proposal (a double click counts once)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="supports")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["proposal", "user"], name="proposal_support_once")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.proposal_id}"


class ProposalComment(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+")
    text = models.TextField(_("votre commentaire"), max_length=2000)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.proposal_id}: {self.text[:40]}"


class LabSession(models.Model):
    """« Séance du labo » : a date, a place, the proposals on the table."""

    group = models.ForeignKey(
        "pickup_points.LabGroup",
        verbose_name=_("groupe"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="lab_sessions",
    )
    starts_at = models.DateTimeField(_("date et heure"))
    place = models.CharField(_("lieu"), max_length=200)
    proposals = models.ManyToManyField(
        Proposal, verbose_name=_("propositions à l'ordre du jour"), related_name="sessions", blank=True
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("séance du labo")
        verbose_name_plural = _("séances du labo")
        ordering = ["-starts_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d} {self.place}"


class LabDecision(models.Model):
    """What a session decided about one proposal, and why (members read the reason)."""

    session = models.ForeignKey(LabSession, on_delete=models.CASCADE, related_name="decisions")
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="decisions")
    outcome = models.CharField(_("décision"), max_length=10, choices=Outcome.choices)
    reason = models.TextField(_("pourquoi"), max_length=2000)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["decided_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "proposal"], name="lab_decision_once_per_session"),
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id}: {self.outcome}"


class ProductRequest(models.Model):
    """An adopted proposal asked of a supplier; the supplier answers with a catalogue product."""

    proposal = models.OneToOneField(Proposal, on_delete=models.CASCADE, related_name="product_request")
    decision = models.OneToOneField(LabDecision, on_delete=models.CASCADE, related_name="product_request")
    producer = models.ForeignKey(
        "producers.Producer", on_delete=models.CASCADE, related_name="product_requests"
    )
    product = models.OneToOneField(
        "producers.Product", on_delete=models.SET_NULL, null=True, blank=True, related_name="lab_request"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(product__isnull=True) | Q(answered_at__isnull=False),
                name="product_request_answered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id} → {self.producer_id}"
