"""Pool-detection benchmark (issue 15, its first figure): launches on the simulator at
400 ms slots, found by `orderengine evaluator`'s pool watcher over JSON-RPC; the
detection latency from the creation to `PoolLaunched` committed, in slots (the slot the
watcher read it in, less the creation's) and in milliseconds (the commit's time less
the moment `simulator_launchPool` answered), and pools recorded twice or missed.

    .venv/bin/python -m bench.pool_watch --launches 40

A scratch database, the simulator as its own process on a wall clock, the evaluator as
its own process, as in production. A creation is confirmed one slot after its own, so
one slot is the floor of what any watcher at `confirmed` can do.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx
import msgspec
from psycopg import AsyncConnection

from bench.command import run_benchmark
from bench.measures import Distribution
from db.migrate import migrate
from domain.launches import decode_launch
from tests.support.servers import PROJECT_ROOT, fresh_database, postgres_admin_url, redis_url
from tests.support.simulator_process import simulator_process


class PoolWatchResult(msgspec.Struct, frozen=True, kw_only=True):
    launches: int
    poll_ms: int
    slots: Distribution  # seen slot - creation slot, in slots (the `_ms` fields hold slots)
    latency: Distribution  # creation answered -> PoolLaunched committed, ms
    missed: int
    twice: int


def run(args: argparse.Namespace) -> PoolWatchResult:
    return asyncio.run(_run(args.launches, args.seed, args.poll_ms))


async def _run(launches: int, seed: int, poll_ms: int) -> PoolWatchResult:
    rng = random.Random(seed)  # when to launch: reproducible draws
    scratch = Path(tempfile.mkdtemp(prefix="oe-pool-watch-"))
    with (
        fresh_database(postgres_admin_url(), prefix="oe_bench_pools") as url,
        simulator_process(scratch, seed, time_scale=1.0, journaled=False) as sim,
    ):
        migrate(url)
        evaluator = _start_evaluator(url, sim.url, scratch, poll_ms)
        try:
            async with httpx.AsyncClient(base_url=sim.url) as client:
                await _launch(client)  # a first one: wait until the watcher is active
                await _wait_recorded(url, 1, evaluator)
                answered: dict[str, tuple[int, float]] = {}
                for _ in range(launches):
                    await asyncio.sleep(rng.uniform(0.1, 1.5))
                    pool, slot = await _launch(client)
                    answered[pool] = (slot, time.time())
                await _wait_recorded(url, launches + 1, evaluator)
            rows = await _recorded(url)
        finally:
            evaluator.terminate()
            evaluator.wait(10)
    seen = {pool: rows[pool] for pool in answered if pool in rows}
    return PoolWatchResult(
        launches=launches,
        poll_ms=poll_ms,
        slots=Distribution.of_ms([float(s - answered[p][0]) for p, (s, _, _) in seen.items()]),
        latency=Distribution.of_ms(
            [(at.timestamp() - answered[p][1]) * 1000 for p, (_, at, _) in seen.items()]
        ),
        missed=len(answered) - len(seen),
        twice=sum(1 for _, _, count in rows.values() if count > 1),
    )


async def _launch(client: httpx.AsyncClient) -> tuple[str, int]:
    body = {"jsonrpc": "2.0", "id": 1, "method": "simulator_launchPool", "params": [{}]}
    answer = (await client.post("/", json=body)).json()["result"]
    return answer["pool"], answer["slot"]


def _start_evaluator(
    url: str, simulator_url: str, scratch: Path, poll_ms: int
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url(),
        "SIMULATOR_URL": simulator_url,
        "LOG_LEVEL": "WARNING",
        "POOL_WATCH_POLL_MS": str(poll_ms),
    }
    with (scratch / "evaluator.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "orderengine", "evaluator"],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def _wait_recorded(url: str, count: int, evaluator: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while len(await _recorded(url)) < count:
        assert evaluator.poll() is None, "the evaluator exited"
        assert time.monotonic() < deadline, "the watcher did not record every launch"
        await asyncio.sleep(0.1)


async def _recorded(url: str) -> dict[str, tuple[int, datetime, int]]:
    """Per pool: the slot the watcher saw it in, when it was committed, how many times."""
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT data, recorded_at FROM events WHERE event_type = 'PoolLaunched'"
        )
        found: dict[str, tuple[int, datetime, int]] = {}
        for data, at in await cursor.fetchall():
            launch = decode_launch(msgspec.json.encode(data))
            count = found[launch.pool][2] + 1 if launch.pool in found else 1
            found[launch.pool] = (launch.seen_slot, at, count)
        return found


def show(result: PoolWatchResult) -> None:
    slots, latency = result.slots, result.latency
    print(
        f"pool watch: {result.launches} launches at 400 ms slots, polling every"
        f" {result.poll_ms} ms: detection p50 {slots.p50_ms:.0f} / p99 {slots.p99_ms:.0f} /"
        f" max {slots.max_ms:.0f} slots; {latency.p50_ms:.0f} ms p50, {latency.p99_ms:.0f} ms"
        f" p99 from the launch's answer to PoolLaunched committed; missed {result.missed},"
        f" recorded twice {result.twice}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--launches", type=int, default=40)
    parser.add_argument("--poll-ms", type=int, default=100, help="POOL_WATCH_POLL_MS")
    parser.add_argument("--seed", type=int, default=15)
    run_benchmark(parser, run, show)


if __name__ == "__main__":
    main()
