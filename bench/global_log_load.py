"""Concurrent writers on many streams while one reader follows the global log.

Used by `tests/integration/test_global_log_concurrency.py` (the protocol's reader
must see every committed event exactly once) and by `python -m bench.global_log_load`,
which runs the same load against the naive `global_position > last` reader too and
prints how many events each one lost.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable

import msgspec
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from bench.command import run_benchmark
from bench.global_log_result import NAIVE, PROTOCOL, GlobalLogResult, ReaderRound
from db.event_store import PostgresEventStore
from db.migrate import migrate
from db.pool import create_pool
from domain.records import START, ConcurrencyConflict, EventMetadata, GlobalPosition, NewEvent
from orderengine.progress import progress_bar
from tests.support.servers import fresh_database, postgres_admin_url

# A reader returns the next page after its own cursor; None means "no new events".
Reader = Callable[[], Awaitable[list[tuple[str, str, int]] | None]]


class LoadOutcome(msgspec.Struct):
    committed: dict[str, tuple[str, int]]  # event id -> (stream, version)
    seen: list[tuple[str, str, int]]  # (event id, stream, version) in reading order
    seconds: float

    @property
    def lost(self) -> int:
        return len(set(self.committed) - {event_id for event_id, _, _ in self.seen})

    @property
    def duplicated(self) -> int:
        return len(self.seen) - len({event_id for event_id, _, _ in self.seen})

    def out_of_order_streams(self) -> list[str]:
        versions: dict[str, list[int]] = {}
        for _, stream_id, version in self.seen:
            versions.setdefault(stream_id, []).append(version)
        return [s for s, v in versions.items() if v != sorted(v)]


def protocol_reader(store: PostgresEventStore, page: int = 500) -> Reader:
    position = START

    async def read() -> list[tuple[str, str, int]] | None:
        nonlocal position
        events = await store.read_all(position, page)
        if not events:
            return None
        position = GlobalPosition(events[-1].tx_id, events[-1].global_position)
        return [(e.event_id, e.stream_id, e.stream_version) for e in events]

    return read


def naive_reader(pool: AsyncConnectionPool[AsyncConnection], page: int = 500) -> Reader:
    """The bug DESIGN.md warns about: sequence order is not commit order."""
    last = 0

    async def read() -> list[tuple[str, str, int]] | None:
        nonlocal last
        async with pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT global_position, event_id::text, stream_id, stream_version FROM events"
                " WHERE global_position > %s ORDER BY global_position LIMIT %s",
                (last, page),
            )
            rows = await cursor.fetchall()
        if not rows:
            return None
        last = rows[-1][0]
        return [(row[1], row[2], row[3]) for row in rows]

    return read


async def run_load(
    store: PostgresEventStore,
    reader: Reader,
    *,
    writers: int = 8,
    streams: int = 200,
    appends_per_writer: int = 250,
    seed: int = 7,
    settle_s: float = 30.0,
) -> LoadOutcome:
    stream_ids = [f"load-{seed}-{i}-{time.monotonic_ns()}" for i in range(streams)]
    versions = dict.fromkeys(stream_ids, 0)
    committed: dict[str, tuple[str, int]] = {}
    seen: list[tuple[str, str, int]] = []
    writing = True

    async def write(worker: int) -> None:
        rng = random.Random(f"{seed}:{worker}")
        for _ in range(appends_per_writer):
            stream_id = rng.choice(stream_ids)
            batch = [_event(worker) for _ in range(rng.randint(1, 3))]
            while True:
                expected = versions[stream_id]
                try:
                    result = await store.append(stream_id, expected, batch)
                    break
                except ConcurrencyConflict:
                    versions[stream_id] = len(await store.read_stream(stream_id))
            versions[stream_id] = result.last_version
            for offset, event in enumerate(batch):
                committed[event.event_id] = (stream_id, result.first_version + offset)

    async def follow() -> None:
        while True:
            page = await reader()
            if page:
                seen.extend(page)
            elif not writing:
                return
            else:
                await asyncio.sleep(0.001)

    started = time.perf_counter()
    follower = asyncio.create_task(follow())
    await asyncio.gather(*(write(w) for w in range(writers)))
    writing = False
    await follower
    await _drain(reader, seen, committed, settle_s)
    return LoadOutcome(committed, seen, time.perf_counter() - started)


async def _drain(
    reader: Reader,
    seen: list[tuple[str, str, int]],
    committed: dict[str, tuple[str, int]],
    settle_s: float,
) -> None:
    """Read on until every committed event was seen or `settle_s` passed.

    The horizon is cluster-wide: a transaction in another database on the same server
    delays what is settled here. That is latency, not loss, so a follower waits for it
    (with a deadline, after which `lost` counts what never arrived)."""
    deadline = time.monotonic() + settle_s
    seen_ids = {event_id for event_id, _, _ in seen}
    while time.monotonic() < deadline and not seen_ids >= committed.keys():
        page = await reader()
        if page:
            seen.extend(page)
            seen_ids.update(event_id for event_id, _, _ in page)
        else:
            await asyncio.sleep(0.01)


def _event(worker: int) -> NewEvent:
    return NewEvent(str(uuid.uuid4()), "Noted", b'{"n":1}', EventMetadata(actor=f"w{worker}"))


async def _compare(database_url: str, rounds: int) -> GlobalLogResult:
    pool = create_pool(database_url, min_size=4, max_size=16, acquire_timeout_s=10)
    await pool.open(wait=True)
    store = PostgresEventStore(pool)
    readers: list[tuple[str, Callable[[], Reader]]] = [
        (PROTOCOL, lambda: protocol_reader(store)),
        (NAIVE, lambda: naive_reader(pool)),
    ]
    results = []
    try:
        with progress_bar("concurrent writers, one reader", "rounds") as progress:
            for name, make in readers:
                for round_ in range(rounds):
                    outcome = await run_load(store, make(), seed=round_)
                    results.append(
                        ReaderRound(
                            name, len(outcome.committed), outcome.lost, outcome.duplicated,
                            len(outcome.out_of_order_streams()), outcome.seconds,
                        )
                    )  # fmt: skip
                    progress(len(results), rounds * len(readers))
    finally:
        await pool.close()
    return GlobalLogResult(results)


def show(result: GlobalLogResult) -> None:
    print("\n".join(result.lines()))


def run(args: argparse.Namespace) -> GlobalLogResult:
    if args.database_url:
        return asyncio.run(_compare(args.database_url, args.rounds))
    with fresh_database(postgres_admin_url(), prefix="oe_bench") as url:
        migrate(url)
        return asyncio.run(_compare(url, args.rounds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="a migrated scratch database (default: a fresh one)")
    parser.add_argument("--rounds", type=int, default=3)
    run_benchmark(parser, run, show)


if __name__ == "__main__":
    main()
