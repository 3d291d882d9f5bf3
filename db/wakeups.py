"""Wake-ups: a Redis publish after each commit, so followers of the log need not
poll hard. They are hints (DESIGN.md): a lost one costs a poll interval, never data.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from db.redis_clients import DEFAULT_TIMEOUT_S, async_redis
from db.retry import Outage, sleep_unless

CHANNEL = "orderengine:committed"
log = logging.getLogger(__name__)


class CommitNudger:
    """Publishes wake-ups, coalesced: one PUBLISH in flight at most, commits made
    meanwhile ask for exactly one more, sent at least `min_interval_s` later."""

    def __init__(
        self, redis: aioredis.Redis, channel: str = CHANNEL, min_interval_s: float = 0.005
    ) -> None:
        self._redis = redis
        self._channel = channel
        # Under load a publish per round trip costs the API ~6 % of its CPU (profiled);
        # a few milliseconds between publishes bounds that, and followers poll anyway.
        self._min_interval_s = min_interval_s
        self._publishing: asyncio.Task[None] | None = None
        self._again = False

    def nudge(self) -> None:
        if self._publishing is not None and not self._publishing.done():
            self._again = True
            return
        self._publishing = asyncio.get_running_loop().create_task(self._publish())

    async def _publish(self) -> None:
        while True:
            self._again = False
            try:
                await self._redis.publish(self._channel, b"1")
            except (RedisError, OSError) as error:
                log.warning("wake-up not published", extra={"error": repr(error)})
            if not self._again:
                return
            await asyncio.sleep(self._min_interval_s)


class WakeUpListener:
    """Follows the wake-up channel; `wait` returns at a wake-up or after the timeout."""

    def __init__(
        self, redis_url: str, channel: str = CHANNEL, redis_timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> None:
        self._redis_url = redis_url
        self._channel = channel
        self._redis_timeout_s = redis_timeout_s
        self._woken = asyncio.Event()
        self._all_woken = [self._woken]

    async def wait(self, timeout_s: float) -> None:
        await _wait_for(self._woken, timeout_s)

    def waiter(self) -> Callable[[float], Awaitable[None]]:
        """A wait of its own for another follower in the process: each wake-up reaches
        every one (one shared event would be cleared by whichever woke first)."""
        woken = asyncio.Event()
        self._all_woken.append(woken)

        async def wait(timeout_s: float) -> None:
            await _wait_for(woken, timeout_s)

        return wait

    async def run(self, stop: asyncio.Event) -> None:
        """Listen until `stop`; a lost Redis only means polling until it is back."""
        outage = Outage("wake-up listener (polling meanwhile)", log)
        while not stop.is_set():
            try:
                await self._listen(stop, outage)
            except (RedisError, OSError) as error:
                await sleep_unless(stop, outage.failed(error))

    async def _listen(self, stop: asyncio.Event, outage: Outage) -> None:
        client = async_redis(self._redis_url, self._redis_timeout_s)
        try:
            async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                await pubsub.subscribe(self._channel)
                outage.recovered()
                while not stop.is_set():
                    message = await pubsub.get_message(timeout=0.5)
                    if message is not None:
                        for woken in self._all_woken:
                            woken.set()
        finally:
            await client.aclose()


async def _wait_for(woken: asyncio.Event, timeout_s: float) -> None:
    try:
        await asyncio.wait_for(woken.wait(), timeout_s)
    except TimeoutError:
        return
    woken.clear()
