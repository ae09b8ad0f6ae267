"""Thin Celery tasks of the producers' app: they take the schema and ids, and call one service."""

from __future__ import annotations

from celery import shared_task
from django_tenants.utils import schema_context

from marketplace.followups import beat_tick_claim
from marketplace.models import Collective
from producers import agreements, services


@shared_task
def import_job_check(*, schema_name: str, job_id: int) -> bool:
    with schema_context(schema_name):
        return services.import_job_check(job_id=job_id) is not None


@shared_task
def import_job_run(*, schema_name: str, job_id: int) -> bool:
    with schema_context(schema_name):
        return services.import_job_run(job_id=job_id) is not None


@shared_task
def tenants_agreements_ending() -> None:
    """Beat, every morning, in the public schema: one task per collective."""
    if not beat_tick_claim("agreements-ending"):
        return
    for schema_name in Collective.objects.active_tenants().values_list("schema_name", flat=True):
        agreements_ending_check.delay(schema_name=schema_name)


@shared_task
def agreements_ending_check(*, schema_name: str) -> int:
    with schema_context(schema_name):
        return agreements.agreements_ending_notify()


@shared_task
def agreement_ending_email_send(*, schema_name: str, agreement_id: int) -> None:
    with schema_context(schema_name):
        agreements.agreement_ending_email(agreement_id=agreement_id)
