"""« Lancer un drive » on the public site: one page, checked as a whole, written in one go (orders.launch),
then the founder lands signed in on the new drive's home with its first sale scheduled."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from marketplace import services
from marketplace.throttle import public_form_throttled
from orders import launch
from orders.launch_forms import DriveLaunchForm


def drive_launch(request):
    if not request.user.is_authenticated:
        return render(request, "marketplace/collective_create_account.html", {"next": request.path})
    throttled = public_form_throttled(request, action="drive_launch")
    if throttled is not None:
        return throttled
    form = DriveLaunchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            launched = launch.drive_launch(founder=request.user, plan=form.plan())
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                form.add_error(None, error)
            for field, messages in getattr(error, "error_dict", {}).items():
                form.add_error(field if field in form.fields else None, ValidationError(messages).messages)
        else:
            token = services.signin_handoff_create(user=request.user, collective=launched.collective)
            landing = reverse("signin_handoff", urlconf=settings.ROOT_URLCONF, kwargs={"token": token})
            return HttpResponseRedirect(launched.collective.base_url + landing)
    return render(
        request, "marketplace/drive_launch.html", {"form": form}, status=400 if form.errors else 200
    )
