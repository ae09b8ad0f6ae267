"""Two people opening the same single-use link at the same moment: exactly one gets the role."""

import threading

import pytest
from django.db import connection

from marketplace import services
from marketplace.models import Membership, Role, User


@pytest.mark.django_db(transaction=True)
def test_a_link_used_twice_at_once_grants_the_role_once(alpha):
    invitation = services.invitation_create(
        collective=alpha.collective, created_by=alpha.coordinator, role=Role.PRODUCER
    )
    people = [User.objects.create_user(email=f"racer{i}@race.test", password="x") for i in range(8)]
    barrier = threading.Barrier(len(people))
    outcomes: list[str] = []

    def accept(user: User) -> None:
        try:
            barrier.wait()
            services.invitation_accept(collective=alpha.collective, token=invitation.token, user=user)
            outcomes.append("accepted")
        except services.InvitationInvalid:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["accepted"] + ["refused"] * (len(people) - 1)
    producers = Membership.objects.filter(
        collective=alpha.collective, user__in=people, roles__contains=[Role.PRODUCER]
    )
    assert producers.count() == 1
    invitation.refresh_from_db()
    assert invitation.accepted_by == producers.get().user
