from django.urls import include, path

urlpatterns = [
    path("", include("orders.urls_member")),
    path("", include("orders.urls_coordinator")),
    path("", include("orders.urls_sheets")),
]
