from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProducersConfig(AppConfig):
    name = "producers"
    verbose_name = _("Producteurs")

    def ready(self) -> None:
        from marketplace.home import first_steps_register, home_section_register
        from marketplace.personal_data import provider_register
        from marketplace.signals import invitation_accepted
        from producers.receivers import (
            first_steps,
            home_agreements_ending,
            link_account_on_invitation_accepted,
            personal_data,
        )

        provider_register(personal_data)
        home_section_register(home_agreements_ending)
        first_steps_register(first_steps)

        invitation_accepted.connect(
            link_account_on_invitation_accepted, dispatch_uid="producers.link_account_on_invitation_accepted"
        )
