from django.urls import path

from orders.ledger import views as ledger_views

urlpatterns = [
    path("mon-solde/", ledger_views.my_balance, name="my_balance"),
    path("mon-solde/recharge/", ledger_views.card_topup_start, name="card_topup_start"),
    path("mon-solde/recharge/retour/", ledger_views.card_topup_return, name="card_topup_return"),
    path("commandes/<int:order_id>/avoir/", ledger_views.order_pay_with_credit, name="order_pay_with_credit"),
    path("reglages/soldes/", ledger_views.member_balances, name="member_balances"),
    path("reglages/soldes/ecritures/", ledger_views.ledger_export, name="ledger_export"),
]
