from django.urls import path

from orders.checkout import views as checkout_views

urlpatterns = [
    path("ventes/<int:sale_id>/", checkout_views.sale_shop, name="sale_shop"),
    path("ventes/<int:sale_id>/total/", checkout_views.sale_basket_total, name="sale_basket_total"),
    path(
        "ventes/<int:sale_id>/produits/<int:offer_id>/liste-attente/",
        checkout_views.offer_wait_join,
        name="offer_wait_join",
    ),
    path(
        "mes-listes-attente/produits/<int:offer_wait_id>/accepter/",
        checkout_views.offer_wait_accept,
        name="offer_wait_accept",
    ),
    path("ventes/<int:sale_id>/commander/", checkout_views.sale_checkout, name="sale_checkout"),
    path("commandes/", checkout_views.my_orders, name="my_orders"),
    path("commandes/<int:order_id>/", checkout_views.order_detail, name="order_detail"),
    path("commandes/<int:order_id>/rendez-vous.ics", checkout_views.order_calendar, name="order_calendar"),
    path("commandes/<int:order_id>/annuler/", checkout_views.order_cancel, name="order_cancel"),
    path("mes-preferences/", checkout_views.my_preferences, name="my_preferences"),
]
