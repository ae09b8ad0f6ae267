"""A collective's pages plus one that fails, for the error-reporting test."""

from django.urls import path

from config.urls_tenant import urlpatterns as tenant_urlpatterns


def boom(request):
    email = request.user.email  # a local holding personal data: it must not reach the error report
    raise RuntimeError(f"Boom for a member ({len(email)} characters)")


urlpatterns = [path("boom/", boom), *tenant_urlpatterns]
