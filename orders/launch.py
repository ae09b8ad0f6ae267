"""« Lancer un drive »: a drive fermier, its founder's farm, its first pickup point and its first weekly
schedule, in one go.

Everything is checked before the first write (`drive_launch_check`), then written in one transaction:
the collective's row, domain and membership (public schema), its schema cloned from the template (DDL, which
PostgreSQL runs inside the same transaction), then, in the new schema, the farm, the point with its hours and
the schedule with its first sales. A failure anywhere rolls it all back, the cloned schema included; the
schema is also dropped explicitly should it outlive the rollback (a clone that fell back to migrations,
which django-tenants may run outside the transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_exists, tenant_context

from marketplace import services as marketplace_services
from marketplace.models import Collective, Membership, Role, User
from orders.models import RecurringSchedule, Sale
from orders.sales import services as sale_services
from pickup_points import services as point_services
from pickup_points.models import PickupPoint
from producers import services as producer_services


@dataclass(frozen=True)
class DrivePlan:
    """What the founder typed, parsed (marketplace.views.launch's form)."""

    name: str
    slug: str
    town: str
    department: str
    contact_email: str
    join_mode: str
    farm_name: str
    point_name: str
    point_address: str
    point_postcode: str
    point_town: str
    access_instructions: str
    distribution_weekday: int
    distribution_start: time
    distribution_end: time
    slot_minutes: int
    slot_capacity: int
    open_weekday: int
    open_time: time
    close_weekday: int
    close_time: time
    description: str = ""


@dataclass(frozen=True)
class Launched:
    collective: Collective
    first_sale: Sale | None


def _collective(plan: DrivePlan) -> Collective:
    return Collective(
        schema_name=marketplace_services.schema_name_for_slug(plan.slug),
        slug=plan.slug,
        name=plan.name,
        kind=Collective.Kind.DRIVE,
        town=plan.town,
        department=plan.department.upper(),
        description=plan.description,
        contact_email=plan.contact_email,
        join_mode=plan.join_mode,
    )


def _point_fields(plan: DrivePlan) -> dict:
    return {
        "name": plan.point_name,
        "address": plan.point_address,
        "postcode": plan.point_postcode,
        "town": plan.point_town,
        "access_instructions": plan.access_instructions,
        "slot_minutes": plan.slot_minutes,
        "slot_capacity": plan.slot_capacity,
    }


def _schedule_fields(plan: DrivePlan) -> dict:
    return {
        "title": _("Drive de %(name)s") % {"name": plan.name},
        "kind": RecurringSchedule.Kind.WEEKLY,
        "open_weekday": plan.open_weekday,
        "open_time": plan.open_time,
        "close_weekday": plan.close_weekday,
        "close_time": plan.close_time,
        "distribution_weekday": plan.distribution_weekday,
        "distribution_start": plan.distribution_start,
        "distribution_end": plan.distribution_end,
    }


def _prefixed(error: ValidationError, prefix: str) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            f"{prefix}{field}": list(ValidationError(messages).messages)
            for field, messages in error.error_dict.items()
        }
    return {"__all__": list(error.messages)}


def drive_launch_check(plan: DrivePlan) -> None:
    """Every problem of the plan at once, as a ValidationError keyed by the form's field names; reads only."""
    errors: dict[str, list[str]] = {}
    try:
        _collective(plan).full_clean(
            exclude=["schema_name"], validate_unique=False, validate_constraints=False
        )
    except ValidationError as error:
        errors.update(_prefixed(error, ""))
    try:
        marketplace_services.collective_slug_check(plan.slug)
    except ValidationError as error:
        errors.update(_prefixed(error, ""))
    if not plan.farm_name.strip():
        errors["farm_name"] = [_("Indiquez le nom de votre ferme : c'est le premier producteur du drive.")]
    point = PickupPoint(**{**_point_fields(plan), "name": plan.point_name.strip()})
    try:
        point.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        errors.update(_prefixed(error, "point_"))
    for problem in point_services.hours_problems(
        [(plan.distribution_weekday, plan.distribution_start, plan.distribution_end)]
    ):
        errors.setdefault("distribution_end", []).append(problem)
    schedule = RecurringSchedule(**_schedule_fields(plan))
    try:
        schedule.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        errors.update(_prefixed(error, ""))
    if errors:
        raise ValidationError(errors)


def drive_launch(*, founder: User, plan: DrivePlan) -> Launched:
    """Create the drive, its founder's farm (founder: coordinator, member and producer of it), its pickup
    point and its weekly schedule with its first sales; all or nothing. Called outside any transaction."""
    drive_launch_check(plan)
    schema_name = marketplace_services.schema_name_for_slug(plan.slug)
    existed = schema_exists(schema_name)
    try:
        with transaction.atomic():
            return _drive_write(founder=founder, plan=plan)
    except BaseException:
        connection.set_schema_to_public()
        if not existed and not connection.in_atomic_block and schema_exists(schema_name):
            with connection.cursor() as cursor:
                cursor.execute(f'DROP SCHEMA "{schema_name}" CASCADE')
        raise


def _drive_write(*, founder: User, plan: DrivePlan) -> Launched:
    collective = marketplace_services.collective_create(
        owner=founder,
        name=plan.name,
        slug=plan.slug,
        kind=Collective.Kind.DRIVE,
        town=plan.town,
        department=plan.department,
        description=plan.description,
        contact_email=plan.contact_email,
        join_mode=plan.join_mode,
    )
    Membership.objects.filter(collective=collective, user=founder).update(
        roles=[Role.COORDINATOR, Role.PRODUCER, Role.MEMBER]
    )
    with tenant_context(collective):
        farm = producer_services.producer_create(
            name=plan.farm_name, town=plan.town, contact_email=founder.email
        )
        producer_services.producer_account_link(producer=farm, user=founder)
        point = point_services.point_create(**_point_fields(plan))
        point_services.point_update(
            point=point, hours=[(plan.distribution_weekday, plan.distribution_start, plan.distribution_end)]
        )
        schedule = sale_services.schedule_create(points=[point], producers=[farm], **_schedule_fields(plan))
        sales = sale_services.schedule_sales_create(schedule_id=schedule.pk, now=timezone.now())
    connection.set_schema_to_public()
    return Launched(collective=collective, first_sale=sales[0] if sales else None)
