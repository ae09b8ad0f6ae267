"""Thin Celery tasks of the producers' app: they take the schema and ids, and call one service."""

from __future__ import annotations

from celery import shared_task
from django_tenants.utils import schema_context

from producers import services


@shared_task
def import_job_check(*, schema_name: str, job_id: int) -> bool:
    with schema_context(schema_name):
        return services.import_job_check(job_id=job_id) is not None


@shared_task
def import_job_run(*, schema_name: str, job_id: int) -> bool:
    with schema_context(schema_name):
        return services.import_job_run(job_id=job_id) is not None
