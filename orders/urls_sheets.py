from django.urls import path

from orders import views_sheets

urlpatterns = [
    path("ventes/<int:sale_id>/feuilles/", views_sheets.sale_sheets, name="sale_sheets"),
    path("ventes/<int:sale_id>/feuilles/refaire/", views_sheets.sheets_make, name="sheets_make"),
    path("feuilles/", views_sheets.my_sheets, name="my_sheets"),
    path("feuilles/<int:sheet_id>/", views_sheets.sheet_download, name="sheet_download"),
]
