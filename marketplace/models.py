"""Public-schema models: collectives (tenants), their domains, accounts, memberships and invitations."""

from __future__ import annotations

import re
import secrets
import unicodedata

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import connection, models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import get_public_schema_name, schema_exists

from marketplace import schemas
from marketplace.departments import department_name, validate_department


def search_normalize(value: str) -> str:
    """Lower case, no accents, words separated by single spaces: « Nérac » and « nerac » match."""
    decomposed = unicodedata.normalize("NFKD", value.lower())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " " + " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split()) + " "


SLUG_VALIDATOR = RegexValidator(
    r"^[a-z][a-z0-9-]{1,28}[a-z0-9]$",
    _(
        "L'adresse doit faire de 3 à 30 caractères : lettres minuscules sans accent, chiffres et tirets, "
        "en commençant par une lettre."
    ),
)


def collective_logo_path(collective: Collective, filename: str) -> str:
    """Under the collective's own media folder, a new random name per upload (so that browsers and proxies
    never show a replaced logo); the extension is one of the formats marketplace.images writes."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    extension = extension if extension in {"png", "jpg", "webp"} else "png"
    return f"{collective.schema_name}/branding/logo-{secrets.token_urlsafe(9)}.{extension}"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class UndeliverableReason(models.TextChoices):
    BOUNCED = "bounced", _("adresse en échec (rebond)")
    COMPLAINED = "complained", _("message signalé comme indésirable")
    REJECTED = "rejected", _("adresse refusée par le fournisseur d'envoi")


class User(AbstractUser):
    """An account of the platform; it may belong to several collectives (see Membership)."""

    username = None
    email = models.EmailField(_("adresse e-mail"), unique=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    # Set when the account was deleted (or stands for someone who left a collective): the row stays for the
    # orders and payments that accounting keeps, with no name, no address and no way to sign in.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set by the e-mail provider's tracking webhook (marketplace.email_delivery) when a message to this
    # address bounced or was reported as spam: coordinators see it and phone instead.
    email_undeliverable_at = models.DateTimeField(null=True, blank=True, editable=False)
    email_undeliverable_reason = models.CharField(
        max_length=20, blank=True, choices=UndeliverableReason.choices, editable=False
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("compte")
        verbose_name_plural = _("comptes")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.erased_at:
            return str(_("Membre supprimé·e"))
        return self.get_full_name() or self.email

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None


class CollectiveQuerySet(models.QuerySet):
    def tenants(self) -> CollectiveQuerySet:
        """Real collectives: not the public schema nor the template new ones are cloned from."""
        return self.exclude(schema_name__in=[get_public_schema_name(), settings.TENANT_BASE_SCHEMA])

    def current(self) -> Collective:
        """The collective whose schema the connection is in (tasks and services run inside one)."""
        return self.get(schema_name=connection.schema_name)  # type: ignore[attr-defined]

    def active_tenants(self) -> CollectiveQuerySet:
        """The collectives whose clock jobs run (beat's fan-outs): real ones, not suspended, by pk."""
        return self.tenants().filter(suspended_at__isnull=True, deleted_at__isnull=True).order_by("pk")


class Collective(TenantMixin):
    """A tenant: one drive fermier or buying group, with its own schema and sub-domain."""

    class Kind(models.TextChoices):
        DRIVE = "drive", _("Drive fermier")
        BUYING_GROUP = "buying_group", _("Groupement d'achat")

    class JoinMode(models.TextChoices):
        OPEN = "open", _("Ouvert : chacun peut rejoindre")
        APPROVAL = "approval", _("Sur validation d'un·e coordinateur·rice")
        INVITATION = "invitation", _("Sur invitation uniquement")

    name = models.CharField(_("nom"), max_length=120)
    slug = models.CharField(_("sous-domaine"), max_length=30, unique=True, validators=[SLUG_VALIDATOR])
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices, default=Kind.DRIVE)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    town = models.CharField(_("commune"), max_length=120, blank=True)
    department = models.CharField(
        _("département"),
        max_length=3,
        blank=True,
        validators=[validate_department],
    )
    contact_email = models.EmailField(_("e-mail de contact"), blank=True)
    contact_phone = models.CharField(_("téléphone de contact"), max_length=30, blank=True)
    logo = models.ImageField(_("logo"), upload_to=collective_logo_path, blank=True)
    join_mode = models.CharField(
        _("adhésion"), max_length=20, choices=JoinMode.choices, default=JoinMode.APPROVAL
    )
    allow_cooptation = models.BooleanField(
        _("les membres peuvent coopter de nouveaux membres"), default=False
    )
    # The public schema and the template schema are rows too; only real collectives are listed.
    is_listed = models.BooleanField(_("visible dans l'annuaire"), default=True)
    # Name, town and department (number and name) without accents, for the directory's search.
    search_text = models.TextField(editable=False, default="")
    # Stripe Connect: the collective's own account; card payments are charged on it (direct charges).
    stripe_account_id = models.CharField(max_length=64, blank=True, default="", editable=False)
    stripe_charges_enabled = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Set by the platform operator (admin action « Suspendre »): every page of its site answers 503 with a
    # notice and its clock jobs skip it; nothing is deleted, « Réactiver » clears it.
    suspended_at = models.DateTimeField(_("suspendu le"), null=True, blank=True, editable=False)
    # Set when the collective is deleted: its site answers like a suspended one for COLLECTIVE_GRACE_DAYS
    # (the operator may restore it), then the nightly purge archives it to private storage and drops its
    # schema (marketplace.archives).
    deleted_at = models.DateTimeField(_("supprimé le"), null=True, blank=True, editable=False)

    objects = CollectiveQuerySet.as_manager()

    auto_create_schema = True
    auto_drop_schema = True

    class Meta:
        verbose_name = _("collectif")
        verbose_name_plural = _("collectifs")
        ordering = ["name"]
        constraints = [
            # Webhooks are routed by the connected account: one account, one collective.
            models.UniqueConstraint(
                fields=["stripe_account_id"],
                condition=~models.Q(stripe_account_id=""),
                name="collective_stripe_account_once",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.search_text = search_normalize(
            " ".join([self.name, self.town, self.department, department_name(self.department)])
        )
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)

    def create_schema(self, check_if_exists=False, sync_schema=True, verbosity=1):
        """Clone the template schema when it exists (fast path), else migrate from scratch (see tenancy).
        A new collective's schema is first taken from the spares if one is ready (services.collective_create,
        marketplace.spares)."""

        template = settings.TENANT_BASE_SCHEMA
        if (
            sync_schema
            and self.schema_name not in {template, get_public_schema_name()}
            and schema_exists(template)
        ):
            if check_if_exists and schema_exists(self.schema_name):
                return False
            schemas.schema_clone(source=template, target=self.schema_name)
            connection.set_schema_to_public()
            return True
        return super().create_schema(
            check_if_exists=check_if_exists, sync_schema=sync_schema, verbosity=verbosity
        )

    @property
    def publishes_openly(self) -> bool:
        """Whether what it announces anyway on its public shop (distributions, the current offer) may be
        published at open addresses (the calendar feed, the DFC catalogue): not for a collective open by
        invitation only, whose dates and negotiated prices are for its members."""
        return self.join_mode != self.JoinMode.INVITATION

    @property
    def base_url(self) -> str:
        port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
        return f"{settings.SITE_SCHEME}://{self.slug}.{settings.BASE_DOMAIN}{port}"

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_buying_group(self) -> bool:
        return self.kind == self.Kind.BUYING_GROUP


class Domain(DomainMixin):
    class Meta:
        verbose_name = _("domaine")
        verbose_name_plural = _("domaines")


class Role(models.TextChoices):
    MEMBER = "member", _("Membre")
    PRODUCER = "producer", _("Producteur·rice / fournisseur")
    POINT_STAFF = "point_staff", _("Équipe d'un point de retrait")
    COORDINATOR = "coordinator", _("Coordinateur·rice")
    TREASURER = "treasurer", _("Trésorier·ère")


class Membership(models.Model):
    """The roles one account holds in one collective. Pending until a coordinator approves it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("En attente de validation")
        ACTIVE = "active", _("Actif")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    collective = models.ForeignKey(Collective, on_delete=models.CASCADE, related_name="memberships")
    roles = ArrayField(models.CharField(max_length=20, choices=Role.choices), default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "collective"], name="membership_once_per_collective"),
            models.CheckConstraint(condition=~Q(roles=[]), name="membership_has_a_role"),
        ]
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.collective}"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    def has_role(self, *roles: str) -> bool:
        return self.is_active and any(role in self.roles for role in roles)

    def role_labels(self) -> list[str]:
        return [Role(role).label for role in Role.values if role in self.roles]


class Invitation(models.Model):
    """A single-use link that grants a role in a collective, valid for INVITATION_VALID_DAYS."""

    collective = models.ForeignKey(Collective, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("adresse e-mail"), blank=True)
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices, default=Role.MEMBER)
    token = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    # What the role applies to inside the collective, e.g. {"producer": 3} or {"pickup_point": 5}: tenant
    # apps read it when the invitation is accepted (signals.invitation_accepted); `scope_label` names it.
    scope = models.JSONField(default=dict, blank=True)
    scope_label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="invitation_expires_later"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} → {self.email or '—'}"

    @property
    def state(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"

    def get_state_display(self) -> str:
        return {
            "accepted": _("acceptée"),
            "revoked": _("annulée"),
            "expired": _("expirée"),
            "pending": _("en attente"),
        }[self.state]


class SignInHandoff(models.Model):
    """A one-time sign-in for the person who just created a collective, handed to its sub-domain (whose
    session cookie the public site cannot set in development, where every host has its own). Only the
    token's hash is stored; it is used once, within SIGNIN_HANDOFF_SECONDS, on that collective only."""

    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    collective = models.ForeignKey(Collective, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="signin_handoff_expires_later"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.collective_id}"


class StripeEvent(models.Model):
    """Every verified Stripe event received, once (public schema: events are routed to collectives by their
    connected account). A second delivery of the same id finds its row and changes nothing."""

    event_id = models.CharField(max_length=80, unique=True)
    type = models.CharField(max_length=80)
    account = models.CharField(max_length=64, blank=True)
    schema_name = models.CharField(max_length=63, blank=True)
    outcome = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    # Set once its effects are applied; a row without it is applied again by the event's next delivery.
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class FollowUp(models.Model):
    """Work that must follow a commit (an e-mail, a PDF sheet, a Stripe call): written in the same
    transaction as what caused it, done once by its Celery task, and queued again by the sweeper until it is
    done (a transactional outbox, see marketplace.followups). Public schema: one sweep serves every
    collective, and a tenant's transaction writes here too (the search path ends with public)."""

    schema_name = models.CharField(max_length=63)
    task = models.CharField(max_length=120)  # the dotted name of the Celery task that does the work
    kwargs = models.JSONField(default=dict)
    queue = models.CharField(max_length=40, default="celery")
    # At most one follow-up per key (the sheets of a sale, the reminder of a member for a sale).
    key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True)
    # A worker that claimed it holds it until then; past it (the worker died), it may be claimed again.
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)  # gave up after FOLLOWUP_MAX_ATTEMPTS
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=Q(done_at__isnull=True, failed_at__isnull=True),
                name="followup_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.kwargs}"


