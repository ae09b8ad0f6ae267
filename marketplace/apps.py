from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = _("Place de marché")

    def ready(self):
        from marketplace import email_delivery, storage  # noqa: F401  (signal receiver, storage check)
