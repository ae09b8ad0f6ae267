from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from marketplace.health import OperatorHealthView
from marketplace.views import launch, media, point_proposals, public
from orders.payments.views import stripe_webhook
from orders.statements import views as statement_views
from producers import shared_views

urlpatterns = [
    path("", public.directory, name="home"),
    path("collectifs/nouveau/", public.collective_create, name="collective_create"),
    path("lancer-un-drive/", launch.drive_launch, name="drive_launch"),
    path("mes-collectifs/", public.my_collectives, name="my_collectives"),
    path(
        "proposer-un-point-de-retrait/", point_proposals.point_proposal_create, name="point_proposal_create"
    ),
    path(
        "proposer-un-point-de-retrait/merci/",
        point_proposals.point_proposal_thanks,
        name="point_proposal_thanks",
    ),
    path("mon-catalogue/", shared_views.shared_catalogue_page, name="shared_catalogue"),
    path("mon-catalogue/mettre-en-commun/", shared_views.shared_product_share, name="shared_product_share"),
    path("mon-catalogue/<int:shared_id>/", shared_views.shared_product_edit, name="shared_product_edit"),
    path(
        "mon-catalogue/<int:shared_id>/proposer/",
        shared_views.shared_product_offer,
        name="shared_product_offer",
    ),
    path("mes-ventes/", statement_views.my_sales_across, name="my_sales_across"),
    path("sante/", public.health, name="health"),
    path("sante/detail/", OperatorHealthView.as_view(), name="health_detail"),
    path("stripe/webhook/", stripe_webhook, name="stripe_webhook"),
    path("", include("marketplace.urls_rights")),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
# The e-mail provider's delivery events (bounces, complaints): only behind anymail's basic auth.
if settings.ANYMAIL.get("WEBHOOK_SECRET"):
    urlpatterns.append(path("anymail/", include("anymail.urls")))
if settings.SERVE_MEDIA:
    urlpatterns.append(
        re_path(r"^media/(?P<schema_name>[a-z0-9_]+)/(?P<path>.+)$", media.media, name="media")
    )
