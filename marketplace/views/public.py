"""The platform's public site: the directory of collectives and the creation of a new one."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from marketplace import selectors, services
from marketplace.forms import CollectiveCreateForm, CollectiveSearchForm


def directory(request):
    form = CollectiveSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    collectives = selectors.collectives_listed(query=query)
    return render(
        request, "marketplace/directory.html", {"form": form, "collectives": collectives, "query": query}
    )


def collective_create(request):
    if not request.user.is_authenticated:
        # Say first that an account is needed, and offer both ways to get one (not a bare sign-in page).
        return render(request, "marketplace/collective_create_account.html", {"next": request.path})
    form = CollectiveCreateForm(request.POST or None, base_domain=settings.BASE_DOMAIN)
    if request.method == "POST" and form.is_valid():
        try:
            collective = services.collective_create(owner=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            # Its sub-domain may not share this site's session (in development every host has its own):
            # a one-time sign-in lands the creator there, signed in.
            token = services.signin_handoff_create(user=request.user, collective=collective)
            landing = reverse("signin_handoff", urlconf=settings.ROOT_URLCONF, kwargs={"token": token})
            return HttpResponseRedirect(collective.base_url + landing)
    return render(
        request, "marketplace/collective_create.html", {"form": form}, status=400 if form.errors else 200
    )


@login_required
def my_collectives(request):
    memberships = selectors.memberships_of_user(user=request.user)
    return render(request, "marketplace/my_collectives.html", {"memberships": memberships})


def health(request):
    """The framework's floor: no database query beyond the host lookup (health checks, benchmarks)."""
    return HttpResponse("ok", content_type="text/plain")


def unknown_collective(request):
    return render(request, "marketplace/unknown_collective.html", {"host": request.get_host()}, status=404)
