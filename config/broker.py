"""kombu's Redis transport, publishing through one Redis client per channel.

kombu's Redis channel makes a new `redis.Redis` client for every message it publishes (`conn_or_acquire`
with no client: `_create_client()`), on the channel's connection pool; building a client fills its table
of response callbacks, about 170 entries, each time: measured here, a quarter of the CPU of a `send_task`,
which every checkout makes once its response is out (the confirmation e-mail's follow-up). The client is
the same for every message of the channel (same pool, nothing else in it), so this channel keeps the one
it made, and makes a new one if its pool is replaced. Set as Celery's `broker_transport` for a `redis://`
broker (config.settings.base); kombu's transport is used for any other kind of broker URL.
"""

from __future__ import annotations

from contextlib import contextmanager

from kombu.transport import redis


class Channel(redis.Channel):
    _own_client = None

    @contextmanager
    def conn_or_acquire(self, client=None):
        if client:
            yield client
            return
        own = self._own_client
        if own is None or own.connection_pool is not self.pool:
            own = self._own_client = self._create_client()
        yield own


class Transport(redis.Transport):
    Channel = Channel