class ClockDue(models.Model):
    """The clock's due-index: when each collective next needs its clock job (an opening to announce, a
    reminder, a closing, unpaid card orders to release, statements, a schedule, an agreement's warning).

    Beat's minute tick reads only the rows that are due (marketplace.clock.due_schemas), so a collective with
    nothing to do costs nothing. The services that change what the clock looks at lower `next_due` in their
    transaction; the collective's job recomputes it after its work (orders.closing.due). A collective without
    a row is due: a lost row costs one visit, never a missed closing."""

    collective = models.OneToOneField(
        Collective, primary_key=True, on_delete=models.CASCADE, related_name="clock_due"
    )
    next_due = models.DateTimeField(null=True, blank=True)  # None: nothing until something changes
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["next_due"], name="clockdue_next_due")]

    def __str__(self) -> str:
        return f"{self.collective_id}: {self.next_due}"


class SharedProduct(models.Model):
    """A product of a producer account's one catalogue, offered to every collective it sells in, and its
    central stock. Each collective holds a linked copy (producers.Product.shared_product) with its own price
    and its own say (proposed, accepted, refused); the copies are kept in step by producers.shared_catalogue.

    The central stock: `stock` (NULL: unlimited) and `reserved`, what is ordered and not yet delivered in
    every collective. Checkout moves `reserved` in the same transaction as the order (one database, so one
    transaction covers the collective's schema and this public row), the delivery moves both; the CHECK below
    is the last defence against overselling across collectives."""

    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="shared_products")
    name = models.CharField(_("nom"), max_length=120)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    # The codes of producers.models.Unit (this app cannot import it; the producers' forms check the code).
    unit = models.CharField(_("unité"), max_length=12)
    price = models.DecimalField(_("prix TTC conseillé (€)"), max_digits=12, decimal_places=2)
    vat_rate = models.DecimalField(_("taux de TVA"), max_digits=3, decimal_places=1)
    is_variable_weight = models.BooleanField(_("vendu au poids"), default=False)
    estimated_weight_kg = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    # The photo's file, as stored by the collective copy it came from (public media).
    photo = models.CharField(max_length=255, blank=True)
    thumbnail = models.CharField(max_length=255, blank=True)
    stock = models.IntegerField(_("stock central"), null=True, blank=True)
    reserved = models.PositiveIntegerField(_("commandé, pas encore livré"), default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("produit du catalogue commun")
        verbose_name_plural = _("produits du catalogue commun")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="shared_product_price_positive"),
            models.CheckConstraint(
                condition=Q(stock__isnull=True) | Q(stock__gte=models.F("reserved")),
                name="central_stock_never_oversold",
            ),
            models.UniqueConstraint(
                "owner",
                Lower("name"),
                name="shared_product_name_unique_per_owner",
                violation_error_message=_("Votre catalogue commun a déjà un produit de ce nom."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def available(self) -> int | None:
        """What every collective may still sell: stock − ordered and not yet delivered (None: unlimited)."""
        return None if self.stock is None else max(self.stock - self.reserved, 0)


class SharedListing(models.Model):
    """Where a shared product has a copy: the collective and the copy's id in that collective's schema (a
    foreign key cannot cross into a tenant schema). Read to keep the copies in step and by « Mes ventes »."""

    shared_product = models.ForeignKey(SharedProduct, on_delete=models.CASCADE, related_name="listings")
    collective = models.ForeignKey(Collective, on_delete=models.CASCADE, related_name="shared_listings")
    product_id = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["collective__name"]
        constraints = [
            models.UniqueConstraint(fields=["shared_product", "collective"], name="shared_listing_once"),
        ]

    def __str__(self) -> str:
        return f"{self.shared_product_id} @ {self.collective_id}"


class PointProposal(models.Model):
    """A place offered on the public site (« Proposer un point de retrait ») by a town hall, a social centre
    or an association. Public schema: it belongs to no collective until one of its department accepts it
    (pickup_points.proposals), which creates the pickup point in its own schema. The contact is personal
    data: shown only to that department's coordinators, deleted with the proposal (see personal_data)."""

    class Kind(models.TextChoices):
        MAIRIE = "mairie", _("Mairie")
        SOCIAL_CENTRE = "social_centre", _("Centre social")
        ASSOCIATION = "association", _("Association")
        OTHER = "other", _("Autre lieu public")

    kind = models.CharField(_("vous êtes"), max_length=20, choices=Kind.choices, default=Kind.MAIRIE)
    place_name = models.CharField(_("nom du lieu"), max_length=120)
    address = models.CharField(_("adresse"), max_length=200)
    postcode = models.CharField(
        _("code postal"),
        max_length=5,
        validators=[RegexValidator(r"^\d{5}$", _("Un code postal a 5 chiffres, par ex. 47000."))],
    )
    town = models.CharField(_("commune"), max_length=120)
    department = models.CharField(_("département"), max_length=3, validators=[validate_department])
    hours_text = models.CharField(
        _("jours et horaires proposés"),
        max_length=300,
        help_text=_("Par ex. « le vendredi de 17 h à 19 h, sauf pendant les vacances d'août »."),
    )
    # The same hours, structured (one weekday, one range), when the place gives them: the point created on
    # acceptance gets them as its distribution hours (pickup_points.OpeningHours).
    weekday = models.PositiveSmallIntegerField(_("jour de distribution"), null=True, blank=True)
    starts_at = models.TimeField(_("de"), null=True, blank=True)
    ends_at = models.TimeField(_("à"), null=True, blank=True)
    capacity = models.PositiveSmallIntegerField(
        _("foyers par créneau de 15 minutes"),
        help_text=_("Combien de foyers le lieu peut accueillir en même temps, sans file d'attente."),
    )
    access_instructions = models.TextField(
        _("accès au lieu"), max_length=2000, blank=True, help_text=_("Entrée, étage, stationnement…")
    )
    rules = models.TextField(
        _("règles sanitaires et consignes du lieu"),
        max_length=2000,
        blank=True,
        help_text=_("Masque, gel, sens de circulation, nombre de personnes dans la salle…"),
    )
    contact_name = models.CharField(_("nom et prénom"), max_length=120)
    contact_role = models.CharField(
        _("fonction"), max_length=120, help_text=_("Par ex. secrétaire de mairie, adjoint·e au maire.")
    )
    contact_email = models.EmailField(_("adresse e-mail"))
    contact_phone = models.CharField(_("téléphone"), max_length=30)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # The collectives that said no: the proposal leaves their list (and stays open for the others).
    declined_by = ArrayField(models.PositiveIntegerField(), default=list, blank=True, editable=False)
    accepted_by = models.ForeignKey(
        Collective, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    accepted_at = models.DateTimeField(null=True, blank=True, editable=False)
    point_id = models.PositiveIntegerField(null=True, blank=True, editable=False)  # in accepted_by's schema

    class Meta:
        verbose_name = _("point de retrait proposé")
        verbose_name_plural = _("points de retrait proposés")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gt=0), name="point_proposal_capacity_positive"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="point_proposal_weekday_range"),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True, ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="point_proposal_hours_end_later",
            ),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True) | Q(point_id__isnull=False),
                name="point_proposal_accepted_has_point",
            ),
        ]
        indexes = [models.Index(fields=["department", "created_at"], name="point_proposal_department")]

    def __str__(self) -> str:
        return f"{self.place_name} ({self.town})"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None

    def clean(self) -> None:
        if (self.starts_at is None) != (self.ends_at is None):
            raise ValidationError({"ends_at": _("Indiquez l'heure de début et l'heure de fin, ou aucune.")})
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("L'heure de fin doit être après l'heure de début.")})
        if self.starts_at and self.weekday is None:
            raise ValidationError({"weekday": _("Choisissez le jour de ces horaires.")})
