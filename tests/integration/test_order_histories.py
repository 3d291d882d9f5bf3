"""Many orders read in one store read fold to the same states as one read per order."""

from __future__ import annotations

import uuid

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from commands.order_steps import load_order, load_orders
from db.event_store import PostgresEventStore
from domain.events import OrderSubmitted
from domain.streams import order_stream
from tests.support.order_histories import as_new_events, confirmed_history


async def test_states_read_together_equal_states_read_one_by_one(
    pool: AsyncConnectionPool[AsyncConnection],
) -> None:
    store = PostgresEventStore(pool)
    histories = [confirmed_history(attempts=attempts) for attempts in (1, 2, 3)]
    order_ids = []
    for history in histories:
        assert isinstance(history[0], OrderSubmitted)
        order_ids.append(history[0].order_id)
        await store.append(order_stream(history[0].order_id), 0, as_new_events(history))
    missing = str(uuid.uuid4())
    states = await load_orders(store, [*order_ids, missing])
    assert states == {order_id: await load_order(store, order_id) for order_id in order_ids}
    assert [states[order_id].version for order_id in order_ids] == [len(h) for h in histories]
