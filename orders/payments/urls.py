from django.urls import path

from orders.payments import views as payment_views

urlpatterns = [
    path("commandes/<int:order_id>/payer/", payment_views.order_pay, name="order_pay"),
    path("commandes/<int:order_id>/paiement/", payment_views.payment_return, name="payment_return"),
    path(
        "commandes/<int:order_id>/paiement/abandon/",
        payment_views.payment_cancelled,
        name="payment_cancelled",
    ),
    path("ventes/<int:sale_id>/paiements/", payment_views.sale_payments, name="sale_payments"),
    path(
        "ventes/<int:sale_id>/commandes/<int:order_id>/",
        payment_views.order_money,
        name="order_money",
    ),
    path(
        "ventes/<int:sale_id>/commandes/<int:order_id>/paiement/",
        payment_views.order_onsite_payment,
        name="order_onsite_payment",
    ),
    path(
        "ventes/<int:sale_id>/commandes/<int:order_id>/remboursement/",
        payment_views.order_refund,
        name="order_refund",
    ),
    path(
        "ventes/<int:sale_id>/commandes/<int:order_id>/lignes/<int:line_id>/poids/",
        payment_views.order_weigh,
        name="order_weigh",
    ),
    path(
        "ventes/<int:sale_id>/commandes/<int:order_id>/regler/",
        payment_views.order_settle,
        name="order_settle",
    ),
    path("reglages/paiements/", payment_views.payment_settings, name="payment_settings"),
    path("reglages/paiements/stripe/", payment_views.stripe_connect, name="stripe_connect"),
    path(
        "reglages/paiements/stripe/retour/",
        payment_views.stripe_connect_return,
        name="stripe_connect_return",
    ),
]
