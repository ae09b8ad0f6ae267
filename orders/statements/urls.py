from django.urls import path

from orders.statements import reconciliation_views, views

urlpatterns = [
    path("mes-ventes/", views.my_sales, name="my_sales"),
    path("mes-ventes/versements-stripe/<int:producer_id>/", views.producer_connect, name="producer_connect"),
    path(
        "mes-ventes/versements-stripe/<int:producer_id>/retour/",
        views.producer_connect_return,
        name="producer_connect_return",
    ),
    path("tresorerie/stripe/", reconciliation_views.stripe_reconciliation, name="stripe_reconciliation"),
    path("mes-ventes/coordonnees-bancaires/<int:producer_id>/", views.producer_bank, name="producer_bank"),
    path("releves/<int:statement_id>/pdf/", views.statement_download, name="statement_download"),
    path("releves/mois/<int:document_id>/pdf/", views.monthly_download, name="monthly_download"),
    path("tresorerie/", views.treasury, name="treasury"),
    path("tresorerie/reglages/", views.statement_settings, name="statement_settings"),
    path(
        "tresorerie/ventes/<int:sale_id>/releves/", views.sale_statements_issue, name="sale_statements_issue"
    ),
    path("tresorerie/virements/<int:transfer_id>/", views.transfer_detail, name="transfer_detail"),
    path(
        "tresorerie/virements/<int:transfer_id>/fichier/", views.transfer_download, name="transfer_download"
    ),
    path("tresorerie/virements/<int:transfer_id>/annuler/", views.transfer_cancel, name="transfer_cancel"),
]
