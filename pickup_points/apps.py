from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PickupPointsConfig(AppConfig):
    name = "pickup_points"
    verbose_name = _("Points de retrait")

    def ready(self) -> None:
        from pickup_points import receivers  # noqa: F401 - connects the signal receivers
