"""Producers (or suppliers) of one collective, their accounts, categories and catalogue of products."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import connection, models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tenants.utils import get_public_schema_name

from marketplace.departments import validate_department
from marketplace.models import search_normalize
from marketplace.money import money

# Below this many units left, the shop says « plus que N ».
LOW_STOCK = 5


def estimated_price(*, price_per_kg: Decimal, weight_kg: Decimal) -> Decimal:
    """The price shown for one piece of a variable-weight product; the weighed quantity settles it."""
    return money(price_per_kg * weight_kg)


def _tenant_media_path(folder: str, filename: str) -> str:
    """Uploads go under the collective's own media folder: <schema_name>/<folder>/<file>."""
    schema_name = connection.schema_name
    if schema_name == get_public_schema_name():
        raise RuntimeError("collective media can only be written inside a collective's schema")
    return f"{schema_name}/{folder}/{filename}"


def producer_photo_path(instance: Producer, filename: str) -> str:
    return _tenant_media_path("producers", filename)


def product_photo_path(instance: Product, filename: str) -> str:
    return _tenant_media_path("products", filename)


class Unit(models.TextChoices):
    PIECE = "piece", _("pièce")
    KG = "kg", _("kg")
    G = "g", _("g")
    LITRE = "l", _("litre")
    BUNCH = "bunch", _("botte")
    BOX = "box", _("barquette")
    JAR = "jar", _("pot")
    BOTTLE = "bottle", _("bouteille")
    BAG = "bag", _("sachet")
    BASKET = "basket", _("panier")
    DOZEN = "dozen", _("douzaine")
    HALF_DOZEN = "half_dozen", _("demi-douzaine")


VAT_RATES = [
    (Decimal("5.5"), _("5,5 % (produits alimentaires)")),
    (Decimal("10.0"), _("10 % (restauration, certains produits)")),
    (Decimal("20.0"), _("20 % (autres produits)")),
]


class Category(models.Model):
    """A shelf of the collective's shop (Légumes, Fruits, Œufs…), shared by all its producers."""

    name = models.CharField(_("nom"), max_length=80)
    position = models.PositiveSmallIntegerField(
        _("ordre d'affichage"), default=0, help_text=_("Les plus petits nombres s'affichent en premier.")
    )

    class Meta:
        verbose_name = _("catégorie")
        verbose_name_plural = _("catégories")
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="category_name_unique",
                violation_error_message=_("Une catégorie porte déjà ce nom."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Producer(models.Model):
    """A farm or company selling through the collective (a supplier in a buying group)."""

    name = models.CharField(_("nom de la ferme ou de l'entreprise"), max_length=120)
    description = models.TextField(_("présentation"), blank=True, max_length=3000)
    town = models.CharField(_("commune"), max_length=120, blank=True)
    labels = models.CharField(
        _("labels"),
        max_length=200,
        blank=True,
        help_text=_("Séparés par des virgules, par ex. : AB, Nature & Progrès."),
    )
    photo = models.ImageField(_("photo"), upload_to=producer_photo_path, blank=True)
    thumbnail = models.ImageField(upload_to=producer_photo_path, blank=True, editable=False)
    contact_email = models.EmailField(_("e-mail de contact"), blank=True)
    contact_phone = models.CharField(_("téléphone de contact"), max_length=30, blank=True)
    # Kept for the ordering issue (a producer may refuse to deliver below an amount); not enforced yet.
    minimum_order_amount = models.DecimalField(
        _("montant minimum de commande (€)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"), message=_("Le minimum doit être positif."))],
    )
    is_active = models.BooleanField(
        _("actif"), default=True, help_text=_("Un producteur inactif n'apparaît pas dans la boutique.")
    )
    accounts = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="ProducerAccount", related_name="producers", blank=True
    )
    search_text = models.TextField(editable=False, default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("producteur")
        verbose_name_plural = _("producteurs")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="producer_name_unique",
                violation_error_message=_("Un producteur de ce collectif porte déjà ce nom."),
            ),
            models.CheckConstraint(
                condition=Q(minimum_order_amount__isnull=True) | Q(minimum_order_amount__gt=0),
                name="producer_minimum_order_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.search_text = search_normalize(f"{self.name} {self.town}")
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)

    @property
    def label_list(self) -> list[str]:
        return [label.strip() for label in self.labels.split(",") if label.strip()]


