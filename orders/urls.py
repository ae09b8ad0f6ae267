"""Every page of the ordering app, room by room (paths and names as they always were)."""

from django.urls import include, path

urlpatterns = [
    path("", include("orders.checkout.urls")),
    path("", include("orders.payments.urls")),
    path("", include("orders.sales.urls")),
    path("", include("orders.sheets.urls")),
    path("", include("orders.day.urls")),
    path("", include("orders.ledger.urls")),
    path("", include("orders.statements.urls")),
    path("", include("orders.cashbox.urls")),
    path("", include("orders.solidarity.urls")),
    path("", include("orders.waiting.urls")),
]
