"""A web process warms itself as it imports the WSGI application (config/warmup.py), without opening a
connection: gunicorn's `--preload` imports it once, before forking its workers, and a worker must not
inherit a database or Redis connection that another worker also uses."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import gc, json, os, sys
import config.wsgi
from django.db import connections
from django.template import engines
loaded = [name for name in ("orders.checkout.views", "redis", "kombu.transport.redis") if name in sys.modules]
cached = engines["django"].engine.template_loaders[0]
def link(fd):
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # the directory's own descriptor, closed by now
        return ""
print(json.dumps({
    "loaded": loaded,
    "templates": len(getattr(cached, "get_template_cache", {})),
    "frozen": gc.get_freeze_count(),
    "database_open": any(c.connection is not None for c in connections.all(initialized_only=True)),
    "sockets": sum(
        link(fd).startswith("socket:") for fd in os.listdir("/proc/self/fd")
    ),
}))
"""


def _probe(**env) -> dict:
    run = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_the_wsgi_application_starts_warm_and_connects_to_nothing():
    warm = _probe()
    assert warm["loaded"] == ["orders.checkout.views", "redis", "kombu.transport.redis"]
    assert warm["templates"] > 100  # the project's templates, compiled before the first request
    assert warm["frozen"] > 100_000  # kept out of the forked workers' collections
    assert warm["database_open"] is False
    assert warm["sockets"] == 0  # no database, cache or broker connection to be shared by forked workers


def test_warming_can_be_turned_off():
    cold = _probe(ETAL_WARM_UP="0")
    assert "orders.checkout.views" not in cold["loaded"] and cold["templates"] == 0
    assert cold["frozen"] == 0
