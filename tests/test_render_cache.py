"""marketplace.render_cache on its own: one rendering per version, even from many threads at once."""

from __future__ import annotations

import threading

from django.core.cache import cache

from marketplace import render_cache


def test_many_threads_asking_for_a_new_version_render_it_once(monkeypatch):
    base = "test-piece:single-flight"
    cache.delete_many([f"{base}:rendering", f"{base}:latest", f"{base}@1", f"{base}@2"])
    render_cache.memory_clear()
    assert render_cache.cached_piece(base=base, version="1", render=lambda: "version 1") == "version 1"
    renders = []
    release = threading.Event()

    def render():
        renders.append(1)
        assert release.wait(30)
        return "version 2"

    got = []

    def ask():
        got.append(render_cache.cached_piece(base=base, version="2", render=render))

    first = threading.Thread(target=ask)
    first.start()
    while not renders:  # the first thread holds the render lock
        threading.Event().wait(0.01)
    others = [threading.Thread(target=ask) for _ in range(8)]
    for thread in others:
        thread.start()
    for thread in others:
        thread.join()
    assert got == ["version 1"] * 8  # served the previous version meanwhile, none rendered it
    release.set()
    first.join()
    assert got[-1] == "version 2" and len(renders) == 1
    render_cache.memory_clear()  # as another process would: from the cache, not rendered again
    assert render_cache.cached_piece(base=base, version="2", render=render) == "version 2"
    assert len(renders) == 1
