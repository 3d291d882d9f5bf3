"""The pool watcher: finds new pools on the chain over JSON-RPC, as a sniper bot does,
and records each in the log once (`commands.record_launches`).

While its gate is set (the launched-pools projection holds its lock: one watcher is
active) it looks: when the feed's announcements ring (a creation confirmed), else every
`idle_s` as a safety net; without live announcements (none offered, or the socket is
down) and for `idle_s` after a ring, every `interval_s` (well under a slot). A look
asks the `LaunchFeed` for the creations confirmed after the newest one it knows, reads
them in one batch, and appends them oldest first, stopping before the first one the
node cannot show yet.
The newest one it knows is its checkpoint on the chain: in memory once it appended,
else the newest in `launched_pools` (by slot, then place in the log). The appends
come first and the checkpoint only from what they wrote, so a crash anywhere makes
the next look repeat appends that the store absorbs (version 0, the pool's command
id), never skip one: every pool is recorded once.
"""

from __future__ import annotations

import asyncio
import logging
import time

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from commands.ports import Announcements, EventStore, LaunchFeed
from commands.record_launches import record_launches
from db.launched_pools import newest_creation
from db.retry import DEFAULT_POLICY, Gate, Outage, WhenQuiet, every_interval

log = logging.getLogger(__name__)


class PoolWatcher:
    def __init__(
        self,
        pool: AsyncConnectionPool[AsyncConnection],
        store: EventStore,
        feed: LaunchFeed,
        *,
        interval_s: float = 0.1,
        idle_s: float = 1.0,
    ) -> None:
        self._pool = pool
        self._store = store
        self._feed = feed
        self._interval_s = interval_s
        self._idle_s = idle_s
        self._newest: str | None = None
        # Read from the store once: afterwards this watcher moves `_newest` itself (a
        # stale one, after another evaluator led meanwhile, only re-reads creations the
        # store absorbs twice). Reading it every look while no pool was ever launched
        # cost ten queries a second.
        self._resumed = False
        self.recorded = 0  # pools this watcher recorded first
        self.outage = Outage("pool watcher", log, DEFAULT_POLICY)

    async def run(self, stop: asyncio.Event, active: Gate) -> None:
        """Look every interval while `active`, until `stop`. A failed look (the store,
        the node unreachable or answering an error) backs off and the next one looks
        again: a look only reads and appends what the store absorbs twice."""
        announcements = self._feed.announcements
        looks = every_interval(
            self.outage,
            stop,
            self._interval_s,
            self.look,
            active,
            retry_on=(Exception,),
            when_quiet=None if announcements is None else self._waits(announcements),
        )
        if announcements is None:
            await looks
        else:
            await asyncio.gather(announcements.run(stop), looks)

    def _waits(self, announcements: Announcements) -> WhenQuiet:
        """Wait for the bell (or `idle_s`) while the subscription is live and quiet."""

        def quiet() -> bool:
            # Fast looks go on a while after a ring: a node that lags shows the
            # creation a little later than it announced it.
            recent = time.monotonic() - announcements.last_rang < self._idle_s
            return announcements.live and not recent

        return WhenQuiet(self._idle_s, announcements.bell, quiet)

    async def look(self) -> int:
        """One look at the chain; how many pools it recorded first."""
        if not self._resumed:
            async with self._pool.connection() as conn:
                self._newest = await newest_creation(conn)
            self._resumed = True
        newest = self._newest
        signatures = await self._feed.creations_after(newest)
        if not signatures:
            return 0
        seen_slot = await self._feed.slot()
        creations = await self._feed.creations(signatures)
        readable = signatures
        if creations.unreadable:
            readable = signatures[: signatures.index(creations.unreadable[0])]
        wanted = set(readable)
        found = [creation for creation in creations.found if creation.signature in wanted]
        new = await record_launches(self._store, found, seen_slot)
        if readable:
            self._newest = readable[-1]
        if new:
            self.recorded += new
            log.info("pools recorded", extra={"pools": new, "seen_slot": seen_slot})
        return new
