"""« Proposer un point de retrait » on the public site: a town hall or a social centre offers a place to the
collectives of its department (marketplace.point_proposals). No account needed; rate-limited per address."""

from __future__ import annotations

from allauth.core.ratelimit import consume_or_429
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from marketplace import point_proposals
from marketplace.forms import PointProposalForm


def point_proposal_create(request):
    form = PointProposalForm(request.POST or None)
    if request.method == "POST":
        refused = consume_or_429(request, action="point_proposal")
        if refused is not None:
            return refused
        if form.is_valid():
            try:
                point_proposals.point_proposal_submit(**form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return redirect("point_proposal_thanks")
    return render(
        request, "marketplace/point_proposal_form.html", {"form": form}, status=400 if form.errors else 200
    )


def point_proposal_thanks(request):
    return render(request, "marketplace/point_proposal_thanks.html")
