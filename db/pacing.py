"""How often a follower of the log looks at it: fast while there is traffic, seldom
once it is quiet, and at once when a wake-up (`db/wakeups.py`) says a commit happened.

Polling every 20-50 ms was most of an idle engine's cost. A quiet follower needs no
poll at all while wake-ups arrive; the slow poll only bounds what a lost wake-up costs.
Right after traffic or a wake-up it keeps the fast pace for a while, because an event
committed just before the wake-up can still sit above the read horizon
(`pg_snapshot_xmin`, DESIGN.md) at the first look, and nothing would wake it again.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

# Waits up to the given seconds, returning sooner at a wake-up.
Waiter = Callable[[float], Awaitable[object]]


class Pace:
    def __init__(self, busy_s: float, idle_s: float) -> None:
        self.busy_s = busy_s
        self.idle_s = max(busy_s, idle_s)
        self._busy_at = time.monotonic()

    def found(self) -> None:
        """The last look found something: keep the fast pace."""
        self._busy_at = time.monotonic()

    def interval_s(self) -> float:
        quiet_s = time.monotonic() - self._busy_at
        return self.busy_s if quiet_s < self.idle_s else self.idle_s

    async def wait(self, waiter: Waiter) -> None:
        """Wait before the next look; a wait cut short by a wake-up counts as traffic."""
        started = time.monotonic()
        interval = self.interval_s()
        await waiter(interval)
        if time.monotonic() - started < 0.9 * interval:
            self.found()