class ProducerAccount(models.Model):
    """An account that manages a producer. Accounts live in the public schema; this row in the collective's.

    DO_NOTHING: deleting an account from the public schema must not look for these rows there (the table
    only exists in collective schemas); the foreign key still refuses to delete an account still linked.
    """

    producer = models.ForeignKey(Producer, on_delete=models.CASCADE, related_name="account_links")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+")
    linked_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["producer", "user"], name="producer_account_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.producer_id}"


class LinkStatus(models.TextChoices):
    """A copy of a producer's shared catalogue in this collective, and what the collective said of it."""

    OWN = "", _("produit du collectif")
    PROPOSED = "proposed", _("proposé, en attente")
    ACCEPTED = "accepted", _("accepté")
    REFUSED = "refused", _("refusé")


class Product(models.Model):
    producer = models.ForeignKey(Producer, on_delete=models.CASCADE, related_name="products")
    # A copy of the producer account's shared catalogue (public schema): its name, unit, weight, VAT and
    # photo follow the shared product; its price and category are this collective's; its stock is the
    # central one (stock here stays NULL, or caps this collective's sales). DO_NOTHING: the public schema
    # cannot look into tenant tables; the database's foreign key refuses to delete a linked shared product.
    shared_product = models.ForeignKey(
        "marketplace.SharedProduct", on_delete=models.DO_NOTHING, null=True, blank=True, related_name="+"
    )
    link_status = models.CharField(
        max_length=10, choices=LinkStatus.choices, default=LinkStatus.OWN, blank=True
    )
    name = models.CharField(_("nom"), max_length=120)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    category = models.ForeignKey(
        Category,
        verbose_name=_("catégorie"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="products",
    )
    photo = models.ImageField(_("photo"), upload_to=product_photo_path, blank=True)
    thumbnail = models.ImageField(upload_to=product_photo_path, blank=True, editable=False)
    unit = models.CharField(_("unité"), max_length=12, choices=Unit.choices, default=Unit.PIECE)
    price = models.DecimalField(
        _("prix TTC (€)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"), message=_("Le prix doit être supérieur à 0 €."))],
    )
    vat_rate = models.DecimalField(
        _("taux de TVA"), max_digits=3, decimal_places=1, choices=VAT_RATES, default=Decimal("5.5")
    )
    is_active = models.BooleanField(
        _("en vente"), default=True, help_text=_("Décochez pour retirer le produit de la boutique.")
    )
    # Sold by the kg, handed out by the piece: the member pays for the weighed quantity at distribution.
    is_variable_weight = models.BooleanField(
        _("vendu au poids"),
        default=False,
        help_text=_("Prix au kg, pesé à la distribution ; le membre voit un prix estimé par pièce."),
    )
    estimated_weight_kg = models.DecimalField(
        _("poids estimé d'une pièce (kg)"),
        max_digits=7,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.001"), message=_("Le poids estimé doit être positif."))],
    )
    # Quantity on offer for the current or next sale; NULL means unlimited.
    stock = models.IntegerField(
        _("stock"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0, message=_("Le stock ne peut pas être négatif."))],
    )
    search_text = models.TextField(editable=False, default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("produit")
        verbose_name_plural = _("produits")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="product_price_positive"),
            models.CheckConstraint(
                condition=Q(stock__isnull=True) | Q(stock__gte=0), name="product_stock_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(vat_rate__in=[rate for rate, _label in VAT_RATES]), name="product_vat_rate_known"
            ),
            models.CheckConstraint(
                condition=Q(is_variable_weight=False) | Q(unit=Unit.KG, estimated_weight_kg__gt=0),
                name="product_variable_weight_by_kg",
            ),
            models.UniqueConstraint(
                fields=["shared_product"],
                condition=Q(shared_product__isnull=False),
                name="product_one_copy_of_shared",
            ),
            # The collective's say: a shared product is on sale here only once a coordinator accepted it.
            models.CheckConstraint(
                # Equalities, not IN: a varchar IN list does not read back the same from the catalog, and new
                # collectives' schemas are cloned from that text (marketplace.schemas).
                condition=Q(is_active=False) | Q(link_status="") | Q(link_status="accepted"),
                name="product_active_only_if_accepted",
                violation_error_message=_(
                    "Ce produit du catalogue commun n'a pas été accepté par le collectif : il ne peut pas"
                    " être mis en vente."
                ),
            ),
            models.UniqueConstraint(
                "producer",
                Lower("name"),
                name="product_name_unique_per_producer",
                violation_error_message=_("Ce producteur a déjà un produit de ce nom."),
            ),
        ]
        indexes = [models.Index(fields=["producer", "is_active"], name="product_producer_active")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.search_text = search_normalize(f"{self.name} {self.description}")
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.is_variable_weight:
            errors = {}
            if self.unit != Unit.KG:
                errors["unit"] = _("Un produit vendu au poids a un prix au kg : choisissez l'unité « kg ».")
            if not self.estimated_weight_kg:
                errors["estimated_weight_kg"] = _(
                    "Indiquez le poids estimé d'une pièce, pour afficher un prix estimé."
                )
            if errors:
                raise ValidationError(errors)
        else:
            self.estimated_weight_kg = None

    @property
    def estimated_price(self) -> Decimal | None:
        """What one piece of a variable-weight product should cost: price per kg × estimated weight."""
        if not self.is_variable_weight or not self.estimated_weight_kg:
            return None
        return estimated_price(price_per_kg=self.price, weight_kg=self.estimated_weight_kg)

    @property
    def central_available(self) -> int | None:
        """What the producer's central stock still has for every collective (None: no central stock)."""
        if self.shared_product_id is None:
            return None
        return self.shared_product.available  # type: ignore[union-attr]

    @property
    def stock_left(self) -> int | None:
        """This collective's stock, within the central stock when the product is a shared one."""
        central = self.central_available
        if central is None:
            return self.stock
        return central if self.stock is None else min(self.stock, central)


class ImportJob(models.Model):
    """An uploaded catalogue file kept server-side between the dry run and the confirmation. Both run as
    background follow-ups (a 2 000-row file takes longer than a web request may), the page follows `state`."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"
        DFC = "json", "DFC (JSON-LD)"

    class State(models.TextChoices):
        CHECKING = "checking", _("vérification en cours")
        CHECKED = "checked", _("vérifié")
        APPLYING = "applying", _("import en cours")
        APPLIED = "applied", _("importé")

    producer = models.ForeignKey(Producer, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+")
    file_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=4, choices=Format.choices)
    content = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    applied_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.CHECKING)
    # The last check's or import's row-by-row report (catalogue.ImportReport.as_json), once made.
    report = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.file_name


class PriceAgreement(models.Model):
    """An « accord de prix » with a supplier: the prices of some of its products, guaranteed from one date to
    another. Every sale that opens in the period takes these prices (orders.sales.services); the catalogue
    price of a covered product cannot change meanwhile (producers.agreements)."""

    producer = models.ForeignKey(Producer, on_delete=models.CASCADE, related_name="price_agreements")
    starts_on = models.DateField(_("valable du"))
    ends_on = models.DateField(_("valable jusqu'au"))
    agreed_on = models.DateField(_("conclu le"))
    agreed_with = models.CharField(
        _("conclu avec"),
        max_length=160,
        help_text=_("Qui a discuté les prix : fournisseur, membres du collectif."),
    )
    note = models.TextField(_("note"), blank=True, max_length=2000)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("accord de prix")
        verbose_name_plural = _("accords de prix")
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gt=F("starts_on")), name="agreement_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.producer_id} {self.starts_on} → {self.ends_on}"


class PriceAgreementLine(models.Model):
    agreement = models.ForeignKey(PriceAgreement, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="agreement_lines")
    price = models.DecimalField(
        _("prix convenu TTC (€)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"), message=_("Le prix doit être supérieur à 0 €."))],
    )

    class Meta:
        ordering = ["product__name"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "product"], name="agreement_line_once"),
            models.CheckConstraint(condition=Q(price__gt=0), name="agreement_price_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.price}"


class ApplicationCategory(models.TextChoices):
    VEGETABLES = "vegetables", _("légumes")
    FRUITS = "fruits", _("fruits")
    EGGS = "eggs", _("œufs")
    DAIRY = "dairy", _("produits laitiers, fromages")
    MEAT = "meat", _("viande, charcuterie")
    POULTRY = "poultry", _("volailles")
    FISH = "fish", _("poisson")
    BREAD = "bread", _("pain, farine, céréales")
    GROCERY = "grocery", _("épicerie (miel, confitures, huiles…)")
    DRINKS = "drinks", _("boissons (vin, jus, bière…)")
    OTHER = "other", _("autre")


class ApplicationLabel(models.TextChoices):
    AB = "ab", _("Agriculture biologique (AB)")
    NATURE_PROGRES = "nature_progres", _("Nature & Progrès")
    HVE = "hve", _("Haute valeur environnementale (HVE)")
    BIENVENUE = "bienvenue", _("Bienvenue à la ferme")
    CONVERSION = "conversion", _("en conversion bio")
    OTHER = "other", _("autre label")


class ProducerApplication(models.Model):
    """« Rejoindre comme producteur »: a farm asks to sell through the collective; a coordinator decides once.

    Personal data (a person's name, address, phone): exported and erased with the account
    (producers.receivers), and refused applications are deleted PRODUCER_APPLICATION_REFUSED_RETENTION_DAYS
    after the decision. `user` is the account that applied signed in (none for a visitor); DO_NOTHING as
    ProducerAccount: accounts are anonymised, never deleted.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("à examiner")
        ACCEPTED = "accepted", _("acceptée")
        REFUSED = "refused", _("refusée")

    farm_name = models.CharField(_("nom de la ferme ou de l'entreprise"), max_length=120)
    contact_name = models.CharField(_("votre nom"), max_length=120)
    email = models.EmailField(_("adresse e-mail"))
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    town = models.CharField(_("commune"), max_length=120)
    department = models.CharField(_("département"), max_length=3, validators=[validate_department])
    categories = ArrayField(
        models.CharField(max_length=20, choices=ApplicationCategory.choices),
        verbose_name=_("ce que vous produisez"),
    )
    products = models.TextField(_("vos produits, en quelques mots"), max_length=2000)
    labels = ArrayField(
        models.CharField(max_length=20, choices=ApplicationLabel.choices),
        verbose_name=_("labels"),
        default=list,
        blank=True,
    )
    selling_today = models.TextField(_("où vendez-vous aujourd'hui ?"), max_length=1000, blank=True)
    message = models.TextField(_("message aux coordinateur·rices"), max_length=2000, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+", null=True, blank=True
    )
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+", null=True, blank=True
    )
    refusal_reason = models.TextField(_("motif du refus"), max_length=2000, blank=True)
    producer = models.ForeignKey(
        Producer, on_delete=models.SET_NULL, related_name="+", null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("candidature de producteur")
        verbose_name_plural = _("candidatures de producteurs")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # A double submit (or the same farm sending the form again before an answer) is one application.
            models.UniqueConstraint(
                Lower("email"),
                Lower("farm_name"),
                condition=Q(status="pending"),
                name="producer_application_pending_once",
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_at__isnull=False),
                name="producer_application_decided_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status="accepted") | Q(producer__isnull=False),
                name="producer_application_accepted_has_producer",
            ),
        ]

    def __str__(self) -> str:
        return self.farm_name

    def category_labels(self) -> list[str]:
        return [str(ApplicationCategory(code).label) for code in self.categories]

    def label_labels(self) -> list[str]:
        return [str(ApplicationLabel(code).label) for code in self.labels]


# The living lab's models live in their own module; imported here so that Django registers them.
from producers.lab.models import (  # noqa: E402
    LabDecision,
    LabSession,
    Outcome,
    ProductRequest,
    Proposal,
    ProposalComment,
    ProposalSupport,
)

__all__ = [
    "LabDecision",
    "LabSession",
    "Outcome",
    "ProductRequest",
    "Proposal",
    "ProposalComment",
    "ProposalSupport",
]
