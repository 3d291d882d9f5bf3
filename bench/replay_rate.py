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
import time
import uuid

import msgspec
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from bench.command import run_benchmark
from bench.measures import Distribution, Figure, Throughput, ratio
from db.event_store import PostgresEventStore
from db.log_head import settled_head
from db.migrate import migrate
from db.pool import create_pool
from domain.events import encode_event_data, event_type
from domain.records import START, GlobalPosition
from orderengine.progress import progress_bar
from projections.rebuild import rebuild
from tests.support.order_histories import confirmed_history
from tests.support.servers import fresh_database, postgres_admin_url

TX_EVENTS = 20_000


class ReplayRun(msgspec.Struct, frozen=True):
    verify: bool
    events: int
    orders: int
    seconds: float
    differences: int

    @property
    def rate(self) -> float:
        return self.events / self.seconds


class ReplayResult(msgspec.Struct, frozen=True):
    loaded: int
    load_seconds: float
    batch_size: int
    raw_rate: float  # read_all over the whole log, events/s: the ceiling
    runs: list[ReplayRun]

    def figures(self) -> list[Figure]:
        first = self.runs[0]
        workload = f"{first.events:,} events of {first.orders:,} market orders"
        base = f"raw read_all of the log: {self.raw_rate:,.0f} events/s"
        return [
            Figure("replay_rate", f"replay{' --verify' if run.verify else ''} events/s",
                   f"{run.rate:,.0f}", workload, base, ratio(run.rate, self.raw_rate))
            for run in self.runs
        ]  # fmt: skip

    def latencies(self) -> dict[str, Distribution]:
        return {}

    def throughput(self) -> list[Throughput]:
        return []


def run(args: argparse.Namespace) -> ReplayResult:
    admin = os.environ.get("DATABASE_URL") or postgres_admin_url()
    with fresh_database(admin, prefix="oe_bench_replay") as url:
        migrate(url)
        return asyncio.run(_benchmark(url, args.events, args.batch_size))


def show(result: ReplayResult) -> None:
    print(f"loaded {result.loaded:,} events in {result.load_seconds:.1f} s")
    print(
        f"raw read of the log (read_all, {result.batch_size:,}/batch):"
        f" {result.raw_rate:,.0f} events/s"
    )
    for run in result.runs:
        print(
            f"replay{' --verify' if run.verify else ''}: {run.events:,} events ->"
            f" {run.orders:,} orders in {run.seconds:.1f} s = {run.rate:,.0f} events/s"
            f" ({100 * run.rate / result.raw_rate:.0f} % of the raw read rate);"
            f" differences: {run.differences}",
            flush=True,
        )


async def _benchmark(database_url: str, events: int, batch_size: int) -> ReplayResult:
    started = time.perf_counter()
    loaded = await _load(database_url, events)
    load_seconds = time.perf_counter() - started
    pool = create_pool(
        database_url, min_size=2, max_size=4, acquire_timeout_s=30, statement_timeout_ms=120_000
    )
    await pool.open(wait=True)
    store = PostgresEventStore(pool)
    runs = []
    try:
        await _wait_until_settled(pool)
        raw_rate = await _raw_read_rate(store, batch_size)
        async with await AsyncConnection.connect(database_url, autocommit=True) as conn:
            for verify in (False, True):
                with progress_bar(f"replay{' --verify' if verify else ''}", "events") as bar:
                    outcome = await rebuild(
                        conn, store, verify=verify, batch_size=batch_size, progress=bar
                    )
                runs.append(
                    ReplayRun(
                        verify, outcome.events, outcome.orders, outcome.seconds,
                        len(outcome.differences),
                    )
                )  # fmt: skip
    finally:
        await pool.close()
    return ReplayResult(loaded, load_seconds, batch_size, raw_rate, runs)


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
    with progress_bar("loading the log", "events") as progress:
        async with await AsyncConnection.connect(database_url, autocommit=True) as conn:
            while written + len(rows) < total:
                order_id = str(uuid.uuid4())
                for version, (kind, data) in enumerate(templates[orders % 3], start=1):
                    stored = data.replace("ORDER_ID", order_id)
                    event_id = str(uuid.uuid4())
                    rows.append((f"order-{order_id}", version, event_id, kind, stored, "{}"))
                orders += 1
                if len(rows) >= TX_EVENTS:
                    await _copy(conn, rows)
                    written, rows = written + len(rows), []
                    progress(written, total)
            if rows:
                await _copy(conn, rows)
                written += len(rows)
        progress(written, max(total, written))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=5_000)
    run_benchmark(parser, run, show)


if __name__ == "__main__":
    main()
