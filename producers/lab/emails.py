"""E-mails of the living lab to who proposed, sent by the outbox's tasks (outside any transaction)."""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from marketplace.models import Collective, User
from producers.models import LabDecision, ProductRequest


def _send(*, to: User, subject: str, template: str, context: dict) -> None:
    if not to.is_active or not to.email:
        return  # an erased or closed account: nobody to tell
    message = EmailMultiAlternatives(subject=subject, body=render_to_string(template, context), to=[to.email])
    message.send()


def lab_decision_email(*, decision_id: int) -> None:
    decision = LabDecision.objects.select_related("proposal", "session").get(pk=decision_id)
    collective = Collective.objects.get(schema_name=connection.schema_name)  # type: ignore[attr-defined]
    author = User.objects.get(pk=decision.proposal.author_id)
    context = {
        "collective": collective,
        "decision": decision,
        "first_name": author.first_name,
        "url": f"{collective.base_url}/labo/propositions/{decision.proposal_id}/",
    }
    subject = _("Le labo a décidé de votre proposition « %(title)s » : %(outcome)s") % {
        "title": decision.proposal.title,
        "outcome": decision.get_outcome_display(),
    }
    _send(to=author, subject=subject, template="producers/email/lab_decision.txt", context=context)


def lab_product_email(*, request_id: int) -> None:
    request = ProductRequest.objects.select_related("proposal", "product", "producer").get(pk=request_id)
    if request.product is None:
        return
    collective = Collective.objects.get(schema_name=connection.schema_name)  # type: ignore[attr-defined]
    author = User.objects.get(pk=request.proposal.author_id)
    context = {
        "collective": collective,
        "request": request,
        "first_name": author.first_name,
        "url": f"{collective.base_url}/labo/propositions/{request.proposal_id}/",
    }
    subject = _("Votre proposition « %(title)s » est devenue un produit") % {"title": request.proposal.title}
    _send(to=author, subject=subject, template="producers/email/lab_product.txt", context=context)
