from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PickupPointsConfig(AppConfig):
    name = "pickup_points"
    verbose_name = _("Points de retrait")

    def ready(self) -> None:
        from marketplace.home import first_steps_register
        from marketplace.personal_data import provider_register
        from pickup_points import receivers  # connects the signal receivers

        provider_register(receivers.personal_data)
        first_steps_register(receivers.first_steps)
