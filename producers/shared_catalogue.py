"""A producer account's one catalogue across the collectives it sells in (issue 19).

The catalogue lives in the public schema (marketplace.SharedProduct, with its central stock); each collective
holds a linked copy (producers.Product with `shared_product`), created when the producer offers the product
there. The copy keeps the collective's say: it is off sale until a coordinator accepts it (a CHECK refuses an
active copy that was not), its price is the collective's own. Name, description, unit, VAT and weight follow
the shared product: this module writes them into every copy, schema by schema, in the one transaction.

Reads and writes that cross collectives go through `tenant_context`; the public rows (SharedListing) say
where the copies are, so no collective's schema is read that does not hold one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from marketplace import central_stock
from marketplace.models import Collective, Membership, Role, SharedListing, SharedProduct, User
from producers import locks
from producers.models import LinkStatus, Producer, Product

SHARED_FIELDS = ("name", "description", "unit", "vat_rate", "is_variable_weight", "estimated_weight_kg")

# What this collective's placed orders hold of shared products and was not yet handed over, by shared
# product id (orders fills it in: orders.closing.jobs.shared_pending_quantities). When a product of a
# collective joins the shared catalogue, what it already has on order joins the central reservations.
PendingQuantities = Callable[[list[int]], dict[int, int]]
_pending: list[PendingQuantities] = []


def pending_quantities_register(provider: PendingQuantities) -> None:
    if provider not in _pending:
        _pending.append(provider)


def _pending_for(product_ids: list[int]) -> int:
    return sum(sum(provider(product_ids).values()) for provider in _pending)


class SharingRefused(Exception):
    """What the producer asked cannot be done; the message says why, in French."""


# ------------------------------------------------------------------------------------------------- reads


def producer_collectives(*, user: User) -> list[Collective]:
    """The collectives where this account is an active producer (its shop accepted it)."""
    memberships = Membership.objects.filter(
        user=user, status=Membership.Status.ACTIVE, roles__contains=[Role.PRODUCER]
    ).select_related("collective")
    return sorted(
        (m.collective for m in memberships if not m.collective.is_suspended and not m.collective.is_deleted),
        key=lambda collective: collective.name,
    )


@dataclass
class Copy:
    collective: Collective
    product: Product | None  # None: the copy was removed from that collective

    @property
    def status_label(self) -> str:
        if self.product is None:
            return _("retiré par le collectif")
        if self.product.link_status == LinkStatus.PROPOSED:
            return _("en attente d'acceptation")
        if self.product.link_status == LinkStatus.REFUSED:
            return _("refusé par le collectif")
        return _("en vente") if self.product.is_active else _("hors vente")


@dataclass
class SharedRow:
    shared: SharedProduct
    copies: list[Copy] = field(default_factory=list)

    def offered_in(self) -> set[int]:
        return {copy.collective.pk for copy in self.copies}


@dataclass
class Unshared:
    collective: Collective
    products: list[Product]


@dataclass
class Catalogue:
    rows: list[SharedRow]
    collectives: list[Collective]
    unshared: list[Unshared]


def shared_catalogue(*, user: User) -> Catalogue:
    """The account's shared products with their copy in each collective, and the products of its
    collectives that are not in the shared catalogue yet (one query per collective it sells in)."""
    collectives = producer_collectives(user=user)
    shared = list(SharedProduct.objects.filter(owner=user).order_by("name", "pk"))
    rows = {item.pk: SharedRow(shared=item) for item in shared}
    listings = SharedListing.objects.filter(shared_product__owner=user).select_related("collective")
    by_collective: dict[int, list[SharedListing]] = {}
    for listing in listings:
        by_collective.setdefault(listing.collective_id, []).append(listing)
    unshared = []
    for collective in collectives:
        with tenant_context(collective):
            products = list(
                Product.objects.filter(producer__accounts=user)
                .select_related("producer")
                .order_by("name", "pk")
            )
        copies = {product.pk: product for product in products if product.shared_product_id}
        for listing in by_collective.get(collective.pk, []):
            rows[listing.shared_product_id].copies.append(Copy(collective, copies.get(listing.product_id)))
        own = [product for product in products if not product.shared_product_id]
        if own:
            unshared.append(Unshared(collective=collective, products=own))
    return Catalogue(rows=list(rows.values()), collectives=collectives, unshared=unshared)


def shared_product_of(*, user: User, shared_product_id: int) -> SharedProduct | None:
    return SharedProduct.objects.filter(owner=user, pk=shared_product_id).first()


# ------------------------------------------------------------------------------------------------ writes


def _managed_producer(user: User) -> Producer | None:
    return Producer.objects.filter(accounts=user).order_by("pk").first()


def _listing_add(shared: SharedProduct, collective: Collective, product: Product) -> None:
    SharedListing.objects.create(shared_product=shared, collective=collective, product_id=product.pk)


def _reserve_pending(shared: SharedProduct, product: Product) -> None:
    """What this collective already has on order of the product joins the central reservations."""
    central_stock.central_stock_join(shared_product_id=shared.pk, reserved=_pending_for([product.pk]))


@transaction.atomic
def shared_product_create_from(*, collective: Collective, product_id: int, user: User) -> SharedProduct:
    """Put one of the account's products in a collective into its shared catalogue: the product becomes
    that collective's copy (accepted: the collective already sells it) and its stock the central stock."""
    with tenant_context(collective):
        product = Product.objects.filter(pk=product_id, producer__accounts=user).first()
        if product is None:
            raise SharingRefused(_("Ce produit n'existe pas ou n'est pas le vôtre."))
        product = locks.product_lock(product.pk)
        if product.shared_product_id is not None:
            raise SharingRefused(_("Ce produit est déjà dans votre catalogue commun."))
        if SharedProduct.objects.filter(owner=user, name__iexact=product.name).exists():
            raise SharingRefused(
                _("Votre catalogue commun a déjà un produit nommé « %(name)s ».") % {"name": product.name}
            )
        shared = SharedProduct.objects.create(
            owner=user,
            price=product.price,
            photo=product.photo.name,
            thumbnail=product.thumbnail.name,
            stock=product.stock,
            **{name: getattr(product, name) for name in SHARED_FIELDS},
        )
        product.shared_product = shared
        product.link_status = LinkStatus.ACCEPTED
        product.stock = None  # the central stock counts from now on
        product.save(update_fields=["shared_product", "link_status", "stock", "updated_at"])
        _reserve_pending(shared, product)
    _listing_add(shared, collective, product)
    shared.refresh_from_db()
    return shared


