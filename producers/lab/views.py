"""Pages of the living lab. Members (and coordinators) read and propose; only coordinators open sessions and
record decisions; producers read the requests addressed to them and answer with a product.

A member sees their group's lab only (a proposal of another group is a 404); a coordinator sees every lab
and filters by group. The author of a proposal shows by first name to members, in full to coordinators.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.models import Role
from marketplace.permissions import role_required
from pickup_points import groups
from producers.forms import ProductForm
from producers.lab import selectors, services
from producers.lab.forms import CommentForm, DecisionForm, GroupFilterForm, ProposalForm, SessionForm
from producers.models import Product, ProductRequest
from producers.views import _managed_producer

LAB = (Role.MEMBER, Role.COORDINATOR)


def _is_coordinator(request) -> bool:
    return request.membership.has_role(Role.COORDINATOR)


def _scope(request):
    """The labs this person sees: every group (coordinator) or their own group's (member)."""
    if _is_coordinator(request):
        return selectors.ALL_GROUPS
    return groups.lab_group_of(request.user)


@role_required(*LAB)
def lab(request):
    is_coordinator = _is_coordinator(request)
    scope = _scope(request)
    filter_form = None
    group = None if scope is selectors.ALL_GROUPS else scope
    if is_coordinator:
        filter_form = GroupFilterForm(request.GET or None)
        if filter_form.is_valid() and filter_form.cleaned_data["groupe"]:
            scope = group = filter_form.cleaned_data["groupe"]
    context = {
        "is_coordinator": is_coordinator,
        "group": group,
        "filter_form": filter_form,
        "open_proposals": list(selectors.proposals(group=scope, viewer=request.user, open_only=True)),
        "upcoming": selectors.sessions_upcoming(group=scope),
        "past": selectors.sessions_past(group=scope),
    }
    return render(request, "producers/lab/lab.html", context)


@role_required(*LAB)
def proposal_create(request):
    form = ProposalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            proposal = services.proposal_create(
                author=request.user, group=groups.lab_group_of(request.user), **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Merci ! Votre proposition est sur la table du labo."))
            return redirect("lab_proposal", proposal_id=proposal.pk)
    return render(
        request, "producers/lab/proposal_form.html", {"form": form}, status=400 if form.errors else 200
    )


def _proposal(request, proposal_id: int):
    proposal = selectors.proposal_detail(proposal_id=proposal_id, group=_scope(request), viewer=request.user)
    if proposal is None:
        raise Http404
    return proposal


@role_required(*LAB)
def proposal(request, proposal_id: int, comment_form=None):
    found = _proposal(request, proposal_id)
    context = {
        "proposal": found,
        "is_coordinator": _is_coordinator(request),
        "comment_form": comment_form or CommentForm(),
    }
    return render(request, "producers/lab/proposal.html", context, status=400 if comment_form else 200)


@require_POST
@role_required(*LAB)
def proposal_support(request, proposal_id: int):
    found = _proposal(request, proposal_id)
    try:
        if request.POST.get("retirer"):
            services.proposal_unsupport(proposal=found, user=request.user)
            messages.success(request, _("Votre soutien est retiré."))
        else:
            services.proposal_support(proposal=found, user=request.user)
            messages.success(request, _("Votre soutien est compté."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("lab_proposal", proposal_id=found.pk)


@require_POST
@role_required(*LAB)
def proposal_comment(request, proposal_id: int):
    found = _proposal(request, proposal_id)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.proposal_comment_add(proposal=found, author=request.user, text=form.cleaned_data["text"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Commentaire ajouté."))
            return redirect("lab_proposal", proposal_id=found.pk)
    return proposal(request, proposal_id, comment_form=form)


@role_required(Role.COORDINATOR)
def session_create(request):
    form = SessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.lab_session_create(created_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("La séance du labo est ouverte."))
            return redirect("lab_session", session_id=session.pk)
    return render(
        request, "producers/lab/session_form.html", {"form": form}, status=400 if form.errors else 200
    )


@role_required(*LAB)
def session(request, session_id: int, failed: DecisionForm | None = None):
    found = selectors.session_detail(session_id=session_id, group=_scope(request))
    if found is None:
        raise Http404
    is_coordinator = _is_coordinator(request)
    decided = {decision.proposal_id: decision for decision in found.decisions.all()}
    rows = []
    for item in found.proposals.all():
        form = None
        if is_coordinator and item.pk not in decided and item.is_open:
            if failed is not None and failed.prefix == f"p{item.pk}":
                form = failed
            else:
                form = DecisionForm(initial={"proposal": item.pk}, prefix=f"p{item.pk}")
        rows.append({"proposal": item, "decision": decided.get(item.pk), "form": form})
    context = {"session": found, "rows": rows, "is_coordinator": is_coordinator}
    return render(request, "producers/lab/session.html", context, status=400 if failed else 200)


@require_POST
@role_required(Role.COORDINATOR)
def session_decide(request, session_id: int):
    found = selectors.session_detail(session_id=session_id, group=selectors.ALL_GROUPS)
    if found is None:
        raise Http404
    prefix = f"p{request.POST.get('proposal_id', '')}"
    form = DecisionForm(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            services.lab_decision_record(
                session=found,
                proposal_id=form.cleaned_data["proposal"],
                outcome=form.cleaned_data["outcome"],
                reason=form.cleaned_data["reason"],
                producer=form.cleaned_data["producer"],
                decided_by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Décision enregistrée : la personne qui a proposé est prévenue."))
            return redirect("lab_session", session_id=found.pk)
    return session(request, session_id, failed=form)


# ---------------------------------------------------------------------------- producers' back office


@role_required(Role.PRODUCER, Role.COORDINATOR)
def product_requests(request, producer_id: int):
    producer = _managed_producer(request, producer_id)
    found = list(selectors.product_requests_for(producer_id=producer.pk))
    return render(request, "producers/lab/requests.html", {"producer": producer, "requests": found})


@role_required(Role.PRODUCER, Role.COORDINATOR)
def product_request_answer(request, producer_id: int, request_id: int):
    producer = _managed_producer(request, producer_id)
    product_request = selectors.product_requests_for(producer_id=producer.pk).filter(pk=request_id).first()
    if product_request is None:
        raise Http404
    if product_request.product_id:
        messages.info(request, _("Cette demande a déjà reçu son produit."))
        return redirect("lab_requests", producer_id=producer.pk)
    proposal_ = product_request.proposal
    initial = {
        "name": proposal_.title[:120],
        "price": proposal_.target_price,
        "description": proposal_.reason,
    }
    form = ProductForm(
        request.POST or None, request.FILES or None, instance=Product(producer=producer), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form._meta.fields}
        try:
            product = services.product_request_answer(
                request_id=product_request.pk, producer=producer, photo=form.photo_change(), **fields
            )
        except ProductRequest.DoesNotExist as missing:
            raise Http404 from missing
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _(
                    "« %(name)s » est au catalogue, choisi par le labo. La personne qui l'a proposé "
                    "est prévenue."
                )
                % {"name": product.name},
            )
            return redirect("lab_requests", producer_id=producer.pk)
    return render(
        request,
        "producers/lab/request_answer.html",
        {"producer": producer, "product_request": product_request, "form": form},
        status=400 if form.errors else 200,
    )
