from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = _("Place de marché")

    def ready(self):
        from marketplace import email_delivery, storage  # noqa: F401  (signal receiver, storage check)
        from marketplace.home import (
            first_step_invite,
            first_steps_register,
            home_first_steps,
            home_section_register,
        )

        home_section_register(home_first_steps)
        first_steps_register(first_step_invite)
