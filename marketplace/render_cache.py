"""Pieces of pages rendered once per version of what they show, kept in the cache, and rebuilt by one
request at a time (single flight).

A piece is named by a `base` (what it is: a sale's offer list in a language, the shop's catalogue…) and a
`version` (a stamp of what it shows, read cheaply on each request). When the version changes, every member
looking at the page at that moment would render the new piece at once; instead the first one takes a short
render lock (`cache.add`, so across every process and host) and renders it, while the others serve the
piece they last had (its figures that change with every order, what is left in stock, are filled in per
request anyway) or, when there is none yet, wait for it a little, then render it themselves rather than
wait longer. Served stale, a piece is at most one rendering old.

The last few pieces also stay in the process's memory (no round trip to Redis for a piece of 1 MB). The
cache's key function (django_tenants.cache.make_key) puts the schema in front of every key, so one
collective never reads another's piece.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from time import monotonic, sleep
from typing import Any

from django.core.cache import cache

CACHE_SECONDS = 24 * 3600  # a new version gets a new key: old ones only wait to expire
RENDER_LOCK_SECONDS = 15  # a renderer that died frees the lock after this
WAIT_SECONDS = 2.0  # with no older piece to serve, how long to wait for another's rendering
WAIT_STEP = 0.025
LOCAL_PIECES = 16

_local: OrderedDict[str, Any] = OrderedDict()  # full key (with the schema) → piece, most recent last
_local_lock = threading.Lock()


def _remember(full_key: str, piece: Any) -> None:
    with _local_lock:
        _local[full_key] = piece
        _local.move_to_end(full_key)
        while len(_local) > LOCAL_PIECES:
            _local.popitem(last=False)


def _from_memory(full_key: str) -> Any:
    with _local_lock:
        piece = _local.get(full_key)
        if piece is not None:
            _local.move_to_end(full_key)
        return piece


def _older_in_memory(full_base: str) -> Any:
    """The most recent piece of this base that this process holds, whatever its version."""
    prefix = full_base + "@"
    with _local_lock:
        for full_key in reversed(_local):
            if full_key.startswith(prefix):
                return _local[full_key]
    return None


def cached_piece(*, base: str, version: str, render: Callable[[], Any], timeout: int = CACHE_SECONDS) -> Any:
    """The piece `base` at `version`: from this process's memory, else from the cache, else rendered by one
    request at a time (the others serve the previous version meanwhile, or wait for this one)."""
    key = f"{base}@{version}"
    full_key = cache.make_key(key)
    piece = _from_memory(full_key)
    if piece is not None:
        return piece
    piece = cache.get(key)
    if piece is None:
        piece = _render_once(base=base, key=key, render=render, timeout=timeout)
    _remember(full_key, piece)
    return piece


def _render_once(*, base: str, key: str, render: Callable[[], Any], timeout: int) -> Any:
    lock_key, latest_key = f"{base}:rendering", f"{base}:latest"
    token = uuid.uuid4().hex
    if cache.add(lock_key, token, RENDER_LOCK_SECONDS):
        try:
            piece = render()
            cache.set(key, piece, timeout)
            cache.set(latest_key, key, timeout)
        finally:
            if cache.get(lock_key) == token:  # not a lock that expired and was taken by another since
                cache.delete(lock_key)
        return piece
    # Another request renders this version: serve the one before it, if any.
    older = _older_in_memory(cache.make_key(base))
    if older is None:
        older_key = cache.get(latest_key)
        older = cache.get(older_key) if older_key else None
    if older is not None:
        return older
    deadline = monotonic() + WAIT_SECONDS
    while monotonic() < deadline:
        sleep(WAIT_STEP)
        piece = cache.get(key)
        if piece is not None:
            return piece
    piece = render()  # the renderer is slow or gone: do not keep the member waiting longer
    cache.set(key, piece, timeout)
    return piece


def cached_piece_forget(*, base: str, version: str) -> None:
    """Drop one version of a piece, here and in the cache (the benchmark's cold cache, tests)."""
    key = f"{base}@{version}"
    with _local_lock:
        _local.pop(cache.make_key(key), None)
    cache.delete(key)


def memory_clear() -> None:
    """Forget what this process holds (tests: as if another process served the next request)."""
    with _local_lock:
        _local.clear()