def _photo_copy(product: Product, shared: SharedProduct) -> None:
    """The copy gets its own files under the collective's folder (each collective may replace or delete its
    photo without touching the others')."""
    for attribute, name in (("photo", shared.photo), ("thumbnail", shared.thumbnail)):
        if name and default_storage.exists(name):
            with default_storage.open(name, "rb") as source:
                getattr(product, attribute).save(
                    name.rsplit("/", 1)[-1], ContentFile(source.read()), save=False
                )


@transaction.atomic
def shared_product_offer(
    *, shared: SharedProduct, collective: Collective, user: User, price: Decimal | None = None
) -> Product:
    """Offer a shared product to a collective the account sells in: a copy off sale until a coordinator
    accepts it, at `price` (the shared catalogue's by default). A product of the same name already there
    becomes the copy, keeping its state and its price."""
    if shared.owner_id != user.pk:
        raise SharingRefused(_("Ce produit n'existe pas ou n'est pas le vôtre."))
    if collective not in producer_collectives(user=user):
        raise SharingRefused(
            _("Vous ne vendez pas dans ce collectif : demandez-lui d'abord de vous accepter.")
        )
    if SharedListing.objects.filter(shared_product=shared, collective=collective).exists():
        raise SharingRefused(_("Ce produit est déjà proposé à ce collectif."))
    if price is not None and price <= 0:
        raise SharingRefused(_("Le prix doit être supérieur à 0 €."))
    with tenant_context(collective):
        producer = _managed_producer(user)
        if producer is None:
            raise SharingRefused(
                _(
                    "Ce collectif n'a pas encore de ferme liée à votre compte : demandez-le à ses"
                    " coordinateurs."
                )
            )
        product = Product.objects.filter(producer=producer, name__iexact=shared.name).first()
        if product is not None:
            product = locks.product_lock(product.pk)
            if product.shared_product_id is not None:
                raise SharingRefused(_("Ce produit est déjà proposé à ce collectif."))
            product.shared_product = shared
            product.link_status = LinkStatus.ACCEPTED if product.is_active else LinkStatus.PROPOSED
            product.stock = None
            product.save(update_fields=["shared_product", "link_status", "stock", "updated_at"])
            _reserve_pending(shared, product)
        else:
            product = Product(
                producer=producer,
                shared_product=shared,
                link_status=LinkStatus.PROPOSED,
                is_active=False,
                price=price or shared.price,
                stock=None,
                **{name: getattr(shared, name) for name in SHARED_FIELDS},
            )
            product.full_clean(exclude=["shared_product"])
            _photo_copy(product, shared)
            product.save()
    _listing_add(shared, collective, product)
    return product


