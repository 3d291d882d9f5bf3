"""Many writers, one follower: the global log delivers every commit exactly once."""

from __future__ import annotations

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from bench.global_log_load import protocol_reader, run_load
from db.event_store import PostgresEventStore


async def test_follower_sees_every_committed_event_once_in_stream_order(
    pool: AsyncConnectionPool[AsyncConnection],
) -> None:
    store = PostgresEventStore(pool)
    # The reader starts at the beginning, so it also reads other tests' events; only
    # this load's events are checked.
    outcome = await run_load(store, protocol_reader(store), writers=8, appends_per_writer=250)
    ours = [seen for seen in outcome.seen if seen[0] in outcome.committed]
    assert len(outcome.committed) > 2_000
    assert outcome.lost == 0
    assert outcome.duplicated == 0
    assert outcome.out_of_order_streams() == []
    # Every event is seen at exactly the version its append reported.
    assert {event_id: (s, v) for event_id, s, v in ours} == outcome.committed
