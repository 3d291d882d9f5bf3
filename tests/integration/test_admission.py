"""Admission across admitters: the dispatcher and the sweeper admit waiting orders in
transactions of their own, at once; together they never pass either limit."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from psycopg import AsyncConnection

from db.inflight import wait_for_admission
from db.migrate import migrate
from tests.support.read_side_api import wait_until
from tests.support.servers import fresh_database
from workers.process_manager.admission import Admission


def _admission(inflight_limit: int, per_minute: int) -> Admission:
    return Admission(inflight_limit, per_minute, 5_000)


@pytest.fixture(scope="module")
def own_database(postgres_admin: str) -> Iterator[str]:
    """Admission counts every row of `inflight_orders`: a database of this module only."""
    with fresh_database(postgres_admin, prefix="oe_admission") as url:
        migrate(url)
        yield url


@pytest.fixture
async def two_connections(own_database: str) -> AsyncIterator[list[AsyncConnection]]:
    first = await AsyncConnection.connect(own_database, autocommit=True)
    second = await AsyncConnection.connect(own_database, autocommit=True)
    await first.execute("DELETE FROM inflight_orders")
    await first.execute("UPDATE admission_bucket SET tokens = 'Infinity'")
    try:
        yield [first, second]
    finally:
        await first.close()
        await second.close()


async def _waiting(conn: AsyncConnection, count: int) -> None:
    await wait_for_admission(conn, {str(uuid.uuid4()): 1 for _ in range(count)}, "route_and_send")


async def _admitted(conn: AsyncConnection) -> int:
    cursor = await conn.execute("SELECT count(*) FROM inflight_orders WHERE admitted")
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def _blocked_or_done(conn: AsyncConnection, pid: int, task: asyncio.Task[object]) -> bool:
    if task.done():
        return True
    cursor = await conn.execute(
        "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s", (pid,)
    )
    row = await cursor.fetchone()
    return bool(row and row[0])


async def _admit_in_transaction(
    conn: AsyncConnection, admission: Admission
) -> list[tuple[str, str, int]]:
    async with conn.transaction():
        return await admission.admit(conn)


async def test_two_admitters_at_once_never_pass_the_in_flight_limit(
    two_connections: list[AsyncConnection],
) -> None:
    first, second = two_connections
    await _waiting(first, 40)
    admission = _admission(10, 0)
    async with first.transaction():
        # The dispatcher admits inside its checkpoint transaction, still open ...
        assert len(await admission.admit(first)) == 10
        # ... while the sweeper admits in a transaction of its own.
        sweeping = asyncio.create_task(_admit_in_transaction(second, admission))
        watcher = await AsyncConnection.connect(first.info.dsn, autocommit=True)
        try:
            await wait_until(
                lambda: _blocked_or_done(watcher, second.info.backend_pid, sweeping),
                what="the second admitter waits or finishes",
            )
        finally:
            await watcher.close()
    assert await sweeping == []
    assert await _admitted(first) == 10


async def test_two_admitters_at_once_never_pass_the_rate_limit(
    two_connections: list[AsyncConnection],
) -> None:
    first, second = two_connections
    await _waiting(first, 40)
    # 6 a minute: a burst of one, then one every ten seconds; room for 100 in flight.
    admission = _admission(100, 6)
    both = await asyncio.gather(
        _admit_in_transaction(first, admission), _admit_in_transaction(second, admission)
    )
    assert sorted(len(admitted) for admitted in both) == [0, 1]
    assert await _admitted(first) == 1


async def test_the_rate_limit_refills_at_its_rate(two_connections: list[AsyncConnection]) -> None:
    first, _ = two_connections
    await _waiting(first, 10)
    admission = _admission(0, 120)  # a burst of two, then two a second
    assert len(await admission.admit(first)) == 2
    started = time.monotonic()
    admitted = 2
    while admitted < 4 and time.monotonic() - started < 5:
        admitted += len(await admission.admit(first))
        await asyncio.sleep(0.05)
    # Two more took about a second: neither at once nor never.
    assert 0.5 < time.monotonic() - started < 5
    assert await _admitted(first) == 4
