"""Coordinators' pages of the lab groups: numbers per group, a new group, who is in which group."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from marketplace.models import Membership, Role
from marketplace.permissions import role_required
from pickup_points import groups
from pickup_points.models import LabGroup, PickupPoint


class LabGroupForm(forms.ModelForm):
    class Meta:
        model = LabGroup
        fields = ["name", "kind", "pickup_point"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pickup_point"].queryset = PickupPoint.objects.filter(is_active=True).order_by("name")


class MoveForm(forms.Form):
    group = forms.ModelChoiceField(
        label=gettext_lazy("Groupe"),
        queryset=LabGroup.objects.none(),
        required=False,
        empty_label=gettext_lazy("Aucun groupe"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = LabGroup.objects.order_by("name")


@role_required(Role.COORDINATOR)
def lab_groups(request):
    form = LabGroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = groups.lab_group_create(**form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Le groupe « %(name)s » est créé.") % {"name": group.name})
            return redirect("lab_groups")
    figures, last_sale = groups.lab_groups_overview(collective=request.tenant)
    context = {"figures": figures, "last_sale": last_sale, "form": form}
    return render(request, "pickup_points/lab_groups.html", context, status=400 if form.errors else 200)


@role_required(Role.COORDINATOR)
def lab_group_members(request):
    rows = groups.lab_group_members(collective=request.tenant)
    all_groups = groups.lab_groups()
    return render(request, "pickup_points/lab_group_members.html", {"rows": rows, "groups": all_groups})


@require_POST
@role_required(Role.COORDINATOR)
def lab_group_member_move(request, membership_id: int):
    membership = (
        Membership.objects.filter(collective=request.tenant, pk=membership_id).select_related("user").first()
    )
    if membership is None:
        raise Http404
    form = MoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choisissez un groupe de la liste."))
        return redirect("lab_group_members")
    try:
        groups.lab_group_member_set(
            collective=request.tenant, user=membership.user, group=form.cleaned_data["group"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        group = form.cleaned_data["group"]
        messages.success(
            request,
            _("%(name)s est maintenant dans le groupe « %(group)s ».")
            % {"name": membership.user.display_name, "group": group.name}
            if group
            else _("%(name)s n'est plus dans aucun groupe.") % {"name": membership.user.display_name},
        )
    return redirect("lab_group_members")
