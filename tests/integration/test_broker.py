"""Messages sent together in one round trip land where `enqueue` would put them."""

from __future__ import annotations

import uuid

import dramatiq
import redis

from workers.broker import build_broker
from workers.messages import Step, start_messages, step_message


def test_enqueue_all_queues_ready_and_delayed_messages_like_enqueue(redis_server: str) -> None:
    namespace = f"oe-test-{uuid.uuid4().hex[:10]}"
    broker = build_broker(redis_server, namespace)
    client = redis.Redis.from_url(redis_server)
    try:
        (batch,) = start_messages([("a", 1), ("b", 1)], "admitted")
        retry = step_message(Step.ROUTE, "c", 2, "AttemptFailed")
        broker.enqueue_all([(batch, None), (retry, 700)])
        (ready,) = _values(client, f"{namespace}:route.msgs")
        (delayed,) = _values(client, f"{namespace}:route.DQ.msgs")
        assert client.lrange(f"{namespace}:route", 0, -1) == client.hkeys(f"{namespace}:route.msgs")
        assert dramatiq.Message.decode(ready).kwargs == {"orders": [["a", 1], ["b", 1]]}
        later = dramatiq.Message.decode(delayed)
        assert later.kwargs == {"order_id": "c", "attempt": 2}
        assert later.options["eta"] > 0
    finally:
        keys = list(client.scan_iter(match=f"{namespace}:*"))
        if keys:
            client.delete(*keys)
        client.close()
        broker.close()


def _values(client: redis.Redis, key: str) -> list[bytes]:
    return [value if isinstance(value, bytes) else value.encode() for value in client.hvals(key)]
