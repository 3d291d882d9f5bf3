"""The Dramatiq broker on Redis, with the AsyncIO middleware for `async def` actors."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis
from dramatiq.middleware import (
    AgeLimit,
    AsyncIO,
    Middleware,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)
from redis.exceptions import RedisError

from db.redis_clients import DEFAULT_TIMEOUT_S, sync_redis
from workers.doorbell import Doorbell, DoorbellListener, WakingConsumer
from workers.messages import Outgoing, Publisher

STEP_TIME_LIMIT_MS = 30_000  # one step is a few requests; anything longer is stuck


class PipelinedRedisBroker(RedisBroker):
    """A RedisBroker that can send many messages in one round trip (`enqueue_all`).

    Each message still goes through `enqueue` (ids, delays, middleware hooks); only the
    Redis script call is queued on a pipeline instead of awaited one by one, because
    here each round trip costs more CPU than the script itself.

    Every enqueue rings the doorbell (`workers/doorbell.py`): consumers wait for it
    instead of polling.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)  # type: ignore[no-untyped-call]
        self._batch = threading.local()
        self.doorbell = Doorbell()
        self.doorbell_channel = f"{self.namespace}:doorbell"
        self._listener: DoorbellListener | None = None
        self._listener_lock = threading.Lock()

    @property
    def consumer_class(self) -> type[WakingConsumer]:
        return WakingConsumer

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000) -> Any:
        # Only a process that consumes listens (the dispatcher only sends).
        with self._listener_lock:
            if self._listener is None:
                self._listener = DoorbellListener(self.client, self.doorbell_channel, self.doorbell)
                self._listener.start()
        return super().consume(queue_name, prefetch, timeout)

    def close(self) -> None:
        if self._listener is not None:
            self._listener.stop()
        super().close()

    def enqueue_all(self, outgoing: Sequence[tuple[dramatiq.Message[Any], int | None]]) -> None:
        with self.client.pipeline(transaction=False) as pipe:
            self._batch.pipe = pipe
            try:
                for message, delay in outgoing:
                    self.enqueue(message, delay=delay)
            finally:
                self._batch.pipe = None
            pipe.publish(self.doorbell_channel, b"")  # one ring for the whole batch
            pipe.execute()

    def do_enqueue(self, queue_name: str, *args: object) -> object:
        pipe = getattr(self._batch, "pipe", None)
        if pipe is None:
            enqueued = self._dispatch("enqueue")(queue_name, *args)  # type: ignore[no-untyped-call]
            # A hint: the message is queued already, so a failed ring costs a safety poll
            # and must not fail the enqueue (whose caller would send it again).
            with contextlib.suppress(RedisError):
                self.client.publish(self.doorbell_channel, b"")
            return enqueued
        # The argument list of RedisBroker._dispatch (dramatiq 2.2), for the same script.
        arguments = [
            "enqueue",
            current_millis(),
            queue_name,
            self.broker_id,
            self.heartbeat_timeout,
            self.dead_message_ttl,
            self._should_do_maintenance("enqueue"),
            self._max_unpack_size(),  # type: ignore[no-untyped-call]
            *args,
        ]
        return self.scripts["dispatch"](keys=[self.namespace], args=arguments, client=pipe)


def queue_depth(broker: PipelinedRedisBroker) -> Callable[[str], Awaitable[int]]:
    """How many messages wait in a queue, not yet taken by a worker (the Redis list of
    its message ids; a taken one moves to its worker's ack set)."""

    async def depth(queue_name: str) -> int:
        key = f"{broker.namespace}:{queue_name}"
        return int(await asyncio.to_thread(broker.client.llen, key))

    return depth


def broker_publisher(broker: PipelinedRedisBroker) -> Publisher:
    """Send messages from a thread (the Redis client blocks), all in one round trip."""

    async def publish(outgoing: Outgoing) -> None:
        await asyncio.to_thread(broker.enqueue_all, outgoing)

    return publish


def build_broker(
    redis_url: str,
    namespace: str,
    extra: list[Middleware] | None = None,
    redis_timeout_s: float = DEFAULT_TIMEOUT_S,
) -> PipelinedRedisBroker:
    """A broker whose Redis keys all start with `namespace` (tests use their own), on a
    client with `redis_timeout_s` socket and connect timeouts (a Redis that stops
    answering fails the send instead of hanging the dispatcher).

    An actor that raises (venue or store unreachable) is retried by the broker after a
    short back-off; the sweeper covers a message that is lost outright.
    """
    middleware: list[Middleware] = [
        AgeLimit(),
        TimeLimit(time_limit=STEP_TIME_LIMIT_MS),
        ShutdownNotifications(),
        Retries(max_retries=20, min_backoff=200, max_backoff=5_000),
        AsyncIO(),
        # After AsyncIO: "after" hooks run in reverse order, so their after_worker_shutdown
        # runs while AsyncIO's loop still does.
        *(extra or []),
    ]
    # The client, not `url=`: RedisBroker ignores connection options given with a URL.
    client = sync_redis(redis_url, redis_timeout_s)
    return PipelinedRedisBroker(client=client, namespace=namespace, middleware=middleware)
