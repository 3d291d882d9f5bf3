"""Which waiting orders may start: an in-flight limit and an optional rate limit."""

from __future__ import annotations

import time
from collections.abc import Callable

from psycopg import AsyncConnection

from db.inflight import admit, admitted_count

UNLIMITED = 1_000_000


class RateLimit:
    """A token bucket of `per_minute` orders with a one-second burst; 0 is no limit."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = per_minute / 60.0
        self._burst = max(1.0, self._rate)
        self._tokens = self._burst
        self._clock = clock
        self._last = clock()

    def available(self) -> int:
        if self._rate <= 0:
            return UNLIMITED
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        return int(self._tokens)

    def take(self, count: int) -> None:
        if self._rate > 0:
            self._tokens -= count


class Admission:
    def __init__(self, inflight_limit: int, rate: RateLimit, due_in_ms: int) -> None:
        self._limit = inflight_limit if inflight_limit > 0 else UNLIMITED
        self._rate = rate
        self._due_in_ms = due_in_ms

    async def admit(self, conn: AsyncConnection) -> list[tuple[str, str, int]]:
        """Admit as many waiting orders as both limits allow, oldest first."""
        budget = self._rate.available()
        if budget <= 0:
            return []
        capacity = self._limit - await admitted_count(conn) if self._limit < UNLIMITED else budget
        admitted = await admit(conn, min(capacity, budget), self._due_in_ms)
        self._rate.take(len(admitted))
        return admitted
