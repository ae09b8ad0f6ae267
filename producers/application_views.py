"""« Rejoindre comme producteur » (anyone, on the collective's site) and « Candidatures de producteurs »
(the coordinators): each view parses, calls one function of producers.applications, renders or redirects."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.models import Role
from marketplace.permissions import role_required
from marketplace.selectors import collective_is_public
from marketplace.throttle import public_form_throttled
from producers import applications
from producers.forms import ApplicationForm, ApplicationRefuseForm
from producers.models import ProducerApplication


def producer_apply(request):
    if collective_is_public(getattr(request, "tenant", None)):
        raise Http404
    throttled = public_form_throttled(request, action="producer_apply")
    if throttled is not None:
        return throttled
    initial = {}
    if request.user.is_authenticated:
        initial = {
            "email": request.user.email,
            "contact_name": request.user.get_full_name(),
            "phone": request.user.phone,
        }
    form = ApplicationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in applications.APPLICATION_FIELDS}
        try:
            application, _created = applications.application_submit(user=request.user, **fields)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            request.session["producer_application_sent"] = application.pk
            return redirect("producer_apply_sent")
    return render(request, "producers/apply.html", {"form": form}, status=400 if form.errors else 200)


def producer_apply_sent(request):
    if collective_is_public(getattr(request, "tenant", None)):
        raise Http404
    application = ProducerApplication.objects.filter(
        pk=request.session.get("producer_application_sent")
    ).first()
    if application is None:
        return redirect("producer_apply")
    return render(request, "producers/apply_sent.html", {"application": application})


@role_required(Role.COORDINATOR)
def producer_applications(request):
    return render(
        request,
        "producers/applications.html",
        {"applications": applications.applications_for_coordinators()},
    )


@role_required(Role.COORDINATOR)
def producer_application_detail(request, application_id: int):
    application = get_object_or_404(ProducerApplication.objects.select_related("producer"), pk=application_id)
    return render(
        request,
        "producers/application_detail.html",
        {"application": application, "refuse_form": ApplicationRefuseForm()},
    )


@require_POST
@role_required(Role.COORDINATOR)
def producer_application_accept(request, application_id: int):
    get_object_or_404(ProducerApplication, pk=application_id)
    try:
        accepted = applications.application_accept(
            collective=request.tenant, application_id=application_id, by=request.user
        )
    except applications.AlreadyDecided as decided:
        messages.info(request, str(decided))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if accepted.linked is not None:
            message = _("%(farm)s est maintenant producteur du collectif ; son compte y a accès.")
        else:
            message = _("%(farm)s est maintenant producteur du collectif ; une invitation lui a été envoyée.")
        messages.success(request, message % {"farm": accepted.producer.name})
    return redirect("producer_application_detail", application_id=application_id)


@require_POST
@role_required(Role.COORDINATOR)
def producer_application_refuse(request, application_id: int):
    application = get_object_or_404(ProducerApplication.objects.select_related("producer"), pk=application_id)
    form = ApplicationRefuseForm(request.POST)
    if form.is_valid():
        try:
            applications.application_refuse(
                application_id=application_id, by=request.user, reason=form.cleaned_data["reason"]
            )
        except applications.AlreadyDecided as decided:
            messages.info(request, str(decided))
        except ValidationError as error:
            form.add_error("reason", error.messages[0])
        else:
            messages.success(request, _("Candidature refusée ; le motif a été envoyé."))
            return redirect("producer_application_detail", application_id=application_id)
        if not form.errors:
            return redirect("producer_application_detail", application_id=application_id)
    return render(
        request,
        "producers/application_detail.html",
        {"application": application, "refuse_form": form},
        status=400,
    )
