from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Commandes")

    def ready(self) -> None:
        from marketplace.home import first_steps_register, home_section_register
        from marketplace.personal_data import provider_register
        from orders.receivers import (
            bank_accounts_provider,
            first_steps,
            home_sales,
            pending_shared_quantities,
            provider,
        )
        from producers.shared_catalogue import pending_quantities_register

        provider_register(provider)
        provider_register(bank_accounts_provider)
        pending_quantities_register(pending_shared_quantities)
        home_section_register(home_sales)
        first_steps_register(first_steps)
