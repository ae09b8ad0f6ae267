"""The sections of a collective's home page that other apps provide.

marketplace imports none of the tenant apps (the arrows run marketplace ← producers ← pickup_points ← orders),
so an app that has something for the home page registers a function here from its AppConfig.ready(): it
takes the request and returns context for marketplace/collective_home.html (orders gives `sales`).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest

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
