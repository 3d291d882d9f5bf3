"""Replay benchmark (issue 4): `orderengine replay`'s rebuild from N events, in
events/s, next to the raw read rate of the global log in the same run.

    .venv/bin/python -m bench.replay_rate --events 1000000

It creates a scratch database (on DATABASE_URL's server, else the local one), loads
market-order histories (1 to 3 attempts, ~8 events per order on average) with COPY
in transactions of 20,000 events, reads the whole log through `read_all` (raw rate),
runs the rebuild with `--verify` semantics off and on, and drops the database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from db.event_store import PostgresEventStore
from db.log_head import settled_head
from db.migrate import migrate
from db.pool import create_pool
from domain.events import encode_event_data, event_type
from domain.records import START, GlobalPosition
from projections.rebuild import rebuild
from tests.support.order_histories import confirmed_history
from tests.support.servers import fresh_database, postgres_admin_url

TX_EVENTS = 20_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=5_000)
    args = parser.parse_args()
    admin = os.environ.get("DATABASE_URL") or postgres_admin_url()
    with fresh_database(admin, prefix="oe_bench_replay") as url:
        migrate(url)
        asyncio.run(_benchmark(url, args.events, args.batch_size))


async def _benchmark(database_url: str, events: int, batch_size: int) -> None:
    started = time.perf_counter()
    loaded = await _load(database_url, events)
    print(f"loaded {loaded:,} events in {time.perf_counter() - started:.1f} s", flush=True)
    pool = create_pool(
        database_url, min_size=2, max_size=4, acquire_timeout_s=30, statement_timeout_ms=120_000
    )
    await pool.open(wait=True)
    store = PostgresEventStore(pool)
    try:
        await _wait_until_settled(pool)
        raw_rate = await _raw_read_rate(store, batch_size)
        print(f"raw read of the log (read_all, {batch_size:,}/batch): {raw_rate:,.0f} events/s")
        async with await AsyncConnection.connect(database_url, autocommit=True) as conn:
            for verify in (False, True):
                outcome = await rebuild(conn, store, verify=verify, batch_size=batch_size)
                rate = outcome.events / outcome.seconds
                print(
                    f"replay{' --verify' if verify else ''}: {outcome.events:,} events ->"
                    f" {outcome.orders:,} orders in {outcome.seconds:.1f} s = {rate:,.0f} events/s"
                    f" ({100 * rate / raw_rate:.0f} % of the raw read rate);"
                    f" differences: {len(outcome.differences)}",
                    flush=True,
                )
    finally:
        await pool.close()


async def _wait_until_settled(pool: AsyncConnectionPool[AsyncConnection]) -> None:
    """The read horizon is cluster-wide: another database's open transaction holds it."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        head = await settled_head(pool)
        async with pool.connection() as conn:
            row = await (await conn.execute("SELECT max(global_position) FROM events")).fetchone()
        if row is not None and head.global_position == row[0]:
            return
        await asyncio.sleep(0.5)
    raise SystemExit("the log never settled: a transaction on the server is held open")


async def _raw_read_rate(store: PostgresEventStore, batch_size: int) -> float:
    started, count, position = time.perf_counter(), 0, START
    while events := await store.read_all(position, batch_size):
        count += len(events)
        position = GlobalPosition(events[-1].tx_id, events[-1].global_position)
    return count / (time.perf_counter() - started)


async def _load(database_url: str, total: int) -> int:
    """COPY whole order histories (at least `total` events) straight into `events`."""
    templates = [_template(attempts) for attempts in (1, 2, 3)]
    written, orders = 0, 0
    rows: list[tuple[str, int, str, str, str, str]] = []
    async with await AsyncConnection.connect(database_url, autocommit=True) as conn:
        while written + len(rows) < total:
            order_id = str(uuid.uuid4())
            for version, (kind, data) in enumerate(templates[orders % 3], start=1):
                stored = data.replace("ORDER_ID", order_id)
                rows.append((f"order-{order_id}", version, str(uuid.uuid4()), kind, stored, "{}"))
            orders += 1
            if len(rows) >= TX_EVENTS:
                await _copy(conn, rows)
                written, rows = written + len(rows), []
                sys.stderr.write(f"\rloading {written:,}/{total:,}")
        if rows:
            await _copy(conn, rows)
            written += len(rows)
    sys.stderr.write("\n")
    return written


def _template(attempts: int) -> list[tuple[str, str]]:
    history = confirmed_history("ORDER_ID", attempts=attempts)
    return [(event_type(e), encode_event_data(e).decode()) for e in history]


async def _copy(conn: AsyncConnection, rows: list[tuple[str, int, str, str, str, str]]) -> None:
    async with (
        conn.transaction(),
        conn.cursor() as cursor,
        cursor.copy(
            "COPY events (stream_id, stream_version, event_id, event_type, data, metadata)"
            " FROM STDIN"
        ) as copy,
    ):
        for row in rows:
            await copy.write_row(row)


if __name__ == "__main__":
    main()
