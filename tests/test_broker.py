"""The broker's Redis transport (config.broker): every message published reaches its queue, through one Redis
client per channel, and a channel whose connection pool was replaced publishes through a client of the new
pool. A real Redis (the tests' broker); the real worker's tests (test_celery_worker) go through it too."""

from config import broker
from config.celery import app

QUEUE = "etal-test-broker"


def test_messages_published_through_one_client_all_arrive_in_order():
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        assert isinstance(channel, broker.Channel)  # what Celery uses for a redis:// broker
        with connection.SimpleQueue(QUEUE) as queue:
            try:
                queue.put({"n": 1})
                client = channel._own_client
                queue.put({"n": 2})
                assert channel._own_client is client
                channel._pool = None  # as kombu does when it drops its connections
                queue.put({"n": 3})
                assert channel._own_client is not client
                assert channel._own_client.connection_pool is channel.pool
                received = []
                for _ in range(3):
                    message = queue.get(timeout=5)
                    received.append(message.payload)
                    message.ack()
            finally:
                queue.clear()
    assert received == [{"n": 1}, {"n": 2}, {"n": 3}]
