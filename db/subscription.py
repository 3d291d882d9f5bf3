"""Checkpointed consumers of the global log: projectors and the dispatcher.

A consumer reads a batch after its checkpoint, applies it, and writes the new
checkpoint in the same transaction as its database effects (DESIGN.md,
"Consumers"). Effects outside PostgreSQL (a broker message) happen before that
commit, so a crash repeats them: they must be idempotent.

One runner per consumer is active: it holds a session advisory lock on the very
connection that commits its batches, so a runner whose connection dies loses the
lock and its next commit fails before a standby can take over twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

import psycopg
from psycopg import AsyncConnection

from db.event_store import PostgresEventStore
from domain.records import START, GlobalPosition, RecordedEvent

log = logging.getLogger(__name__)

# Waits until there may be new events (a wake-up) or the poll interval passed.
Waiter = Callable[[float], Awaitable[None]]


class Consumer(Protocol):
    """What a runner drives. `apply` runs inside the checkpoint's transaction."""

    name: str
    event_types: Sequence[str] | None

    async def apply(self, conn: AsyncConnection, events: list[RecordedEvent]) -> None: ...


class SubscriptionRunner:
    def __init__(
        self,
        database_url: str,
        store: PostgresEventStore,
        consumer: Consumer,
        *,
        batch_size: int = 500,
        poll_interval_s: float = 0.05,
        waiter: Waiter | None = None,
        connect_options: str = "",
    ) -> None:
        self._database_url = database_url
        self._store = store
        self._consumer = consumer
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._wait = waiter or asyncio.sleep
        self._connect_options = connect_options
        self.position = START
        self.active = asyncio.Event()  # holds the lock
        self.caught_up = asyncio.Event()  # read everything settled at least once

    async def run_until_stopped(self, stop: asyncio.Event, retry_s: float = 1.0) -> None:
        """`run`, reconnecting after a lost connection (PostgreSQL restarted)."""
        while not stop.is_set():
            try:
                await self.run(stop)
            except psycopg.OperationalError as error:
                log.warning(
                    "consumer lost its connection; reconnecting",
                    extra={"consumer": self._consumer.name, "error": str(error)},
                )
                self.active.clear()
                self.caught_up.clear()
                await _first(asyncio.sleep(retry_s), stop.wait())

    async def run(self, stop: asyncio.Event) -> None:
        """Hold the consumer's lock and apply batches until `stop` is set."""
        async with await AsyncConnection.connect(
            self._database_url, autocommit=True, options=self._connect_options
        ) as conn:
            if not await self._acquire(conn, stop):
                return
            self.active.set()
            self.position = await load_checkpoint(conn, self._consumer.name)
            log.info("consumer active", extra={"consumer": self._consumer.name})
            while not stop.is_set():
                if not await self.step(conn):
                    self.caught_up.set()
                    await _first(self._wait(self._poll_interval_s), stop.wait())

    async def step(self, conn: AsyncConnection) -> bool:
        """Apply one batch; False when there was nothing new."""
        events = await self._store.read_all(
            self.position, self._batch_size, self._consumer.event_types
        )
        if not events:
            return False
        last = GlobalPosition(events[-1].tx_id, events[-1].global_position)
        async with conn.transaction():
            await self._consumer.apply(conn, events)
            await save_checkpoint(conn, self._consumer.name, last)
        self.position = last
        return True

    async def _acquire(self, conn: AsyncConnection, stop: asyncio.Event) -> bool:
        key = lock_key(self._consumer.name)
        while not stop.is_set():
            cursor = await conn.execute("SELECT pg_try_advisory_lock(%s)", (key,))
            row = await cursor.fetchone()
            if row and row[0]:
                return True
            # Standby: another runner is active; try again shortly.
            await _first(asyncio.sleep(1.0), stop.wait())
        return False


def lock_key(consumer: str) -> int:
    """A stable signed 64-bit advisory lock key for a consumer name."""
    digest = hashlib.blake2b(f"consumer:{consumer}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


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
