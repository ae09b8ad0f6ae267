"""Pickup-point personas and data in the alpha collective: two points with their own staff, one upcoming
distribution serving both. Households (members with a phone) come from `factories.household`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

import pytest

from marketplace.models import Membership, Role, User
from pickup_points import services
from pickup_points.models import Distribution, PickupPoint, PickupSlot
from tests.conftest import PASSWORD, Cast
from tests.pickup_points.factories import FRIDAY, enter, next_weekday, slot_at


@dataclass
class Points:
    alpha: Cast
    a: PickupPoint  # the town hall, staffed by alpha.staff
    b: PickupPoint  # the social centre, staffed by `staff_b`
    staff_b: User
    distribution: Distribution  # next Friday, at both points

    def slot(self, point: PickupPoint, hour: int, minute: int = 0) -> PickupSlot:
        return slot_at(self.distribution, point, hour, minute)


@pytest.fixture
def points(alpha) -> Points:
    staff_b = User.objects.create_user(
        email="staff-b@alpha.test", password=PASSWORD, first_name="Bérénice", last_name="Staff-B"
    )
    Membership.objects.create(user=staff_b, collective=alpha.collective, roles=[Role.POINT_STAFF])
    enter(alpha)
    a = services.point_create(
        name="Salle des fêtes de la mairie",
        address="1 place de la Mairie",
        postcode="47000",
        town="Agen",
        rules="Une personne par foyer, apportez vos sacs.",
        slot_minutes=15,
        slot_capacity=6,
    )
    services.point_update(point=a, hours=[(FRIDAY, time(17, 0), time(19, 0))])
    a.staff.add(alpha.staff)
    b = services.point_create(
        name="Centre social du Pin",
        address="2 rue du Pin",
        postcode="47000",
        town="Agen",
        slot_minutes=30,
        slot_capacity=4,
    )
    services.point_update(point=b, hours=[(FRIDAY, time(10, 0), time(12, 0))])
    b.staff.add(staff_b)
    distribution = services.distribution_create(date=next_weekday(FRIDAY), points=[a, b], label="Drive")
    return Points(alpha=alpha, a=a, b=b, staff_b=staff_b, distribution=distribution)
