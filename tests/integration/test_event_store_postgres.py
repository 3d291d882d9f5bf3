"""Guarantees only the PostgreSQL store has to prove: immutable rows, session limits,
and a global order that no late commit can slip past."""

from __future__ import annotations

import asyncio

import msgspec
import psycopg
import pytest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from db.event_store import PostgresEventStore
from domain.records import GlobalPosition, RecordedEvent
from tests.support.events import new_event, stream


@pytest.fixture
def store(pool: AsyncConnectionPool[AsyncConnection]) -> PostgresEventStore:
    return PostgresEventStore(pool)


async def _tail(store: PostgresEventStore) -> GlobalPosition:
    """The position after everything settled so far (other tests share the database)."""
    position = GlobalPosition(0, 0)
    while page := await store.read_all(position, 1000):
        position = GlobalPosition(page[-1].tx_id, page[-1].global_position)
    return position


async def _read_when_settled(
    store: PostgresEventStore, start: GlobalPosition, streams: set[str], seconds: float = 30
) -> list[RecordedEvent]:
    """`streams`' events after `start` in commit order, once both have settled.

    The horizon is cluster-wide: other databases' transactions on a shared server may
    delay settling (never reorder it), so wait for the events with a deadline."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        events = [e for e in await store.read_all(start, 1000) if e.stream_id in streams]
        if len(events) >= len(streams) or asyncio.get_running_loop().time() > deadline:
            return events
        await asyncio.sleep(0.01)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET event_type = 'Forged'",
        "DELETE FROM events",
        "TRUNCATE events",
        "UPDATE commands SET request_hash = 'x'",
        "DELETE FROM commands",
    ],
)
async def test_rows_refuse_update_and_delete(
    store: PostgresEventStore, database_url: str, statement: str
) -> None:
    await store.append(stream(), 0, [new_event()], command_id=f"imm-{statement}", request_hash="h")
    with psycopg.connect(database_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)


async def test_every_session_carries_the_timeouts(
    pool: AsyncConnectionPool[AsyncConnection],
) -> None:
    async with pool.connection() as conn:
        settings = {}
        for name in ("statement_timeout", "idle_in_transaction_session_timeout", "TimeZone"):
            cursor = await conn.execute(f"SHOW {name}")
            row = await cursor.fetchone()
            assert row is not None
            settings[name] = row[0]
    assert settings["statement_timeout"] == "5s"
    assert settings["idle_in_transaction_session_timeout"] == "5s"


async def test_a_late_commit_is_read_in_its_place_never_skipped(
    store: PostgresEventStore, database_url: str
) -> None:
    start = await _tail(store)
    early, late = stream(), stream()
    # A transaction takes a global position first but commits last. It is bounded (the
    # horizon is cluster-wide: left open, it would stall every reader on the server).
    limits = "-c idle_in_transaction_session_timeout=10000"
    with psycopg.connect(database_url, options=limits) as slow:
        event = (
            f'[{{"id": "{new_event().event_id}", "type": "Noted", "data": {{}}, "metadata": {{}}}}]'
        )
        slow.execute("SELECT * FROM append_events(%s, 0, NULL, '', %s::jsonb)", (early, event))
        await store.append(late, 0, [new_event()])

        # The naive reader sees the later event and moves its cursor past the early one.
        with psycopg.connect(database_url) as conn:
            naive_seen = conn.execute(
                "SELECT stream_id, global_position FROM events WHERE global_position > %s"
                " ORDER BY global_position",
                (start.global_position,),
            ).fetchall()
        assert [row[0] for row in naive_seen] == [late]
        naive_cursor = naive_seen[-1][1]

        # The protocol's reader waits: nothing below the horizon yet.
        pending = [e for e in await store.read_all(start, 1000) if e.stream_id in {early, late}]
        assert pending == []
        slow.commit()
    settled = await _read_when_settled(store, start, {early, late})
    assert [event.stream_id for event in settled] == [early, late]
    with psycopg.connect(database_url) as conn:
        missed = conn.execute(
            "SELECT count(*) FROM events WHERE global_position > %s AND stream_id = %s",
            (naive_cursor, early),
        ).fetchone()
    assert missed == (0,), "the naive reader can no longer reach the early event"


async def test_metadata_round_trips(store: PostgresEventStore) -> None:
    stream_id = stream()
    await store.append(stream_id, 0, [new_event()], command_id="meta-1", request_hash="h")
    [event] = await store.read_stream(stream_id)
    assert msgspec.json.decode(event.metadata) == {"actor": "test"}
    assert event.recorded_at.tzinfo is not None
