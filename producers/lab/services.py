"""Every write of the living lab. E-mails to the member who proposed go through the outbox
(marketplace.followups): recorded in the decision's (or the product's) transaction, sent after it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace import followups
from marketplace.models import User
from pickup_points.models import LabGroup
from producers import locks, services
from producers.models import (
    LabDecision,
    LabSession,
    Outcome,
    Producer,
    Product,
    ProductRequest,
    Proposal,
    ProposalComment,
    ProposalSupport,
)


@transaction.atomic
def proposal_create(
    *,
    author: User,
    group: LabGroup | None,
    title: str,
    reason: str,
    target_price: Decimal | None = None,
    target_unit: str = "",
    supplier: Producer | None = None,
    supplier_hint: str = "",
) -> Proposal:
    proposal = Proposal(
        author=author,
        group=group,
        title=title.strip(),
        reason=reason.strip(),
        target_price=target_price,
        target_unit=target_unit.strip(),
        supplier=supplier,
        supplier_hint=supplier_hint.strip(),
    )
    proposal.full_clean()
    proposal.save()
    return proposal


@transaction.atomic
def proposal_support(*, proposal: Proposal, user: User) -> bool:
    """« Je soutiens ». True when counted now; a second click (or two at once) counts once: the unique
    constraint refuses the second row, which ON CONFLICT DO NOTHING drops."""
    if not proposal.is_open:
        raise ValidationError(_("Cette proposition a déjà été décidée : elle ne reçoit plus de soutiens."))
    made = ProposalSupport.objects.bulk_create(
        [ProposalSupport(proposal=proposal, user=user)], ignore_conflicts=True
    )
    return bool(made and made[0].pk)


@transaction.atomic
def proposal_unsupport(*, proposal: Proposal, user: User) -> None:
    ProposalSupport.objects.filter(proposal=proposal, user=user).delete()


@transaction.atomic
def proposal_comment_add(*, proposal: Proposal, author: User, text: str) -> ProposalComment:
    comment = ProposalComment(proposal=proposal, author=author, text=text.strip())
    comment.full_clean()
    comment.save()
    return comment


@transaction.atomic
def lab_session_create(
    *,
    group: LabGroup | None,
    starts_at: datetime,
    place: str,
    proposals: list[Proposal],
    created_by: User,
) -> LabSession:
    """Open a « séance du labo » of one group with the proposals on its table (open ones of that group)."""
    wrong = [p.title for p in proposals if p.group_id != (group.pk if group else None) or not p.is_open]
    if wrong:
        raise ValidationError(
            {
                "proposals": _("Ces propositions ne sont pas ouvertes dans ce groupe : %(titles)s.")
                % {"titles": ", ".join(wrong)}
            }
        )
    session = LabSession(group=group, starts_at=starts_at, place=place.strip(), created_by=created_by)
    session.full_clean()
    session.save()
    session.proposals.set(proposals)
    return session


_STATUS_OF = {
    Outcome.ADOPTED: Proposal.Status.ADOPTED,
    Outcome.REJECTED: Proposal.Status.REJECTED,
    Outcome.TO_SEARCH: Proposal.Status.TO_SEARCH,
}


@transaction.atomic
def lab_decision_record(
    *,
    session: LabSession,
    proposal_id: int,
    outcome: str,
    reason: str,
    decided_by: User,
    producer: Producer | None = None,
) -> LabDecision:
    """Record what the session decided about a proposal on its table, and why. An adopted proposal becomes a
    product request to `producer` (the proposal's supplier by default). The member who proposed is told."""
    if not session.proposals.filter(pk=proposal_id).exists():
        raise ValidationError(_("Cette proposition n'est pas à l'ordre du jour de cette séance."))
    proposal = locks.proposal_lock(proposal_id)
    if not proposal.is_open:
        raise ValidationError(
            _("Cette proposition a déjà été décidée (%(status)s).")
            % {"status": proposal.get_status_display()}
        )
    if LabDecision.objects.filter(session=session, proposal=proposal).exists():
        raise ValidationError(_("Cette séance a déjà décidé de cette proposition."))
    if not reason.strip():
        raise ValidationError({"reason": _("Dites pourquoi : les membres liront la raison de la décision.")})
    producer = producer or proposal.supplier
    if outcome == Outcome.ADOPTED and producer is None:
        raise ValidationError({"producer": _("Choisissez le fournisseur à qui demander ce produit.")})
    decision = LabDecision(
        session=session, proposal=proposal, outcome=outcome, reason=reason.strip(), decided_by=decided_by
    )
    decision.full_clean()
    decision.save()
    proposal.status = _STATUS_OF[Outcome(outcome)]
    proposal.save(update_fields=["status"])
    if outcome == Outcome.ADOPTED:
        request = ProductRequest(proposal=proposal, decision=decision, producer=producer)
        request.full_clean()
        request.save()
    followups.followup_add(
        "producers.tasks.lab_decision_email_send",
        key=f"lab-decision:{connection.schema_name}:{decision.pk}",  # type: ignore[attr-defined]
        schema_name=connection.schema_name,  # type: ignore[attr-defined]
        decision_id=decision.pk,
    )
    return decision


@transaction.atomic
def product_request_answer(*, request_id: int, producer: Producer, **product_fields) -> Product:
    """The supplier answers a request by creating the catalogue product, linked to the proposal."""
    request = locks.product_request_lock(request_id)
    if request.producer_id != producer.pk:
        raise ProductRequest.DoesNotExist
    if request.product_id is not None:
        raise ValidationError(_("Cette demande a déjà reçu son produit."))
    product = services.product_create(producer=producer, **product_fields)
    request.product = product
    request.answered_at = timezone.now()
    request.save(update_fields=["product", "answered_at"])
    followups.followup_add(
        "producers.tasks.lab_product_email_send",
        key=f"lab-product:{connection.schema_name}:{request.pk}",  # type: ignore[attr-defined]
        schema_name=connection.schema_name,  # type: ignore[attr-defined]
        request_id=request.pk,
    )
    return product
