"""Group commit: appends sharing one round trip are still decided one by one."""

from __future__ import annotations

import asyncio

import pytest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from db.event_store import PostgresEventStore
from domain.records import CommandConflict, ConcurrencyConflict
from tests.support.events import new_event, stream


async def test_a_refused_append_leaves_its_batch_mates_committed(
    pool: AsyncConnectionPool[AsyncConnection],
) -> None:
    # One batch in flight at a time: everything gathered here shares one statement.
    store = PostgresEventStore(pool, append_batches_in_flight=1)
    taken, first, second = stream(), stream(), stream()
    await store.append(taken, 0, [new_event()], command_id="batch-key", request_hash="a")
    outcomes = await asyncio.gather(
        store.append(first, 0, [new_event()]),
        store.append(taken, 0, [new_event()]),  # wrong version
        store.append(stream(), 0, [new_event()], command_id="batch-key", request_hash="b"),
        store.append(second, 0, [new_event(), new_event()]),
        store.append(first, 1, [new_event()]),  # after its batch mate above
        return_exceptions=True,
    )
    assert [type(o).__name__ for o in outcomes] == [
        "AppendResult",
        "ConcurrencyConflict",
        "CommandConflict",
        "AppendResult",
        "AppendResult",
    ]
    assert isinstance(outcomes[1], ConcurrencyConflict)
    assert isinstance(outcomes[2], CommandConflict)
    assert [e.stream_version for e in await store.read_stream(first)] == [1, 2]
    assert len(await store.read_stream(second)) == 2
    assert len(await store.read_stream(taken)) == 1


@pytest.mark.parametrize("in_flight", [1, 4])
async def test_many_concurrent_appends_each_get_their_own_versions(
    pool: AsyncConnectionPool[AsyncConnection], in_flight: int
) -> None:
    store = PostgresEventStore(pool, append_batches_in_flight=in_flight)
    streams = [stream() for _ in range(300)]
    results = await asyncio.gather(*(store.append(s, 0, [new_event()]) for s in streams))
    assert [r.stream_id for r in results] == streams
    assert all((r.first_version, r.last_version, r.duplicate) == (1, 1, False) for r in results)
