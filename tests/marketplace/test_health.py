"""The operator's health pages: /sante/ stays the load balancer's cheap floor; /sante/detail/ checks every
service (PostgreSQL, Redis, storages, a Celery worker, beat's clock) for the platform operator only."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace.health import beat_tick_last, beat_tick_record
from marketplace.models import User

pytestmark = pytest.mark.django_db

DETAIL = "/sante/detail/"


@pytest.fixture
def operator(db) -> User:
    return User.objects.create_user(email="ops@etal.test", password="x", is_staff=True)


def _status(response) -> dict[str, str]:
    return response.json()


def _failing(report: dict[str, str]) -> dict[str, str]:
    return {check: state for check, state in report.items() if state != "OK"}


def test_sante_is_the_cheap_floor(browse, public_host, alpha, django_assert_max_num_queries):
    for host in [public_host, alpha.host]:
        with django_assert_max_num_queries(2):  # the host's lookup (and its search_path), nothing else
            response = browse(host).get("/sante/")
        assert response.status_code == 200
        assert response.content == b"ok"


def test_detail_refuses_everyone_but_the_operator(browse, public_host, alpha, outsider):
    anonymous = browse(public_host).get(DETAIL)
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]
    for person in [outsider, alpha.coordinator, alpha.member]:
        assert browse(public_host, person).get(DETAIL + "?format=json").status_code == 403
    # A collective's site has no such page, not even for its coordinator.
    assert browse(alpha, alpha.coordinator).get(DETAIL).status_code == 404


def test_detail_without_worker_or_beat_says_which_service_is_down(browse, public_host, operator, settings):
    settings.HEALTH_CELERY_TIMEOUT = 0.3
    response = browse(public_host, operator).get(DETAIL, HTTP_ACCEPT="application/json")
    assert response.status_code == 503
    failing = _failing(_status(response))
    assert failing == {
        "Celery(queues=celery,sheets)": "Unavailable: Celery workers unavailable",
        "BeatClock()": "Unavailable: No beat tick recorded",
    }
    # The HTML page, in French, names the failure too.
    page = browse(public_host, operator).get(DETAIL)
    assert page.status_code == 503
    assert "Au moins un service ne répond pas." in page.content.decode()
    assert "Celery workers unavailable" in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_detail_with_a_worker_and_a_recent_tick_is_all_ok(
    browse, public_host, operator, real_worker, settings
):
    from marketplace.tasks import followups_sweep

    # The worker is up: give it time to answer the ping on a loaded machine (production keeps 1 s).
    settings.HEALTH_CELERY_TIMEOUT = 5.0

    followups_sweep.delay()  # beat's every-minute task, run by the real worker
    deadline = time.monotonic() + 20
    while beat_tick_last() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    response = browse(public_host, operator).get(DETAIL + "?format=json")
    report = _status(response)
    assert _failing(report) == {}, report
    assert response.status_code == 200
    assert len(report) == 7
    assert {"Celery(queues=celery,sheets)", "BeatClock()", "Storage(alias='private')"} <= set(report)
    assert any(check.startswith("Redis(") for check in report)  # the broker


def test_a_beat_tick_older_than_three_minutes_is_reported(browse, public_host, operator, settings):
    settings.HEALTH_CELERY_TIMEOUT = 0.2
    beat_tick_record(now=timezone.now() - timedelta(minutes=3, seconds=5))
    report = _status(browse(public_host, operator).get(DETAIL + "?format=json"))
    assert report["BeatClock()"].startswith("Unavailable: Last beat tick 18")
    beat_tick_record(now=timezone.now() - timedelta(minutes=2))
    report = _status(browse(public_host, operator).get(DETAIL + "?format=json"))
    assert report["BeatClock()"] == "OK"


def test_a_monitor_with_the_token_reads_the_json(browse, public_host, settings):
    settings.HEALTH_CHECK_TOKEN = "jeton-de-supervision"
    settings.HEALTH_CELERY_TIMEOUT = 0.2
    client = browse(public_host)
    wrong = client.get(DETAIL + "?format=json", HTTP_AUTHORIZATION="Bearer autre-chose")
    assert wrong.status_code == 302
    right = client.get(DETAIL + "?format=json", HTTP_AUTHORIZATION="Bearer jeton-de-supervision")
    assert right.status_code == 503  # no worker here
    assert _status(right)["Database(alias='default')"] == "OK"
