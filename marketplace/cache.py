"""The cache (Redis) as a help, never a dependency: when Redis does not answer, a read finds nothing, a
write is dropped and `add` succeeds, and the page goes on. What the cache holds here can be lost: sign-in
rate-limit counters (they restart), the beat's per-minute tick keys, an import's progress figures. The
broker going down with it is the follow-ups' business (marketplace.followups)."""

from __future__ import annotations

import logging
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
_last_warning = 0.0


def _down(operation: str, error: Exception) -> None:
    global _last_warning
    if time.monotonic() - _last_warning > 60:  # once a minute at most: a dead Redis is not news each time
        _last_warning = time.monotonic()
        logger.warning("cache unavailable (%s: %s): going on without it", operation, error)


class TolerantRedisCache(RedisCache):
    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except DOWN as error:
            _down("get", error)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except DOWN as error:
            _down("get_many", error)
            return {}

    def add(self, key, value, timeout=None, version=None):
        try:
            return super().add(key, value, timeout, version)
        except DOWN as error:
            _down("add", error)
            return True

    def set(self, key, value, timeout=None, version=None):
        try:
            return super().set(key, value, timeout, version)
        except DOWN as error:
            _down("set", error)

    def set_many(self, data, timeout=None, version=None):
        try:
            return super().set_many(data, timeout, version)
        except DOWN as error:
            _down("set_many", error)
            return list(data)

    def touch(self, key, timeout=None, version=None):
        try:
            return super().touch(key, timeout, version)
        except DOWN as error:
            _down("touch", error)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except DOWN as error:
            _down("delete", error)
            return False

    def delete_many(self, keys, version=None):
        try:
            return super().delete_many(keys, version)
        except DOWN as error:
            _down("delete_many", error)

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except DOWN as error:
            _down("has_key", error)
            return False

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except DOWN as error:
            _down("incr", error)
            return delta