@transaction.atomic
def shared_product_update(*, shared: SharedProduct, user: User, stock: int | None, **fields) -> SharedProduct:
    """Change the shared product and, in the same transaction, every collective's copy; the central stock
    cannot go below what is already ordered."""
    if shared.owner_id != user.pk:
        raise SharingRefused(_("Ce produit n'existe pas ou n'est pas le vôtre."))
    unknown = set(fields) - {*SHARED_FIELDS, "price"}
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    try:
        central_stock.central_stock_set(shared_product_id=shared.pk, stock=stock)
    except central_stock.CentralStockRefused as refused:
        raise SharingRefused(
            _(
                "%(reserved)s sont déjà commandés et pas encore livrés : le stock ne peut pas descendre"
                " en dessous."
            )
            % {"reserved": refused.reserved}
        ) from refused
    shared.refresh_from_db()
    for name, value in fields.items():
        setattr(shared, name, value.strip() if isinstance(value, str) else value)
    if not shared.is_variable_weight:
        shared.estimated_weight_kg = None
    try:
        shared.full_clean(exclude=["owner"])
    except ValidationError as error:
        raise SharingRefused(" ".join(error.messages)) from error
    shared.save()
    copy_fields = {name: getattr(shared, name) for name in SHARED_FIELDS}
    for listing in shared.listings.select_related("collective"):
        with tenant_context(listing.collective):
            try:
                with transaction.atomic():
                    # updated_at too: the shop's and the sale page's cached lists are stamped by it.
                    Product.objects.filter(pk=listing.product_id, shared_product=shared).update(
                        **copy_fields, updated_at=timezone.now()
                    )
            except IntegrityError as error:
                raise SharingRefused(
                    _("Un autre de vos produits porte déjà ce nom chez « %(collective)s ».")
                    % {"collective": listing.collective.name}
                ) from error
    return shared


@transaction.atomic
def product_link_decide(*, product_id: int, accept: bool) -> Product:
    """A coordinator accepts (on sale) or refuses (off sale, and it stays so) a producer's shared product."""
    product = locks.product_lock(product_id)
    if product.shared_product_id is None:
        raise SharingRefused(_("Ce produit ne vient pas d'un catalogue commun."))
    product.link_status = LinkStatus.ACCEPTED if accept else LinkStatus.REFUSED
    product.is_active = accept
    product.save(update_fields=["link_status", "is_active", "updated_at"])
    return product
