"""Group commit: appends sharing one round trip are still decided one by one."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from db.append_batches import MAX_BATCH
from db.event_store import PostgresEventStore
from domain.records import CommandConflict, ConcurrencyConflict, EventMetadata, NewEvent
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


async def test_an_append_right_after_the_last_batch_settled_is_sent(
    pool: AsyncConnectionPool[AsyncConnection],
) -> None:
    """The caller of the last batch wakes up before the drain that sent it is counted
    out: its next append must still start a drain, not wait forever."""
    store = PostgresEventStore(pool, append_batches_in_flight=1)
    stream_id = stream()

    async def one_after_another() -> None:
        # Awaited directly: a task between caller and append would cost the loop turn
        # in which the drain is counted out, and hide the bug.
        for version in range(5):
            await store.append(stream_id, version, [new_event()])

    await asyncio.wait_for(one_after_another(), 10)
    assert len(await store.read_stream(stream_id)) == 5


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    in_flight=st.integers(1, 4),
    rounds=st.lists(st.integers(1, 2 * MAX_BATCH), min_size=1, max_size=4),
)
async def test_every_append_settles_whatever_the_rounds_of_concurrency(
    pool: AsyncConnectionPool[AsyncConnection], in_flight: int, rounds: list[int]
) -> None:
    """Rounds of callers at once, each appending twice in a row (the second as the
    first settles): every append settles, none is stranded in the queue."""
    store = PostgresEventStore(pool, append_batches_in_flight=in_flight)

    async def twice(stream_id: str) -> None:
        await store.append(stream_id, 0, [new_event()])
        await store.append(stream_id, 1, [new_event()])

    async def all_rounds() -> None:
        for concurrent in rounds:
            await asyncio.gather(*(twice(stream()) for _ in range(concurrent)))

    await asyncio.wait_for(all_rounds(), 10)


async def test_an_append_that_cannot_be_encoded_fails_alone(
    pool: AsyncConnectionPool[AsyncConnection],
) -> None:
    """An unexpected error in a batch settles its append with that error; its batch
    mates and the appends queued behind it still commit."""
    store = PostgresEventStore(pool, append_batches_in_flight=1)
    broken = NewEvent(
        event_id=str(uuid.uuid4()),
        event_type="Noted",
        data=b"{}",
        metadata=EventMetadata(actor=object()),  # type: ignore[arg-type]
    )
    good = [stream() for _ in range(3)]
    outcomes = await asyncio.wait_for(
        asyncio.gather(
            store.append(good[0], 0, [new_event()]),
            store.append(stream(), 0, [broken]),
            store.append(good[1], 0, [new_event()]),
            store.append(good[2], 0, [new_event()]),
            return_exceptions=True,
        ),
        10,
    )
    assert isinstance(outcomes[1], TypeError)
    assert [type(o).__name__ for o in outcomes] == [
        "AppendResult",
        "TypeError",
        "AppendResult",
        "AppendResult",
    ]
    assert all([len(await store.read_stream(s)) == 1 for s in good])
