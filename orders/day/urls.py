from django.urls import path

from orders.day import views

# The distribution-day page and its forms (the order, or line, says at which point and distribution).
urlpatterns = [
    path("points/<int:point_id>/distributions/<int:distribution_id>/", views.point_day, name="point_day"),
    path(
        "points/<int:point_id>/distributions/<int:distribution_id>/trouver/",
        views.point_day_find,
        name="point_day_find",
    ),
    path("panier/<str:code>/", views.basket_code_open, name="basket_code_open"),
    path("points/commandes/<int:order_id>/paiement/", views.point_day_payment, name="point_day_payment"),
    path("points/commandes/<int:order_id>/regler/", views.point_day_settle, name="point_day_settle"),
    path("points/lignes/<int:line_id>/poids/", views.point_day_weigh, name="point_day_weigh"),
]
