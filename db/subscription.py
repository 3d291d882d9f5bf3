"""Checkpointed consumers of the global log: projectors and the dispatcher.

A consumer reads a batch after its checkpoint, applies it, and writes the new
checkpoint in the same transaction as its database effects (DESIGN.md,
"Consumers"). Effects outside PostgreSQL (a broker message) run after that commit, so
no transaction waits on Redis (it would hold the read horizon of every reader back):
a crash or an outage between the commit and the effect loses it, so the consumer's
own database effects must be able to redo it (the dispatcher's in-flight table is its
outbox: the sweeper re-sends what is overdue).

One runner per consumer is active: it holds a session advisory lock on the very
connection that reads and commits its batches, so every poll uses it, and a check
covers the rest (`db/consumer_lock.py`): a runner whose lock connection died stops
before a standby can start.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Protocol

from psycopg import AsyncConnection

from db.consumer_lock import ConsumerLock, Leadership
from db.event_store import PostgresEventStore
from db.pacing import Pace
from db.retry import DEFAULT_POLICY, TRANSIENT, Outage, RetryPolicy, sleep_unless
from domain.records import START, GlobalPosition, RecordedEvent

log = logging.getLogger(__name__)

# Waits until there may be new events (a wake-up) or the poll interval passed.
Waiter = Callable[[float], Awaitable[None]]
# What a batch does once it committed; skipped during an outage of what it talks to.
AfterCommit = Callable[[], Awaitable[None]]


class Consumer(Protocol):
    """What a runner drives. `apply` runs inside the checkpoint's transaction and may
    return what to do after it committed."""

    name: str
    event_types: Sequence[str] | None

    async def apply(
        self, conn: AsyncConnection, events: list[RecordedEvent]
    ) -> AfterCommit | None: ...


class SubscriptionRunner:
    def __init__(
        self,
        database_url: str,
        store: PostgresEventStore,
        consumer: Consumer,
        *,
        batch_size: int = 500,
        poll_interval_s: float = 0.05,
        idle_poll_s: float | None = None,
        waiter: Waiter | None = None,
        connect_options: str = "",
        retry: RetryPolicy = DEFAULT_POLICY,
        lock_retry_s: float = 1.0,
    ) -> None:
        self._database_url = database_url
        self._store = store
        self._consumer = consumer
        self._batch_size = batch_size
        # Quiet, it looks only every `idle_poll_s` and otherwise waits for a wake-up
        # (`db/pacing.py`); with no waiter nothing can wake it: it keeps the fast pace.
        self._pace = Pace(poll_interval_s, (idle_poll_s or 0) if waiter else poll_interval_s)
        self._wait = waiter or asyncio.sleep
        self._connect_options = connect_options
        self.position = START
        self._lock_retry_s = lock_retry_s
        # Idle, its looks at the log are what prove the lock: checks (and a standby's
        # hand-over wait) follow the slower pace.
        self.lock = ConsumerLock(
            consumer.name, check_every_s=self._pace.idle_s, retry_s=lock_retry_s
        )
        self.terms = 0  # times this runner became the active one
        self.active = Leadership()  # holds the lock: the leader's other work runs meanwhile
        self.caught_up = asyncio.Event()  # read everything settled at least once
        self.outage = Outage(f"consumer {consumer.name}", log, retry)
        self._effects = Outage(f"consumer {consumer.name}'s effects after commit", log, retry)
        self._effects_resume_at = 0.0

    async def run_until_stopped(self, stop: asyncio.Event) -> None:
        """`run` until `stop`, again after every outage of PostgreSQL or Redis (lost
        connection, restart, timeout, lost lock): the process never ends on one."""
        while not stop.is_set():
            terms = self.terms
            try:
                await self.run(stop)
            except TRANSIENT as error:
                self.caught_up.clear()
                pause = self.outage.failed(error)
                if self.terms > terms:
                    # A leader that lost its lock lets a standby (trying every
                    # `lock_retry_s`) take over before it competes again.
                    pause = max(pause, 2 * self._lock_retry_s)
                await sleep_unless(stop, pause)

    async def run(self, stop: asyncio.Event) -> None:
        """Hold the consumer's lock and apply batches until `stop` is set; raises when
        the lock connection fails (checked every poll, busy or idle)."""
        # On a cut network the lock connection's socket gives up in seconds (keepalive
        # probes unanswered, data unacknowledged), not after TCP's minutes.
        async with await AsyncConnection.connect(
            self._database_url,
            autocommit=True,
            options=self._connect_options,
            keepalives=1,
            keepalives_idle=5,
            keepalives_interval=1,
            keepalives_count=3,
            tcp_user_timeout=8_000,
        ) as conn:
            if not await self.lock.acquire(conn, stop):
                return
            try:
                async with self.lock.guard:
                    self.position = await load_checkpoint(conn, self._consumer.name)
                self.active.set()
                self.terms += 1
                log.info("consumer active", extra={"consumer": self._consumer.name})
                await self._lead(self.lock.keep(conn, stop), self._follow(conn, stop))
            finally:
                self.active.clear()

    async def _lead(self, *loops: Coroutine[object, object, None]) -> None:
        """Run `loops` until one ends; the leader stops (`active` cleared) at once, then
        the others are cancelled, and the first one's error is raised."""
        tasks = [asyncio.ensure_future(loop) for loop in loops]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.active.clear()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            task.result()

    async def _follow(self, conn: AsyncConnection, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                moved = await self.step(conn)
            except TRANSIENT as error:
                if conn.closed:
                    raise  # the lock went with its connection
                # A read or a statement failed but the lock is held: retry it in place.
                await sleep_unless(stop, self.outage.failed(error))
                continue
            self.outage.recovered()
            if moved:
                self._pace.found()
                continue
            self.caught_up.set()
            await self._pace.wait(lambda seconds: _first(self._wait(seconds), stop.wait()))

    async def step(self, conn: AsyncConnection) -> bool:
        """Apply one batch; False when there was nothing new. Both the read and the
        batch's transaction run on the lock connection `conn`."""
        async with self.lock.guard:
            events = await self._store.read_all(
                self.position, self._batch_size, self._consumer.event_types, conn
            )
        self.lock.answered()
        if not events:
            return False
        last = GlobalPosition(events[-1].tx_id, events[-1].global_position)
        async with self.lock.guard, conn.transaction():
            after_commit = await self._consumer.apply(conn, events)
            await save_checkpoint(conn, self._consumer.name, last)
        self.lock.answered()
        self.position = last
        if after_commit is not None:
            await self._after_commit(after_commit)
        return True

    async def _after_commit(self, effect: AfterCommit) -> None:
        # While it fails, effects are skipped until the back-off passed: a Redis that
        # hangs must not cost every batch its timeout. What is skipped or fails was
        # committed as something to redo (DESIGN.md: the in-flight table is the outbox).
        if time.monotonic() < self._effects_resume_at:
            return
        try:
            await effect()
        except TRANSIENT as error:
            self._effects_resume_at = time.monotonic() + self._effects.failed(error)
        else:
            self._effects.recovered()


async def load_checkpoint(conn: AsyncConnection, consumer: str) -> GlobalPosition:
    cursor = await conn.execute(
        "SELECT tx_id::text::bigint, global_position FROM checkpoints WHERE consumer = %s",
        (consumer,),
    )
    row = await cursor.fetchone()
    return GlobalPosition(row[0], row[1]) if row else START


async def save_checkpoint(conn: AsyncConnection, consumer: str, position: GlobalPosition) -> None:
    await conn.execute(
        "INSERT INTO checkpoints (consumer, tx_id, global_position) VALUES (%s, %s::text::xid8, %s)"
        " ON CONFLICT (consumer) DO UPDATE SET tx_id = excluded.tx_id,"
        " global_position = excluded.global_position, updated_at = now()",
        (consumer, str(position.tx_id), position.global_position),
    )


async def _first(*awaitables: Awaitable[object]) -> None:
    """Wait until the first of `awaitables` finishes; cancel the rest."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
