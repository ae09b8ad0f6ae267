"""What a web process would otherwise do on its first requests, done once as it starts: import every view
(the URLconf), compile the project's templates, load both languages' catalogues, and import the cache's,
the broker's and the result backend's modules. Nothing here opens a connection (no database, no Redis), so
it is safe before gunicorn forks its workers (`--preload`, as the Dockerfile runs it): every worker, and
every worker started again after `--max-requests`, begins warm, sharing these pages of memory.

Measured by bench/order_load.py: a cold worker's first sale page, cart and checkout cost hundreds of
milliseconds each (the imports of redis, kombu's transport, the URLconf's views, template compilation).

Last, everything made so far is moved out of the cyclic garbage collector's reach (`gc.freeze()`, as
Python's documentation advises before a fork): these objects live as long as the process, and a forked
worker's collections no longer walk them, which wrote to every page of memory they sit on and so copied
each of those pages into the worker (copy-on-write) during its first requests."""

from __future__ import annotations

import gc
import logging
import time
from pathlib import Path

from celery.app.backends import by_url
from django.conf import settings
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.template.loader import get_template
from django.urls import get_resolver
from django.utils import translation
from django.utils.module_loading import import_string
from kombu.transport import resolve_transport

from config.celery import app

logger = logging.getLogger(__name__)


def warm_up() -> float:
    """Warm this process; returns the seconds it took. Errors are logged, never raised: a process that
    could not warm up serves its first requests more slowly, nothing else."""
    started = time.perf_counter()
    try:
        _imports()
        _templates()
        _catalogues()
        gc.collect()
        gc.freeze()
    except Exception:  # noqa: BLE001 - warming is a help, never a reason not to start
        logger.exception("warm-up failed; the first requests will be slower")
    return time.perf_counter() - started


def _imports() -> None:
    get_resolver().url_patterns  # noqa: B018 - imports every view module
    for params in settings.CACHES.values():
        import_string(params["BACKEND"])
    resolve_transport(app.conf.broker_transport or app.conf.broker_url.split("://", 1)[0])
    if app.conf.result_backend:
        by_url(app.conf.result_backend, app.loader)


def _templates() -> None:
    for directory in settings.TEMPLATES[0]["DIRS"]:
        root = Path(directory)
        for path in sorted(root.rglob("*")):
            if path.suffix not in {".html", ".txt"}:
                continue
            try:
                get_template(path.relative_to(root).as_posix())
            except (TemplateDoesNotExist, TemplateSyntaxError, UnicodeDecodeError):
                logger.warning("template %s not compiled at start", path)


def _catalogues() -> None:
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Commander")
