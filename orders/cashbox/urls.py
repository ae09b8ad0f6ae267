from django.urls import path

from orders.cashbox import views

urlpatterns = [
    path("tresorerie/caisses/", views.cash_box_list, name="cash_box_list"),
    path("tresorerie/caisses/<int:distribution_id>/points/<int:point_id>/", views.cash_box, name="cash_box"),
    path(
        "tresorerie/caisses/<int:distribution_id>/points/<int:point_id>/cloturer/",
        views.cash_box_close,
        name="cash_box_close",
    ),
    path(
        "tresorerie/caisses/<int:distribution_id>/points/<int:point_id>/cheques/",
        views.cheque_slip,
        name="cheque_slip",
    ),
    path("tresorerie/bons/", views.vouchers, name="vouchers"),
    path("tresorerie/bons/emetteurs/", views.voucher_issuer_add, name="voucher_issuer_add"),
    path(
        "tresorerie/bons/emetteurs/<int:issuer_id>/",
        views.voucher_issuer_toggle,
        name="voucher_issuer_toggle",
    ),
    path("tresorerie/virements-des-membres/", views.transfers, name="member_transfers"),
    path(
        "tresorerie/virements-des-membres/<int:order_id>/", views.transfer_received, name="transfer_received"
    ),
]
