from django.urls import path

from orders.sales import views as sale_views

urlpatterns = [
    path("ventes/", sale_views.sale_list, name="sale_list"),
    path("ventes/nouvelle/", sale_views.sale_create, name="sale_create"),
    path("ventes/<int:sale_id>/produits/", sale_views.sale_offers, name="sale_offers"),
    path("ventes/<int:sale_id>/publier/", sale_views.sale_publish, name="sale_publish"),
    path("ventes/<int:sale_id>/dates/", sale_views.sale_window, name="sale_window"),
    path("ventes/<int:sale_id>/commandes/", sale_views.sale_orders, name="sale_orders"),
    path("ventes/<int:sale_id>/commandes.csv", sale_views.sale_orders_csv, name="sale_orders_csv"),
    path("ventes/<int:sale_id>/dupliquer/", sale_views.sale_duplicate, name="sale_duplicate"),
    path("dfc/catalogue.jsonld", sale_views.dfc_catalogue, name="dfc_catalogue"),
    path("programmations/", sale_views.schedule_list, name="schedule_list"),
    path(
        "programmations/<int:schedule_id>/ventes/",
        sale_views.schedule_sales_create,
        name="schedule_sales_create",
    ),
]
