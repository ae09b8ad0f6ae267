"""Thin Celery tasks of the producers' app: they take the schema and ids, and call one service."""

from __future__ import annotations

from celery import shared_task
from django_tenants.utils import schema_context

from producers import agreements, applications, services
from producers.lab import emails as lab_emails


@shared_task
def import_job_check(*, schema_name: str, job_id: int) -> bool:
    with schema_context(schema_name):
        return services.import_job_check(job_id=job_id) is not None


@shared_task
def import_job_run(*, schema_name: str, job_id: int) -> bool:
    with schema_context(schema_name):
        return services.import_job_run(job_id=job_id) is not None


@shared_task
def agreements_ending_check(*, schema_name: str) -> int:
    """The warnings of agreements ending soon (the clock's visit, orders.closing.jobs.clock_run, does it)."""
    with schema_context(schema_name):
        return agreements.agreements_ending_notify()


@shared_task
def agreement_ending_email_send(*, schema_name: str, agreement_id: int) -> None:
    with schema_context(schema_name):
        agreements.agreement_ending_email(agreement_id=agreement_id)


@shared_task
def lab_decision_email_send(*, schema_name: str, decision_id: int) -> None:
    with schema_context(schema_name):
        lab_emails.lab_decision_email(decision_id=decision_id)


@shared_task
def lab_product_email_send(*, schema_name: str, request_id: int) -> None:
    with schema_context(schema_name):
        lab_emails.lab_product_email(request_id=request_id)


# « Rejoindre comme producteur » (producers.applications): the follow-ups of an application -----------------


@shared_task
def application_received_notify(*, schema_name: str, application_id: int) -> None:
    with schema_context(schema_name):
        applications.application_received_email(application_id=application_id)


@shared_task
def application_receipt_send(*, schema_name: str, application_id: int) -> None:
    with schema_context(schema_name):
        applications.application_receipt_email(application_id=application_id)


@shared_task
def application_decision_send(*, schema_name: str, application_id: int, invitation_id: int | None) -> None:
    with schema_context(schema_name):
        applications.application_decision_email(application_id=application_id, invitation_id=invitation_id)
