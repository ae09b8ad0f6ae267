from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Commandes")

    def ready(self) -> None:
        from marketplace.personal_data import provider_register
        from orders.receivers import provider

        provider_register(provider)
