from django.urls import path

from orders import views_coordinator as views
from orders import views_payments

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
    path("ventes/<int:sale_id>/paiements/", views_payments.sale_payments, name="sale_payments"),
    path(
        "ventes/<int:sale_id>/commandes/<int:order_id>/",
        views_payments.order_money,
        name="order_money",
    ),
    path(
        "ventes/<int:sale_id>/commandes/<int:order_id>/paiement/",
        views_payments.order_onsite_payment,
        name="order_onsite_payment",
    ),
    path(
        "ventes/<int:sale_id>/commandes/<int:order_id>/remboursement/",
        views_payments.order_refund,
        name="order_refund",
    ),
    path(
        "ventes/<int:sale_id>/commandes/<int:order_id>/lignes/<int:line_id>/poids/",
        views_payments.order_weigh,
        name="order_weigh",
    ),
    path(
        "ventes/<int:sale_id>/commandes/<int:order_id>/regler/",
        views_payments.order_settle,
        name="order_settle",
    ),
    path("reglages/paiements/", views.payment_settings, name="payment_settings"),
    path("reglages/paiements/stripe/", views_payments.stripe_connect, name="stripe_connect"),
    path(
        "reglages/paiements/stripe/retour/",
        views_payments.stripe_connect_return,
        name="stripe_connect_return",
    ),
]
