"""« Rejoindre comme producteur »: a farm applies, a coordinator accepts or refuses it, once.

Writes (`application_*`), the reads of the coordinators' pages and the e-mails the follow-ups send, in one
module: the flow is small and reads best in one place. Every function runs in the collective's schema.
The e-mails are follow-ups (marketplace.followups) recorded in the transaction of the write that causes
them, and sent by the worker after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace import followups, selectors
from marketplace import locks as marketplace_locks
from marketplace.models import Collective, Invitation, Membership, Role, User
from producers import locks, services
from producers.models import Producer, ProducerApplication

APPLICATION_FIELDS = (
    "farm_name",
    "contact_name",
    "email",
    "phone",
    "town",
    "department",
    "categories",
    "products",
    "labels",
    "selling_today",
    "message",
)


class AlreadyDecided(Exception):
    """Another coordinator (or a double click) decided this application first; the message says how."""


def _schema() -> str:
    return connection.schema_name  # type: ignore[attr-defined]  # django-tenants' connection


# Writes -----------------------------------------------------------------------------------------------------


@transaction.atomic
def application_submit(*, user: User | None = None, **fields) -> tuple[ProducerApplication, bool]:
    """Record an application and, in the same transaction, the e-mails to the coordinators and the receipt
    to the applicant. The same farm and address while one is still pending (a double submit, a second
    try) is that application: (it, False), and nothing is sent again."""
    unknown = set(fields) - set(APPLICATION_FIELDS)
    if unknown:
        raise ValueError(f"not application fields: {sorted(unknown)}")
    cleaned = {name: value.strip() if isinstance(value, str) else value for name, value in fields.items()}
    cleaned["email"] = cleaned.get("email", "").lower()
    cleaned["department"] = cleaned.get("department", "").upper()
    application = ProducerApplication(user=user if user and user.is_authenticated else None, **cleaned)
    application.full_clean(validate_constraints=False)
    existing = _pending_same(application)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError:  # the other request of a double click committed between the look and the insert
        existing = _pending_same(application)
        if existing is None:
            raise
        return existing, False
    followups.followup_add(
        "producers.tasks.application_received_notify", schema_name=_schema(), application_id=application.pk
    )
    followups.followup_add(
        "producers.tasks.application_receipt_send", schema_name=_schema(), application_id=application.pk
    )
    return application, True


def _pending_same(application: ProducerApplication) -> ProducerApplication | None:
    return (
        ProducerApplication.objects.annotate(email_lower=Lower("email"), farm_lower=Lower("farm_name"))
        .filter(
            status=ProducerApplication.Status.PENDING,
            email_lower=application.email.lower(),
            farm_lower=application.farm_name.lower(),
        )
        .first()
    )


def _decidable(application_id: int) -> ProducerApplication:
    application = locks.application_lock(application_id)
    if application is None:
        raise ProducerApplication.DoesNotExist
    if application.status == ProducerApplication.Status.ACCEPTED:
        raise AlreadyDecided(_("Cette candidature a déjà été acceptée."))
    if application.status == ProducerApplication.Status.REFUSED:
        raise AlreadyDecided(_("Cette candidature a déjà été refusée."))
    return application


@dataclass(frozen=True)
class Acceptance:
    application: ProducerApplication
    producer: Producer
    linked: User | None  # the applicant's existing account, now producer of the collective
    invitation: Invitation | None  # otherwise: an invitation sent to the address of the application


@transaction.atomic
def application_accept(*, collective: Collective, application_id: int, by: User) -> Acceptance:
    """Create the producer from the application and give the applicant's account the producer role linked to
    it: the account of that address if there is one, else an invitation to that address (which links the
    account that accepts it). Once: a second decision raises AlreadyDecided."""
    application = _decidable(application_id)
    producer = services.producer_create(
        name=application.farm_name,
        town=application.town,
        labels=", ".join(application.label_labels())[:200],
        contact_email=application.email,
        contact_phone=application.phone,
        description=application.products,
    )
    account = application.user or User.objects.filter(email__iexact=application.email).first()
    invitation = None
    if account is not None and account.is_active and not account.is_erased:
        membership = marketplace_locks.membership_of_lock(collective=collective, user=account)
        if membership is None:
            membership = Membership(collective=collective, user=account, roles=[])
        roles = set(membership.roles) | {Role.PRODUCER}
        membership.roles = [role for role in Role.values if role in roles]
        membership.status = Membership.Status.ACTIVE
        membership.save()
        services.producer_account_link(producer=producer, user=account)
    else:
        account = None
        # One e-mail to the newcomer: the acceptance carries the invitation's link.
        invitation = services.producer_invite(
            collective=collective, producer=producer, by=by, email=application.email, send=False
        ).invitation
    application.status = ProducerApplication.Status.ACCEPTED
    application.decided_at = timezone.now()
    application.decided_by = by
    application.producer = producer
    application.save(update_fields=["status", "decided_at", "decided_by", "producer"])
    followups.followup_add(
        "producers.tasks.application_decision_send",
        schema_name=_schema(),
        application_id=application.pk,
        invitation_id=invitation.pk if invitation else None,
    )
    return Acceptance(application=application, producer=producer, linked=account, invitation=invitation)


@transaction.atomic
def application_refuse(*, application_id: int, by: User, reason: str) -> ProducerApplication:
    """Refuse with a reason, sent to the applicant. Once: a second decision raises AlreadyDecided."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Dites en quelques mots pourquoi : la personne le recevra.")})
    application = _decidable(application_id)
    application.status = ProducerApplication.Status.REFUSED
    application.decided_at = timezone.now()
    application.decided_by = by
    application.refusal_reason = reason
    application.full_clean()
    application.save(update_fields=["status", "decided_at", "decided_by", "refusal_reason"])
    followups.followup_add(
        "producers.tasks.application_decision_send",
        schema_name=_schema(),
        application_id=application.pk,
        invitation_id=None,
    )
    return application


