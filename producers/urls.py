from django.urls import include, path

from producers import application_views, views

urlpatterns = [
    path("boutique/", views.shop, name="shop"),
    path("boutique/producteurs/<int:producer_id>/", views.shop_producer, name="shop_producer"),
    path("producteurs/", views.producer_list, name="producer_list"),
    path("producteurs/nouveau/", views.producer_create, name="producer_create"),
    path("producteurs/<int:producer_id>/", views.producer_catalogue, name="producer_catalogue"),
    path("producteurs/<int:producer_id>/profil/", views.producer_edit, name="producer_edit"),
    path("producteurs/<int:producer_id>/comptes/", views.producer_accounts, name="producer_accounts"),
    path(
        "producteurs/<int:producer_id>/comptes/<int:user_id>/retirer/",
        views.producer_account_remove,
        name="producer_account_remove",
    ),
    path("producteurs/<int:producer_id>/produits/nouveau/", views.product_create, name="product_create"),
    path(
        "producteurs/<int:producer_id>/prix-et-stocks/", views.products_bulk_edit, name="products_bulk_edit"
    ),
    path("producteurs/<int:producer_id>/accords/", views.price_agreements, name="price_agreements"),
    path(
        "producteurs/<int:producer_id>/accords/nouveau/",
        views.price_agreement_create,
        name="price_agreement_create",
    ),
    path("producteurs/<int:producer_id>/exporter/", views.catalogue_export, name="catalogue_export"),
    path("producteurs/<int:producer_id>/importer/", views.catalogue_import, name="catalogue_import"),
    path(
        "producteurs/<int:producer_id>/importer/<int:job_id>/",
        views.catalogue_import_review,
        name="catalogue_import_review",
    ),
    path("produits/<int:product_id>/", views.product_edit, name="product_edit"),
    path(
        "produits/<int:product_id>/catalogue-commun/", views.product_link_decide, name="product_link_decide"
    ),
    path("rejoindre-comme-producteur/", application_views.producer_apply, name="producer_apply"),
    path(
        "rejoindre-comme-producteur/envoyee/",
        application_views.producer_apply_sent,
        name="producer_apply_sent",
    ),
    path("candidatures/", application_views.producer_applications, name="producer_applications"),
    path(
        "candidatures/<int:application_id>/",
        application_views.producer_application_detail,
        name="producer_application_detail",
    ),
    path(
        "candidatures/<int:application_id>/accepter/",
        application_views.producer_application_accept,
        name="producer_application_accept",
    ),
    path(
        "candidatures/<int:application_id>/refuser/",
        application_views.producer_application_refuse,
        name="producer_application_refuse",
    ),
    path("categories/", views.category_list, name="category_list"),
    path("categories/<int:category_id>/", views.category_edit, name="category_edit"),
    path("categories/<int:category_id>/supprimer/", views.category_delete, name="category_delete"),
    path("", include("producers.lab.urls")),
]
