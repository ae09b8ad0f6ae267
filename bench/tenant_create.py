"""How long until a new collective is live at its sub-domain: a spare schema, a template-schema clone, or
plain migrations.

Prints the time from the creation request to the first 200 of the new collective's home page, for the
path Étal takes when a spare clone is ready (marketplace.spares: renamed, as TENANT_SPARE_SCHEMAS keeps two
ready), for the clone of the template schema (no spare ready: two creations within the few hundred
milliseconds a spare takes to make), and for django-tenants' default path (run every migration in the new
schema). Spares are made between the timed creations, as the follow-up of each creation does.
"""

from __future__ import annotations

import statistics
import time
from unittest import mock

from _setup import django_for_bench, report

django_for_bench()

from django.conf import settings  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from marketplace import services, spares, tenancy  # noqa: E402
from marketplace.models import User  # noqa: E402

RUNS = 5


def create_and_open(owner: User, slug: str) -> float:
    started = time.perf_counter()
    services.collective_create(owner=owner, name=f"Bench {slug}", slug=slug, kind="drive", town="Agen")
    response = Client(HTTP_HOST=f"{slug}.{settings.BASE_DOMAIN}").get("/")
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.status_code
    return elapsed


def main() -> None:
    tenancy.public_tenant_ensure()
    started = time.perf_counter()
    tenancy.template_tenant_ensure()
    template_seconds = time.perf_counter() - started
    owner = User.objects.create_user(email="bench@etal.test", password="x")

    create_and_open(owner, "warmup")
    taken = []
    for i in range(RUNS):
        spares.spares_fill(wanted=1)  # not timed: made after the previous creation, by its follow-up
        taken.append(create_and_open(owner, f"spare{i}"))
    cloned = [create_and_open(owner, f"clone{i}") for i in range(RUNS)]
    # Without a template schema to clone, Collective.create_schema falls back to running every migration.
    with (
        override_settings(TENANT_BASE_SCHEMA="no_template_schema"),
        mock.patch.object(tenancy, "template_tenant_ensure"),
    ):
        migrated = [create_and_open(owner, f"migrate{i}") for i in range(RUNS)]

    def line(label: str, values: list[float]) -> str:
        return (
            f"{label:<38} median {statistics.median(values) * 1000:7.0f} ms   "
            f"min {min(values) * 1000:7.0f} ms   max {max(values) * 1000:7.0f} ms   (n={len(values)})"
        )

    print("New collective live at its sub-domain (create + first home page):")
    print(line("spare schema taken (Étal)", taken))
    print(line("template-schema clone (no spare ready)", cloned))
    print(line("every migration (django-tenants default)", migrated))
    print(f"one-off creation of the template schema: {template_seconds * 1000:.0f} ms")
    spare = statistics.median(taken) * 1000
    clone, migrate = statistics.median(cloned) * 1000, statistics.median(migrated) * 1000
    report(
        "new collective live (spare taken + first page)",
        f"{spare:.0f} ms",
        f"migrate-on-create {migrate:.0f} ms",
        spare / migrate,
    )
    report(
        "new collective live, no spare ready (clone + first page)",
        f"{clone:.0f} ms",
        f"migrate-on-create {migrate:.0f} ms",
        clone / migrate,
    )


if __name__ == "__main__":
    main()
