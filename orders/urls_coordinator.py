from django.urls import path

from orders import views_coordinator as views

urlpatterns = [
    path("ventes/", views.sale_list, name="sale_list"),
    path("ventes/nouvelle/", views.sale_create, name="sale_create"),
    path("ventes/<int:sale_id>/produits/", views.sale_offers, name="sale_offers"),
    path("ventes/<int:sale_id>/publier/", views.sale_publish, name="sale_publish"),
    path("ventes/<int:sale_id>/commandes/", views.sale_orders, name="sale_orders"),
    path("ventes/<int:sale_id>/commandes.csv", views.sale_orders_csv, name="sale_orders_csv"),
    path("ventes/<int:sale_id>/dupliquer/", views.sale_duplicate, name="sale_duplicate"),
    path("programmations/", views.schedule_list, name="schedule_list"),
    path(
        "programmations/<int:schedule_id>/ventes/",
        views.schedule_sales_create,
        name="schedule_sales_create",
    ),
    path("reglages/paiements/", views.payment_settings, name="payment_settings"),
]
