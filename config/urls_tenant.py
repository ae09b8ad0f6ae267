from django.conf import settings
from django.urls import include, path, re_path

from marketplace.views import media, public, rights, tenant

urlpatterns = [
    path("", tenant.home, name="home"),
    path("rejoindre/", tenant.join, name="join"),
    path("bienvenue/<str:token>/", tenant.signin_handoff, name="signin_handoff"),
    path("sante/", public.health, name="health"),
    path("invitation/<str:token>/", tenant.invitation_accept, name="invitation_accept"),
    path("invitations/", tenant.invitations, name="invitations"),
    path("invitations/<int:invitation_id>/annuler/", tenant.invitation_revoke, name="invitation_revoke"),
    path("cooptation/", tenant.cooptation, name="cooptation"),
    path("membres/", tenant.members, name="members"),
    path("membres/<int:membership_id>/", tenant.member_edit, name="member_edit"),
    path("membres/<int:membership_id>/valider/", tenant.member_approve, name="member_approve"),
    path("membres/<int:membership_id>/retirer/", tenant.member_remove, name="member_remove"),
    path("reglages/", tenant.collective_settings, name="collective_settings"),
    path("quitter/", rights.membership_leave, name="membership_leave"),
    path("", include("marketplace.urls_rights")),
    path("", include("producers.urls")),
    path("", include("pickup_points.urls")),
    path("", include("orders.urls")),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
if settings.SERVE_MEDIA:
    urlpatterns.append(
        re_path(r"^media/(?P<schema_name>[a-z0-9_]+)/(?P<path>.+)$", media.media, name="media")
    )
