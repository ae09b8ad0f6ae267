from django.urls import path

from pickup_points import group_views, proposal_views, views

urlpatterns = [
    # Lab groups (coordinators).
    path("groupes/", group_views.lab_groups, name="lab_groups"),
    path("groupes/membres/", group_views.lab_group_members, name="lab_group_members"),
    path(
        "groupes/membres/<int:membership_id>/",
        group_views.lab_group_member_move,
        name="lab_group_member_move",
    ),
    # Staff (their points only) and coordinators (every point). The distribution-day page is in orders/day.
    path("points/", views.point_list, name="point_list"),
    path("points/nouveau/", views.point_create, name="point_create"),
    path("points/<int:point_id>/", views.point_edit, name="point_edit"),
    path("points/<int:point_id>/horaires/", views.point_hours, name="point_hours"),
    path("points/<int:point_id>/creneaux/", views.point_rules, name="point_rules"),
    path("points/<int:point_id>/fermetures/", views.point_closures, name="point_closures"),
    path(
        "points/<int:point_id>/fermetures/<int:closure_id>/supprimer/",
        views.closure_remove,
        name="closure_remove",
    ),
    path("points/<int:point_id>/equipe/", views.point_team, name="point_team"),
    path(
        "points/<int:point_id>/equipe/<int:user_id>/retirer/",
        views.point_team_remove,
        name="point_team_remove",
    ),
    path(
        "points/<int:point_id>/distributions/<int:distribution_id>/creneaux/",
        views.point_slots,
        name="point_slots",
    ),
    path("points/<int:point_id>/creneaux/<int:slot_id>/", views.slot_update, name="slot_update"),
    path(
        "points/<int:point_id>/paniers/<int:booking_id>/pointage/",
        views.booking_check_in,
        name="booking_check_in",
    ),
    path("points/<int:point_id>/kit.pdf", proposal_views.point_kit, name="point_kit"),
    # Coordinators.
    path("distributions/", views.distribution_list, name="distribution_list"),
    path("points-proposes/", proposal_views.proposal_list, name="point_proposals"),
    path(
        "points-proposes/<int:proposal_id>/accepter/",
        proposal_views.proposal_accept,
        name="point_proposal_accept",
    ),
    path(
        "points-proposes/<int:proposal_id>/decliner/",
        proposal_views.proposal_decline,
        name="point_proposal_decline",
    ),
    path("distributions/<int:distribution_id>/", views.distribution_detail, name="distribution_detail"),
    # Members.
    path("agenda/", views.calendar_page, name="calendar_page"),
    path("agenda/renouveler/", views.calendar_renew, name="calendar_renew"),
    path("agenda.ics", views.calendar_feed, name="calendar_feed"),
    path("agenda/<str:token>.ics", views.calendar_feed_private, name="calendar_feed_private"),
    path("retrait/", views.member_distributions, name="member_distributions"),
    path("retrait/<int:distribution_id>/", views.member_booking, name="member_booking"),
    path("retrait/<int:distribution_id>/annuler/", views.member_booking_cancel, name="member_booking_cancel"),
]
