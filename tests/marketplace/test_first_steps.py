"""« Premiers pas »: a new collective's coordinator sees a checklist on its home page that ticks itself
from what is really there, each step linking to where it is done; it is gone once all are done, and nobody
but the collective's coordinators sees it."""

import re
from datetime import time, timedelta
from urllib.parse import urlsplit

from django.db import connection
from django.utils import timezone

from marketplace.models import Collective
from orders.sales import services as sale_services
from pickup_points.models import PickupPoint
from producers.models import Producer
from tests.conftest import text

HOST = "premiers-pas.localhost"
STEP = re.compile(
    r'<li class="first-step( first-step-done)?">.*?<a href="(?P<url>[^"]+)">(?P<label>[^<]+)</a>', re.S
)


def _steps(client) -> dict[str, tuple[bool, str]] | None:
    """label → (done, link) as the home page shows them; None when there is no checklist."""
    page = text(client.get("/"))
    if 'id="first-steps-title"' not in page:
        return None
    return {match["label"]: (bool(match[1]), match["url"]) for match in STEP.finditer(page)}


def _new_collective(browse, public_host, outsider):
    response = browse(public_host, outsider).post(
        "/collectifs/nouveau/",
        {
            "name": "Les Paniers du Pin",
            "kind": Collective.Kind.DRIVE,
            "slug": "premiers-pas",
            "town": "Agen",
            "department": "47",
            "description": "Des paniers.",
            "contact_email": "contact@paniers.test",
            "contact_phone": "05 53 11 22 33",
            "join_mode": Collective.JoinMode.APPROVAL,
        },
    )
    coordinator = browse(HOST)
    assert coordinator.get(urlsplit(response["Location"]).path).status_code == 302  # signed in there
    return coordinator


def test_the_checklist_ticks_itself_as_each_step_is_done(browse, public_host, outsider):
    coordinator = _new_collective(browse, public_host, outsider)
    producer, point, sale, invite, payments = (
        "Ajouter un producteur",
        "Ouvrir un point de retrait et ses horaires",
        "Préparer une vente ou une programmation",
        "Inviter des membres",
        "Choisir les moyens de paiement acceptés",
    )
    steps = _steps(coordinator)
    assert list(steps) == [producer, point, sale, invite, payments]
    assert not any(done for done, _link in steps.values())
    assert "Fait : 0 sur 5." in text(coordinator.get("/"))
    assert steps[producer][1] == "/producteurs/nouveau/"
    assert steps[payments][1] == "/reglages/paiements/"
    for _done, link in steps.values():  # every link leads somewhere the coordinator may go
        assert coordinator.get(link).status_code == 200, link

    coordinator.post("/producteurs/nouveau/", {"name": "Ferme des Aulnes", "town": "Nérac"})
    assert _steps(coordinator)[producer][0]

    coordinator.post(
        "/points/nouveau/",
        {"name": "Mairie", "address": "Place", "postcode": "47000", "town": "Agen"}
        | {"slot_minutes": "15", "slot_capacity": "6"},
    )
    connection.set_tenant(Collective.objects.get(slug="premiers-pas"))
    mairie = PickupPoint.objects.get()
    done, link = _steps(coordinator)[point]
    assert not done and link == f"/points/{mairie.pk}/horaires/"  # a point without hours is half done
    coordinator.post(
        link,
        {"hours-TOTAL_FORMS": "1", "hours-INITIAL_FORMS": "0", "hours-0-weekday": "4"}
        | {"hours-0-starts_at": "17:00", "hours-0-ends_at": "19:00"},
    )
    assert _steps(coordinator)[point][0]

    coordinator.post("/invitations/", {"email": "voisine@exemple.test", "role": "member"})
    assert _steps(coordinator)[invite][0]

    coordinator.post(
        "/reglages/paiements/",
        {"payment_methods": ["cash"], "weight_margin_percent": "15", "card_hold_minutes": "30"},
    )
    steps = _steps(coordinator)
    assert steps[payments][0] and not steps[sale][0]
    assert "Fait : 4 sur 5." in text(coordinator.get("/"))

    connection.set_tenant(Collective.objects.get(slug="premiers-pas"))
    now = timezone.now()
    day = timezone.localdate() + timedelta(days=5)
    zone = timezone.get_current_timezone()
    sale_services.sale_create(
        title="Vente de la semaine",
        opens_at=now,
        closes_at=now + timedelta(days=3),
        distribution_starts_at=timezone.datetime.combine(day, time(17), tzinfo=zone),
        distribution_ends_at=timezone.datetime.combine(day, time(19), tzinfo=zone),
        points=[mairie],
        producers=list(Producer.objects.all()),
    )
    assert _steps(coordinator) is None  # all done: the checklist is gone


def test_only_the_collectives_coordinators_see_it(browse, alpha, beta):
    assert _steps(browse(alpha, alpha.coordinator)) is not None
    for person in (alpha.member, alpha.producer, alpha.staff, beta.coordinator, None):
        page = text(browse(alpha, person).get("/"))
        assert "Premiers pas" not in page, person


def test_a_buying_group_is_asked_for_a_supplier_and_an_order_form(browse, beta):
    assert beta.collective.is_buying_group
    steps = _steps(browse(beta, beta.coordinator))
    assert "Ajouter un fournisseur" in steps and "Ajouter un producteur" not in steps
    assert "Préparer un bon de commande ou une programmation" in steps