# Reads ------------------------------------------------------------------------------------------------------


def applications_for_coordinators() -> QuerySet[ProducerApplication]:
    """Pending first (oldest first: first come, first answered), then the decided ones, newest first."""
    # "pending" sorts after "accepted" and "refused": a conditional key puts it first.
    pending_first = Case(When(status=ProducerApplication.Status.PENDING, then=Value(0)), default=Value(1))
    return ProducerApplication.objects.select_related("producer").order_by(
        pending_first, F("decided_at").desc(nulls_first=True), "created_at"
    )


def applications_of(user: User) -> QuerySet[ProducerApplication]:
    """What one account applied for in this collective: signed in, or from its address."""
    return ProducerApplication.objects.filter(Q(user=user) | Q(email__iexact=user.email)).order_by("pk")


# Retention and rights (producers.receivers) ----------------------------------------------------------------


def applications_purge(now: datetime) -> int:
    cutoff = now - timedelta(days=settings.PRODUCER_APPLICATION_REFUSED_RETENTION_DAYS)
    deleted, _rows = ProducerApplication.objects.filter(
        status=ProducerApplication.Status.REFUSED, decided_at__lt=cutoff
    ).delete()
    return deleted


def applications_export(user: User) -> list[dict]:
    return [
        {
            "farm_name": application.farm_name,
            "contact_name": application.contact_name,
            "email": application.email,
            "phone": application.phone,
            "town": application.town,
            "department": application.department,
            "products": application.products,
            "categories": application.category_labels(),
            "labels": application.label_labels(),
            "selling_today": application.selling_today,
            "message": application.message,
            "status": str(application.get_status_display()),
            "created_at": application.created_at,
            "decided_at": application.decided_at,
            "refusal_reason": application.refusal_reason,
        }
        for application in applications_of(user)
    ]


def applications_erase(user: User) -> None:
    applications_of(user).delete()


# E-mails (the follow-ups' work) -----------------------------------------------------------------------------


def _url(collective: Collective, name: str, **kwargs) -> str:
    return collective.base_url + reverse(name, urlconf=settings.ROOT_URLCONF, kwargs=kwargs or None)


def _public_url(name: str) -> str:
    port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
    return f"{settings.SITE_SCHEME}://{settings.BASE_DOMAIN}{port}" + reverse(
        name, urlconf=settings.PUBLIC_SCHEMA_URLCONF
    )


def application_received_email(*, application_id: int) -> None:
    application = ProducerApplication.objects.filter(pk=application_id).first()
    if application is None:  # erased since (the applicant deleted their account): nothing to tell
        return
    collective = Collective.objects.current()
    to = selectors.coordinator_emails(collective=collective)
    if not to:
        return
    context = {
        "collective": collective,
        "application": application,
        "url": _url(collective, "producer_application_detail", application_id=application.pk),
    }
    send_mail(
        subject=_("Candidature de producteur : %(farm)s") % {"farm": application.farm_name},
        message=render_to_string("producers/email/application_received.txt", context),
        from_email=None,
        recipient_list=to,
    )


def application_receipt_email(*, application_id: int) -> None:
    application = ProducerApplication.objects.filter(pk=application_id).first()
    if application is None:
        return
    collective = Collective.objects.current()
    send_mail(
        subject=_("Votre candidature à %(name)s est bien reçue") % {"name": collective.name},
        message=render_to_string(
            "producers/email/application_receipt.txt", {"collective": collective, "application": application}
        ),
        from_email=None,
        recipient_list=[application.email],
    )


def application_decision_email(*, application_id: int, invitation_id: int | None) -> None:
    application = ProducerApplication.objects.filter(pk=application_id).first()
    if application is None:
        return
    collective = Collective.objects.current()
    invitation = Invitation.objects.filter(pk=invitation_id).first() if invitation_id else None
    context = {
        "collective": collective,
        "application": application,
        "invitation_url": _url(collective, "invitation_accept", token=invitation.token) if invitation else "",
        "catalogue_url": _url(collective, "producer_list"),
        "shared_catalogue_url": _public_url("shared_catalogue"),
    }
    if application.status == ProducerApplication.Status.ACCEPTED:
        subject = _("Bienvenue parmi les producteurs de %(name)s") % {"name": collective.name}
        template = "producers/email/application_accepted.txt"
    else:
        subject = _("Votre candidature à %(name)s") % {"name": collective.name}
        template = "producers/email/application_refused.txt"
    send_mail(
        subject=subject,
        message=render_to_string(template, context),
        from_email=None,
        recipient_list=[application.email],
    )
