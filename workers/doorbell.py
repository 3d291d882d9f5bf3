"""The broker's doorbell: an idle worker waits for it instead of polling Redis.

Dramatiq's Redis consumer polls its queue, backing off to the worker timeout; an
idle worker process with its four queues (two steps, each with a delay queue) so
made ~80 script calls a second. Here every enqueue also PUBLISHes on the namespace's
doorbell channel; each worker process listens on one thread and rings a
`threading.Condition`, and a consumer whose last fetch found nothing waits for the
next ring, or at most `SAFETY_POLL_MS`. The ring is a hint, as the wake-ups of the
log are: a lost one (Redis restarted, the listener reconnecting) costs one safety
poll, never a message, because the message itself is in the queue.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import redis
from dramatiq.brokers.redis import _RedisConsumer
from redis.exceptions import RedisError

from db.retry import Outage

# The longest an idle consumer waits without a ring; also the worker threads' timeout.
SAFETY_POLL_MS = 1_000
# A consumer holding delayed messages (a retry's back-off) polls at this pace, so
# that each is moved to its queue on time: the consumer thread does that between polls.
HOLDING_POLL_MS = 50
# The listener pings this often when silent, and takes a connection that stayed silent
# for three of them as dead (a black-holed Redis gives no error, only silence).
_PING_EVERY_S = 5.0

log = logging.getLogger(__name__)


class Doorbell:
    """Counts rings; `wait_past` blocks until the count moves past what a consumer saw."""

    def __init__(self) -> None:
        self._rung = threading.Condition()
        self._rings = 0

    def rings(self) -> int:
        with self._rung:
            return self._rings

    def ring(self) -> None:
        with self._rung:
            self._rings += 1
            self._rung.notify_all()

    def wait_past(self, seen: int, timeout_s: float) -> None:
        with self._rung:
            self._rung.wait_for(lambda: self._rings != seen, timeout_s)


class DoorbellListener:
    """One daemon thread per worker process, subscribed to the doorbell channel."""

    def __init__(self, client: redis.Redis, channel: str, doorbell: Doorbell) -> None:
        self._client = client
        self._channel = channel
        self._doorbell = doorbell
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="doorbell", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        outage = Outage("broker doorbell (polling meanwhile)", log)
        while not self._stopped.is_set():
            try:
                self._listen(outage)
            except (RedisError, OSError) as error:
                self._doorbell.ring()  # consumers fetch: a ring may have been missed
                self._stopped.wait(outage.failed(error))

    def _listen(self, outage: Outage) -> None:
        with self._client.pubsub() as pubsub:  # type: ignore[no-untyped-call]
            pubsub.subscribe(self._channel)
            heard = pinged = time.monotonic()
            # Rings sent while nobody listened are lost: have every consumer look once.
            self._doorbell.ring()
            outage.recovered()
            while not self._stopped.is_set():
                message = pubsub.get_message(timeout=SAFETY_POLL_MS / 1000)
                now = time.monotonic()
                if message is not None:
                    heard = now
                    if message["type"] == "message":
                        self._doorbell.ring()
                elif now - heard > 3 * _PING_EVERY_S:
                    raise ConnectionError("doorbell connection silent")
                if now - pinged > _PING_EVERY_S and now - heard > _PING_EVERY_S:
                    pubsub.ping()
                    pinged = now


class WakingConsumer(_RedisConsumer):
    """Dramatiq's Redis consumer, waiting on the doorbell between empty fetches."""

    def __init__(self, broker: Any, queue_name: str, prefetch: int, timeout: int) -> None:
        super().__init__(broker, queue_name, prefetch, timeout)  # type: ignore[no-untyped-call]
        self._doorbell: Doorbell = broker.doorbell
        self._holds_delayed = queue_name.endswith(".DQ")
        self._safety_s = max(timeout, HOLDING_POLL_MS) / 1000
        # No sleep inside dramatiq's fetch: the wait happens here, on the doorbell.
        self.timeout = 0
        self._idle_since: int | None = None  # rings seen before the last empty fetch
        self._wait_s = self._safety_s

    def __next__(self) -> Any:
        if self._idle_since is not None:
            self._doorbell.wait_past(self._idle_since, self._wait_s)
            self._idle_since = None
        seen = self._doorbell.rings()  # before the fetch: a ring after it is not missed
        # Prefetch full: dramatiq fetches nothing this turn. Then, as with delayed
        # messages held for their time, the old short poll stays: rings say nothing of
        # acks or of the clock.
        busy = not self.message_cache and self.outstanding_message_count >= self.prefetch
        holding = self._holds_delayed and self.outstanding_message_count > 0
        message = super().__next__()  # type: ignore[no-untyped-call]
        if message is None:
            self._idle_since = seen
            self._wait_s = HOLDING_POLL_MS / 1000 if busy or holding else self._safety_s
        return message
