"""Members' rights pages, on the public site and on every collective's host (see views.rights)."""

from django.urls import path

from marketplace.views import rights

urlpatterns = [
    path("confidentialite/", rights.privacy, name="privacy"),
    path("mentions-legales/", rights.legal_notice, name="legal_notice"),
    path("mes-donnees/", rights.my_data, name="my_data"),
    path("mes-donnees/telecharger/", rights.my_data_download, name="my_data_download"),
    path("mes-donnees/supprimer-mon-compte/", rights.account_delete, name="account_delete"),
]
