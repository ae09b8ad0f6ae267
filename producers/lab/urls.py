from django.urls import path

from producers.lab import views

urlpatterns = [
    path("labo/", views.lab, name="lab"),
    path("labo/propositions/nouvelle/", views.proposal_create, name="lab_proposal_create"),
    path("labo/propositions/<int:proposal_id>/", views.proposal, name="lab_proposal"),
    path(
        "labo/propositions/<int:proposal_id>/soutenir/", views.proposal_support, name="lab_proposal_support"
    ),
    path(
        "labo/propositions/<int:proposal_id>/commenter/", views.proposal_comment, name="lab_proposal_comment"
    ),
    path("labo/seances/nouvelle/", views.session_create, name="lab_session_create"),
    path("labo/seances/<int:session_id>/", views.session, name="lab_session"),
    path("labo/seances/<int:session_id>/decider/", views.session_decide, name="lab_session_decide"),
    path("producteurs/<int:producer_id>/demandes-du-labo/", views.product_requests, name="lab_requests"),
    path(
        "producteurs/<int:producer_id>/demandes-du-labo/<int:request_id>/",
        views.product_request_answer,
        name="lab_request_answer",
    ),
]
