"""Fixtures of the producers' tests: a farm of alpha's producer, a neighbour's farm, categories.

Tenant models are read and written in alpha's schema (tests/conftest.py goes back to public afterwards).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection

from producers import services
from producers.models import Unit
from tests.conftest import text
from tests.producers import factories


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def in_alpha(alpha):
    connection.set_tenant(alpha.collective)
    return alpha


@pytest.fixture
def vegetables(in_alpha):
    return services.category_create(name="Légumes", position=1)


@pytest.fixture
def dairy(in_alpha):
    return services.category_create(name="Œufs et produits laitiers", position=2)


@pytest.fixture
def farm(in_alpha):
    """Alpha's producer manages this farm."""
    return factories.producer(
        "Ferme des Coteaux",
        accounts=[in_alpha.producer],
        labels="AB, Nature & Progrès",
        description="Maraîchage.",
    )


@pytest.fixture
def neighbour(in_alpha):
    """Another farm of the same collective, that alpha's producer does not manage."""
    return factories.producer("Chèvrerie du Pech", town="Penne-d'Agenais")


@pytest.fixture
def tomatoes(farm, vegetables):
    return factories.product(farm, "Tomates anciennes", price=Decimal("4.50"), category=vegetables, stock=30)


@pytest.fixture
def cheese(neighbour, dairy):
    return factories.product(
        neighbour,
        "Tomme de chèvre",
        unit=Unit.KG,
        price=Decimal("16.00"),
        category=dairy,
        is_variable_weight=True,
        estimated_weight_kg=Decimal("0.300"),
        stock=10,
    )


def back_to(collective) -> None:
    """Requests leave the connection on the host's schema; ORM checks go back to `collective`'s."""
    connection.set_tenant(collective)


def read(response) -> str:
    """The page as a user reads it, non-breaking spaces (« 4,50 € ») as plain spaces."""
    return text(response).replace("\u00a0", " ").replace("\u202f", " ")
