from django.urls import path

from orders.sheets import views as sheet_views

urlpatterns = [
    path("ventes/<int:sale_id>/feuilles/", sheet_views.sale_sheets, name="sale_sheets"),
    path("ventes/<int:sale_id>/feuilles/refaire/", sheet_views.sheets_make, name="sheets_make"),
    path("feuilles/", sheet_views.my_sheets, name="my_sheets"),
    path("feuilles/<int:sheet_id>/", sheet_views.sheet_download, name="sheet_download"),
]
