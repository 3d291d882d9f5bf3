"""The sniper matcher reads every order's events (a sniper is known only by its
submission), but writes only for snipers: a batch of other orders' events costs it one
lookup per table, not a statement per event. Before, each final market order cost it a
DELETE and each armed or fired limit order an UPDATE, in the evaluator's process, for
every order the engine ever ran."""

from __future__ import annotations

import uuid
from typing import Any, cast

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from commands.submit_order import submit_order
from db import armed_snipers
from db.event_store import PostgresEventStore
from domain.records import START, RecordedEvent
from domain.streams import order_id_of, order_stream
from tests.support.order_histories import as_new_events, confirmed_history
from tests.support.sniper_rig import sniper_order
from workers.process_manager.sniper_matcher import SniperMatcher


class CountingConnection:
    """A connection that counts the statements sent through `execute`."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self.statements = 0

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        self.statements += 1
        return await self._conn.execute(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


async def _events_of(store: PostgresEventStore, order_ids: set[str]) -> list[RecordedEvent]:
    recorded = await store.read_all(START, 100_000, SniperMatcher.event_types)
    return [e for e in recorded if order_id_of(e.stream_id) in order_ids]


async def test_other_orders_events_cost_the_matcher_no_statement_each(
    pool: AsyncConnectionPool[AsyncConnection],
) -> None:
    store = PostgresEventStore(pool)
    market = [str(uuid.uuid4()) for _ in range(50)]
    for order_id in market:
        await store.append(order_stream(order_id), 0, as_new_events(confirmed_history(order_id)))
    sniper = sniper_order()
    await submit_order(store, sniper, None)
    ids = {*market, sniper.order_id}
    events = await _events_of(store, ids)
    assert len(events) > 100

    async with pool.connection() as conn, conn.transaction():
        counting = CountingConnection(conn)
        await SniperMatcher(store).apply(cast(AsyncConnection, counting), events)
        waiting = await armed_snipers.unmatched(conn, "SOL")

    # Before: one statement per final market order (50) on top of the sniper's own.
    assert counting.statements <= 5, counting.statements
    assert sniper.order_id in {s.order_id for s in waiting}  # the sniper is armed all the same
