from django.urls import path

from orders.waiting import views as waiting_views

urlpatterns = [
    path("creneaux/<int:slot_id>/liste-attente/", waiting_views.slot_wait_join, name="slot_wait_join"),
    path(
        "ventes/<int:sale_id>/points/<int:point_id>/liste-attente/",
        waiting_views.point_wait_join,
        name="point_wait_join",
    ),
    path("mes-listes-attente/", waiting_views.my_waits, name="my_waits"),
    path("mes-listes-attente/<int:wait_id>/quitter/", waiting_views.slot_wait_leave, name="slot_wait_leave"),
    path(
        "mes-listes-attente/<int:wait_id>/accepter/", waiting_views.slot_wait_accept, name="slot_wait_accept"
    ),
    path(
        "mes-listes-attente/produits/<int:offer_wait_id>/quitter/",
        waiting_views.offer_wait_leave,
        name="offer_wait_leave",
    ),
]
