"""The API process's one tailer: follows the global log from "now" and hands each
order's new events to the clients following that order.

Each follower has a bounded queue. When it is full the queue is emptied and the
follower marked `behind`: the client's sender then re-reads its order from the store
after the last version it sent. So a client that never reads costs at most one full
queue, and a slow one still receives every event (DESIGN.md, "WebSocket").
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

import psycopg

from db.pacing import Pace
from domain.records import GlobalPosition, RecordedEvent, StoreUnavailable

log = logging.getLogger("api.live_feed")

# Waits until there may be new events (a wake-up) or the timeout passed.
Waiter = Callable[[float], Awaitable[None]]


class GlobalLog(Protocol):
    async def read_all(
        self, after: GlobalPosition, limit: int, event_types: Sequence[str] | None = None
    ) -> list[RecordedEvent]: ...


class Follower:
    """One client's interest in one order's stream."""

    def __init__(self, stream_id: str, capacity: int) -> None:
        self.stream_id = stream_id
        self.behind = False
        self._capacity = capacity
        self._queue: deque[RecordedEvent] = deque()
        self._ready = asyncio.Event()

    def offer(self, event: RecordedEvent) -> None:
        if len(self._queue) >= self._capacity:
            self._queue.clear()  # the store has them all; the sender re-reads
            self.behind = True
        else:
            self._queue.append(event)
        self._ready.set()

    async def next(self) -> RecordedEvent | None:
        """The next queued event, or None when the follower fell behind."""
        while not self._queue and not self.behind:
            self._ready.clear()
            await self._ready.wait()
        if self.behind:
            self.behind = False
            self._queue.clear()
            return None
        return self._queue.popleft()


class LiveFeed:
    def __init__(
        self,
        log_: GlobalLog,
        head: Callable[[], Awaitable[GlobalPosition]],
        *,
        waiter: Waiter | None = None,
        poll_interval_s: float = 0.02,
        idle_poll_s: float | None = None,
        batch_size: int = 1_000,
        queue_capacity: int = 256,
    ) -> None:
        self._log = log_
        self._head = head
        self._wait = waiter or asyncio.sleep
        # Quiet, it looks only every `idle_poll_s` and waits for wake-ups meanwhile.
        self._pace = Pace(poll_interval_s, (idle_poll_s or 0) if waiter else poll_interval_s)
        self._batch_size = batch_size
        self._capacity = queue_capacity
        self._followers: dict[str, set[Follower]] = {}
        self.open_sockets = 0
        self.catch_ups = 0  # times a follower overflowed and re-read the store
        self.position: GlobalPosition | None = None
        self.started = asyncio.Event()

    def follow(self, stream_id: str) -> Follower:
        follower = Follower(stream_id, self._capacity)
        self._followers.setdefault(stream_id, set()).add(follower)
        return follower

    def unfollow(self, follower: Follower) -> None:
        followers = self._followers.get(follower.stream_id)
        if followers is not None:
            followers.discard(follower)
            if not followers:
                del self._followers[follower.stream_id]

    async def run(self, stop: asyncio.Event, retry_s: float = 0.5) -> None:
        """Tail the log until `stop`; a store outage delays events, never loses them."""
        while not stop.is_set():
            try:
                await self._tail(stop)
            except (StoreUnavailable, psycopg.Error) as error:
                log.warning("live feed cannot read the log; retrying", extra={"error": str(error)})
                await _sleep_unless(stop, retry_s)

    async def _tail(self, stop: asyncio.Event) -> None:
        if self.position is None:
            self.position = await self._head()
            self.started.set()
        while not stop.is_set():
            events = await self._log.read_all(self.position, self._batch_size)
            for event in events:
                for follower in self._followers.get(event.stream_id, ()):
                    follower.offer(event)
            if events:
                self.position = GlobalPosition(events[-1].tx_id, events[-1].global_position)
                self._pace.found()
            if len(events) < self._batch_size:
                await self._pace.wait(self._wait)


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return
