"""The one retry policy of the engine's long-running loops, and how they log an outage.

A runner, a sweeper or a listener that loses PostgreSQL or Redis for a while must not
exit (a restart costs a lock hand-over and a cold start, and the supervisor's restarts
hide the fault): it backs off, tries again and goes on where it stopped. An outage is
logged twice, when it starts and when it ends, never once per failed try.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import msgspec
import psycopg
from psycopg_pool import PoolTimeout
from redis.exceptions import RedisError

from domain.records import StoreUnavailable

# What an outage of PostgreSQL or Redis raises: worth trying again later. Anything else
# is a bug and propagates.
TRANSIENT: tuple[type[BaseException], ...] = (
    StoreUnavailable,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    PoolTimeout,
    RedisError,
    OSError,  # TimeoutError and ConnectionError included
)


class RetryPolicy(msgspec.Struct, frozen=True):
    """Exponential back-off: `first_s`, doubled after each failure, at most `max_s`."""

    first_s: float = 0.1
    max_s: float = 2.0

    def delay_s(self, failures: int) -> float:
        """How long to wait after the `failures`-th failure in a row (1 is the first)."""
        doublings = max(0, min(failures - 1, 30))
        return min(self.max_s, self.first_s * float(2**doublings))


DEFAULT_POLICY = RetryPolicy()


class Outage:
    """Failures in a row of one loop (`what`): a warning at the first, an info line
    when it works again, with how long it lasted and how many tries failed."""

    def __init__(
        self, what: str, logger: logging.Logger, policy: RetryPolicy = DEFAULT_POLICY
    ) -> None:
        self._what = what
        self._log = logger
        self._policy = policy
        self.failures = 0
        self.outages = 0  # outages seen since start (each logged once)
        self._since = 0.0

    @property
    def ongoing(self) -> bool:
        return self.failures > 0

    def failed(self, error: BaseException) -> float:
        """Count a failed try; the back-off before the next one."""
        if self.failures == 0:
            self.outages += 1
            self._since = time.monotonic()
            self._log.warning(
                "%s failing; retrying with back-off",
                self._what,
                extra={"loop": self._what, "error": repr(error)},
                # An outage needs no traceback; anything else may be a bug: show where.
                exc_info=None if isinstance(error, TRANSIENT) else error,
            )
        self.failures += 1
        return self._policy.delay_s(self.failures)

    def recovered(self) -> None:
        """The loop worked again (a no-op when there was no outage)."""
        if self.failures == 0:
            return
        self._log.info(
            "%s recovered",
            self._what,
            extra={
                "loop": self._what,
                "failed_tries": self.failures,
                "outage_s": round(time.monotonic() - self._since, 3),
            },
        )
        self.failures = 0


async def sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less when `stop` is set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return


class Gate(Protocol):
    """Whether a loop's rounds may run now (`db.consumer_lock.Leadership`)."""

    def is_set(self) -> bool: ...

    async def wait_lost(self) -> None: ...


@dataclass(frozen=True)
class WhenQuiet:
    """How a loop idles: after a round that leaves it `quiet()` (nothing to follow), it
    waits `idle_s` instead of its interval, or until `bell` says there is work again."""

    idle_s: float
    bell: asyncio.Event
    quiet: Callable[[], bool]


async def every_interval(
    outage: Outage,
    stop: asyncio.Event,
    interval_s: float,
    one_round: Callable[[], Awaitable[object]],
    gate: Gate | None = None,
    retry_on: tuple[type[BaseException], ...] = TRANSIENT,
    when_quiet: WhenQuiet | None = None,
) -> None:
    """Run `one_round` every `interval_s` until `stop`; with `gate`, only while it is
    set, and a round under way when it is lost is cancelled. A failure in `retry_on`
    backs off by the policy instead (the loop never ends on one)."""
    while not stop.is_set():
        pause = interval_s
        if gate is None or gate.is_set():
            try:
                await _unless_lost(one_round(), gate)
            except retry_on as error:
                pause = max(interval_s, outage.failed(error))
            else:
                outage.recovered()
                if when_quiet is not None and when_quiet.quiet():
                    pause = max(interval_s, when_quiet.idle_s)
        if when_quiet is None:
            await sleep_unless(stop, pause)
        else:
            await sleep_unless_rung(stop, when_quiet.bell, pause)


async def sleep_unless_rung(
    stop: asyncio.Event, bell: asyncio.Event | None, seconds: float
) -> None:
    """Sleep `seconds`, or less when `stop` is set or `bell` rings meanwhile; the bell is
    cleared afterwards (what it announced is looked at next)."""
    waits = [asyncio.ensure_future(stop.wait())]
    if bell is not None:
        waits.append(asyncio.ensure_future(bell.wait()))
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()
    if bell is not None:
        bell.clear()


async def look_while_active(
    stop: asyncio.Event,
    active: Gate,
    look: Callable[[], Awaitable[bool]],
    *,
    bell: asyncio.Event | None,
    interval_s: float,
    idle_s: float,
    log: logging.Logger,
    what: str,
) -> None:
    """The loop of a watcher (trigger evaluator, sniper buyer, exit watcher): `look`
    every `interval_s` while `active` and it says it is busy, else every `idle_s` or at
    once when `bell` rings, until `stop`. A failed look is logged (as `what` failed)
    and the next one tries again."""
    while not stop.is_set():
        busy = True
        if active.is_set():
            try:
                busy = await look()
            except Exception:
                log.exception(f"{what} failed; looking again")
        await sleep_unless_rung(stop, bell, interval_s if busy else idle_s)


async def _unless_lost(work: Awaitable[object], gate: Gate | None) -> None:
    if gate is None:
        await work
        return
    task = asyncio.ensure_future(work)
    lost = asyncio.ensure_future(gate.wait_lost())
    try:
        await asyncio.wait([task, lost], return_when=asyncio.FIRST_COMPLETED)
    finally:
        lost.cancel()
        if not task.done():
            task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
