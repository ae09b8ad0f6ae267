"""« Points proposés » (coordinators): the places proposed on the public site in the collective's department,
to accept or decline; and the kit PDF of a point, for its staff and the coordinators."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace import point_proposals
from marketplace.models import Role
from marketplace.permissions import role_required
from pickup_points import kit, proposals, selectors
from pickup_points.pages import STAFF_ROLES


@role_required(Role.COORDINATOR)
def proposal_list(request):
    collective = request.tenant
    context = {
        "proposals": point_proposals.proposals_open_for(collective=collective),
        "accepted": point_proposals.proposals_accepted_by(collective=collective),
        "department": collective.department,
    }
    return render(request, "pickup_points/proposal_list.html", context)


@require_POST
@role_required(Role.COORDINATOR)
def proposal_accept(request, proposal_id: int):
    if point_proposals.proposal_visible_to(collective=request.tenant, proposal_id=proposal_id) is None:
        raise Http404
    try:
        point = proposals.point_proposal_accept(
            collective=request.tenant, proposal_id=proposal_id, by=request.user
        )
    except proposals.ProposalRefused as refused:
        messages.error(request, str(refused))
        return redirect("point_proposals")
    messages.success(
        request,
        _("Le point « %(name)s » est créé ; son contact reçoit l'accès et le kit de distribution par e-mail.")
        % {"name": point.name},
    )
    return redirect("point_edit", point_id=point.pk)


@require_POST
@role_required(Role.COORDINATOR)
def proposal_decline(request, proposal_id: int):
    if point_proposals.point_proposal_decline(collective=request.tenant, proposal_id=proposal_id) is None:
        raise Http404
    messages.success(
        request, _("Proposition déclinée : elle reste ouverte aux autres collectifs du département.")
    )
    return redirect("point_proposals")


@role_required(*STAFF_ROLES)
def point_kit(request, point_id: int):
    point = get_object_or_404(
        selectors.points_visible(user=request.user, membership=request.membership), pk=point_id
    )
    content = kit.kit_pdf(collective=request.tenant, point=point)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{kit.kit_filename(point)}"'
    response["Cache-Control"] = "private, no-store"
    return response
