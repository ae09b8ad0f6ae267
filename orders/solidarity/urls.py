from django.urls import path

from orders.solidarity import views

urlpatterns = [
    path("mon-tarif/", views.my_tier, name="my_tier"),
    path("mon-solde/donner/", views.fund_give, name="fund_give"),
    path("reglages/tarifs/", views.price_tiers, name="price_tiers"),
    path("reglages/tarifs/<int:tier_id>/supprimer/", views.price_tier_delete, name="price_tier_delete"),
    path("reglages/tarifs/membres/<int:user_id>/", views.member_tier_assign, name="member_tier_assign"),
    path("reglages/fonds-solidaire/", views.solidarity_fund, name="solidarity_fund"),
]
