from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PickupPointsConfig(AppConfig):
    name = "pickup_points"
    verbose_name = _("Points de retrait")
