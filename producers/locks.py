"""The only place that takes row locks in the producers' app, always in this order:

    import job → products (ascending pk); producer (price agreements) → products;
    lab proposal → (its decision); product request → (the new product)
    producer application (a coordinator's decision) → the applicant's membership (marketplace.locks)

A producer's whole catalogue is locked by an import so that two imports, or an import and a bulk edit, never
interleave; the sale offers (orders.locks) are locked after products, never before.
"""

from __future__ import annotations

from producers.models import ImportJob, Producer, ProducerApplication, Product, ProductRequest, Proposal


def product_lock(product_id: int) -> Product:
    return Product.objects.select_for_update().get(pk=product_id)


def products_lock(*, producer: Producer, ids: list[int] | None = None) -> dict[int, Product]:
    found = Product.objects.select_for_update().filter(producer=producer)
    if ids is not None:
        found = found.filter(pk__in=ids)
    return {product.pk: product for product in found.order_by("pk")}


def import_job_lock(job_id: int) -> ImportJob:
    return ImportJob.objects.select_for_update().select_related("producer").get(pk=job_id)


def producer_lock(producer_id: int) -> Producer:
    """Taken before recording a price agreement, so that two agreements for one supplier never overlap."""
    return Producer.objects.select_for_update().get(pk=producer_id)


def proposal_lock(proposal_id: int) -> Proposal:
    """Taken before recording a decision, so that two coordinators deciding at once write one outcome."""
    return Proposal.objects.select_for_update().get(pk=proposal_id)


def product_request_lock(request_id: int) -> ProductRequest:
    """Taken before answering a request with a product, so that a double click makes one product."""
    return ProductRequest.objects.select_for_update().get(pk=request_id)


def application_lock(application_id: int) -> ProducerApplication | None:
    """Taken by a coordinator's decision: of two coordinators deciding at once, the second waits, then
    finds it decided."""
    return ProducerApplication.objects.select_for_update().filter(pk=application_id).first()
