"""The sections of a collective's home page that other apps provide.

marketplace imports none of the tenant apps (the arrows run marketplace ← producers ← pickup_points ← orders),
so an app that has something for the home page registers a function here from its AppConfig.ready(): it
takes the request and returns context for marketplace/collective_home.html (orders gives `sales`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from marketplace import selectors
from marketplace.models import Role

HomeSection = Callable[[HttpRequest], dict]

_sections: list[HomeSection] = []


def home_section_register(section: HomeSection) -> None:
    if section not in _sections:
        _sections.append(section)


def home_context(request: HttpRequest) -> dict:
    context: dict = {}
    for section in _sections:
        context.update(section(request))
    return context


# « Premiers pas »: a coordinator's checklist on the home page, each step ticked from real data. Each app
# gives the steps it knows about (producers: a producer; pickup_points: a point with hours; orders: a sale or
# a schedule, accepting payments); marketplace itself gives the invitations.


@dataclass(frozen=True)
class FirstStep:
    position: int  # the order on the page
    label: str
    url: str  # where it is done
    done: bool


FirstStepSource = Callable[[HttpRequest], list[FirstStep]]

_first_step_sources: list[FirstStepSource] = []


def first_steps_register(source: FirstStepSource) -> None:
    if source not in _first_step_sources:
        _first_step_sources.append(source)


def first_steps(request: HttpRequest) -> list[FirstStep]:
    return sorted(
        (step for source in _first_step_sources for step in source(request)), key=lambda s: s.position
    )


def home_first_steps(request: HttpRequest) -> dict:
    """The checklist, for the collective's coordinators only, until every step is done."""
    membership = getattr(request, "membership", None)
    if not (membership and membership.is_active and membership.has_role(Role.COORDINATOR)):
        return {}
    steps = first_steps(request)
    if not steps or all(step.done for step in steps):
        return {}
    return {"first_steps": steps, "first_steps_done": sum(step.done for step in steps)}


def first_step_invite(request: HttpRequest) -> list[FirstStep]:
    return [
        FirstStep(
            position=40,
            label=_("Inviter des membres"),
            url=reverse("invitations"),
            done=selectors.collective_has_invited(collective=request.tenant, user=request.user),
        )
    ]
