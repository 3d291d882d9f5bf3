"""The advisory lock that keeps one runner of a consumer active, and how the runner
knows it still holds it.

A session advisory lock lives as long as its connection. A runner whose lock
connection died (PostgreSQL terminated the backend, the network cut it) has lost the
lock the moment the server noticed, and a standby may take it at its next try; the old
leader learns it only by using that connection. So the leader uses it every poll (its
reads go through it) and checks it whenever it was not used for two polls (`keep`: a
batch or a read hung on it, or a consumer that waits longer than a poll), and a new
leader waits `handover_s` (two check intervals and a margin for a late event loop)
after taking the lock before it starts: by then any old leader has seen it fail and
stopped. A connection that hangs instead of failing (a cut network) needs no more: the
server ends such a session only after the check's timeout (its keepalives, or
`idle_in_transaction_session_timeout`, 5 s by default, must stay above that timeout).
"""

from __future__ import annotations

import asyncio
import hashlib
import time

from psycopg import AsyncConnection

from db.retry import sleep_unless

HANDOVER_MARGIN_S = 0.5  # an event loop late by this much still stops in time


class Leadership:
    """Whether this runner holds its consumer's lock: an `asyncio.Event` (`is_set`,
    `wait`) that can also be waited on for its loss (`wait_lost`)."""

    def __init__(self) -> None:
        self._held = asyncio.Event()
        self._lost = asyncio.Event()
        self._lost.set()

    def is_set(self) -> bool:
        return self._held.is_set()

    def set(self) -> None:
        self._lost.clear()
        self._held.set()

    def clear(self) -> None:
        self._held.clear()
        self._lost.set()

    async def wait(self) -> None:
        await self._held.wait()

    async def wait_lost(self) -> None:
        await self._lost.wait()


class ConsumerLock:
    def __init__(
        self,
        consumer: str,
        *,
        check_every_s: float,
        check_timeout_s: float = 2.0,
        retry_s: float = 1.0,
    ) -> None:
        self.key = lock_key(consumer)
        self._check_every_s = check_every_s
        self._check_timeout_s = check_timeout_s
        self._retry_s = retry_s
        self.backend_pid: int | None = None  # the session holding it, once taken
        self.attempts = 0  # tries to take the lock
        self.refusals = 0  # tries refused: another runner held it
        # One statement at a time on the lock connection (the runner's batches commit
        # on it too).
        self.guard = asyncio.Lock()
        self._answered_at = 0.0

    def answered(self) -> None:
        """The lock connection just answered a statement (no check needed for now)."""
        self._answered_at = time.monotonic()

    @property
    def handover_s(self) -> float:
        """The longest an old leader may take to notice it lost the lock."""
        return 2 * self._check_every_s + HANDOVER_MARGIN_S

    async def acquire(self, conn: AsyncConnection, stop: asyncio.Event) -> bool:
        """Take the lock on `conn`, trying every `retry_s` (a standby), then wait out
        the hand-over; False when `stop` came first."""
        while not stop.is_set():
            self.attempts += 1
            cursor = await conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,))
            row = await cursor.fetchone()
            if row and row[0]:
                self.backend_pid = conn.info.backend_pid
                await sleep_unless(stop, self.handover_s)
                await self.check(conn)
                return not stop.is_set()
            self.refusals += 1
            await sleep_unless(stop, self._retry_s)
        return False

    async def check(self, conn: AsyncConnection) -> None:
        """A cheap query on the lock connection; raises (the lock is presumed lost)
        when it fails or has not answered within the check timeout, waiting for a
        batch's transaction included: a transaction that hangs (a cut network) would
        otherwise hide the loss for as long as the socket takes to give up."""
        async with asyncio.timeout(self._check_timeout_s), self.guard:
            await conn.execute("SELECT 1")
        self.answered()

    async def keep(self, conn: AsyncConnection, stop: asyncio.Event) -> None:
        """Check the lock connection whenever it has not answered for two intervals,
        until `stop`; raises at the first failed check."""
        while not stop.is_set():
            await sleep_unless(stop, self._check_every_s)
            silent_s = time.monotonic() - self._answered_at
            if not stop.is_set() and silent_s >= 2 * self._check_every_s:
                await self.check(conn)


def lock_key(consumer: str) -> int:
    """A stable signed 64-bit advisory lock key for a consumer name."""
    digest = hashlib.blake2b(f"consumer:{consumer}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
