from django.urls import path

from orders import views

urlpatterns = [
    path("ventes/<int:sale_id>/", views.sale_shop, name="sale_shop"),
    path("ventes/<int:sale_id>/commander/", views.sale_checkout, name="sale_checkout"),
    path("commandes/", views.my_orders, name="my_orders"),
    path("commandes/<int:order_id>/", views.order_detail, name="order_detail"),
    path("commandes/<int:order_id>/annuler/", views.order_cancel, name="order_cancel"),
    path("mes-preferences/", views.my_preferences, name="my_preferences"),
]
