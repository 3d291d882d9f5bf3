"""An idle worker blocks on the broker instead of polling Redis: its consumers wait for
the doorbell rung by every enqueue (a Redis PUBLISH), with a slow safety poll, so a
message still starts at once and a lost ring costs at most that poll."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dramatiq
import redis
from dramatiq import Worker

from workers.broker import PipelinedRedisBroker, build_broker
from workers.doorbell import SAFETY_POLL_MS


@contextmanager
def _worker(redis_url: str, ring: bool = True) -> Iterator[tuple[PipelinedRedisBroker, Any]]:
    namespace = f"oe-test-{uuid.uuid4().hex[:10]}"
    broker = build_broker(redis_url, namespace)
    fetches = {"count": 0}
    fetch = broker.do_fetch

    def counted_fetch(*args: object) -> object:
        fetches["count"] += 1
        return fetch(*args)

    broker.do_fetch = counted_fetch  # type: ignore[attr-defined]
    if not ring:  # a doorbell nobody hears: only the safety poll is left
        broker.doorbell_channel = f"{namespace}:nobody-listens"
    done: list[float] = []
    seen = threading.Event()

    @dramatiq.actor(actor_name="noted", queue_name="route", broker=broker)
    def noted(sent_at: float) -> None:
        done.append(time.monotonic() - sent_at)
        seen.set()

    worker = Worker(broker, worker_threads=1, worker_timeout=SAFETY_POLL_MS)
    worker.start()
    try:
        yield broker, (noted, done, seen, fetches)
    finally:
        worker.stop()
        broker.close()
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=f"{namespace}:*"))
        if keys:
            client.delete(*keys)
        client.close()


def test_an_idle_worker_barely_touches_redis(redis_server: str) -> None:
    with _worker(redis_server) as (_, (_, _, _, fetches)):
        time.sleep(0.5)  # boot and first fetches
        before = fetches["count"]
        time.sleep(3)
        idle_fetches = fetches["count"] - before
    # Two queues (route and its delay queue), one safety poll a second each: about 6.
    # Polling, as dramatiq does by default at this timeout's 50 ms, would be ~120.
    assert idle_fetches <= 12, idle_fetches


def test_a_message_sent_to_an_idle_worker_starts_at_once(redis_server: str) -> None:
    with _worker(redis_server) as (_, (noted, done, seen, _)):
        time.sleep(1.5)  # long idle: the consumers wait on the doorbell now
        for _ in range(5):
            seen.clear()
            noted.send(time.monotonic())
            assert seen.wait(5)
            time.sleep(0.3)
    assert max(done) < 0.25, done


def test_a_lost_ring_costs_at_most_the_safety_poll(redis_server: str) -> None:
    with _worker(redis_server, ring=False) as (_, (noted, done, seen, _)):
        time.sleep(1.5)
        noted.send(time.monotonic())
        assert seen.wait(5)
    assert done[0] < SAFETY_POLL_MS / 1000 + 0.5, done
