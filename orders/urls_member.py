from django.urls import path

from orders import views, views_payments

urlpatterns = [
    path("ventes/<int:sale_id>/", views.sale_shop, name="sale_shop"),
    path("ventes/<int:sale_id>/commander/", views.sale_checkout, name="sale_checkout"),
    path("commandes/", views.my_orders, name="my_orders"),
    path("commandes/<int:order_id>/", views.order_detail, name="order_detail"),
    path("commandes/<int:order_id>/annuler/", views.order_cancel, name="order_cancel"),
    path("commandes/<int:order_id>/payer/", views_payments.order_pay, name="order_pay"),
    path("commandes/<int:order_id>/paiement/", views_payments.payment_return, name="payment_return"),
    path(
        "commandes/<int:order_id>/paiement/abandon/",
        views_payments.payment_cancelled,
        name="payment_cancelled",
    ),
    path("mes-preferences/", views.my_preferences, name="my_preferences"),
]
