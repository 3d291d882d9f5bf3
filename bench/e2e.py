"""End-to-end benchmark of execution: orders submitted at once, until every one is final.

    python -m bench.e2e --orders 2000                      # time scale 0 only
    python -m bench.e2e --orders 2000 --realistic 1000     # and 1,000 at 400 ms slots

Runs a dispatcher, `--workers` worker processes and the simulator as real processes
on this run's own database (local PostgreSQL) and broker namespace (local Redis).
Orders go straight into the event store (the API's cost is measured elsewhere), and
latency is submit-to-final from the events' own commit timestamps.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import redis

from commands.submit_order import submit_order
from db.event_store import PostgresEventStore
from db.pool import create_pool
from domain.commands import SubmitOrder
from tests.support.engine import Engine, running_engine
from tests.support.servers import postgres_admin_url, redis_url

PAIRS = [("SOL", "USDC", 10**9), ("USDC", "SOL", 150 * 10**6), ("JUP", "USDC", 50 * 10**6)]
_LATENCIES = """
SELECT extract(epoch FROM f.recorded_at - s.recorded_at), extract(epoch FROM s.recorded_at),
       extract(epoch FROM f.recorded_at), f.event_type
FROM events s JOIN events f ON f.stream_id = s.stream_id
WHERE s.event_type = 'OrderSubmitted' AND f.event_type IN ('OrderConfirmed', 'OrderFailed')
  AND s.global_position > %s
"""

# Where an order's time goes: the wait between each event and the one before it.
_STAGES = """
WITH e AS (
  SELECT event_type, recorded_at,
         lag(recorded_at) OVER (PARTITION BY stream_id ORDER BY stream_version) AS prev,
         lag(event_type) OVER (PARTITION BY stream_id ORDER BY stream_version) AS prev_type
  FROM events WHERE stream_id IN (
    SELECT stream_id FROM events WHERE event_type = 'OrderSubmitted' AND global_position > %s))
SELECT prev_type || ' -> ' || event_type, count(*),
  round(avg(extract(epoch FROM recorded_at - prev))::numeric * 1000, 1),
  round((percentile_cont(0.5) WITHIN GROUP (
      ORDER BY extract(epoch FROM recorded_at - prev)))::numeric * 1000, 1)
FROM e WHERE prev IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1
"""

# When the last of each event was recorded, from the first submission: how long the
# burst takes to get through each stage.
_LAST = """
SELECT event_type, count(*), round(extract(epoch FROM max(recorded_at) - (
    SELECT min(recorded_at) FROM events
    WHERE event_type = 'OrderSubmitted' AND global_position > %s))::numeric * 1000)
FROM events WHERE global_position > %s GROUP BY 1 ORDER BY 3
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def simulator(time_scale: float) -> Iterator[str]:
    port = free_port()
    argv = ["--port", str(port), "--seed", "1", "--time-scale", str(time_scale)]
    process = subprocess.Popen(
        [sys.executable, "-m", "orderengine", "simulator", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


async def submit(database_url: str, count: int) -> None:
    pool = create_pool(database_url, min_size=4, max_size=16, acquire_timeout_s=30)
    await pool.open(wait=True)
    store = PostgresEventStore(pool)
    commands = [
        SubmitOrder(
            order_id=str(uuid.uuid4()),
            order_type="market",
            token_in=PAIRS[i % len(PAIRS)][0],
            token_out=PAIRS[i % len(PAIRS)][1],
            amount_in=PAIRS[i % len(PAIRS)][2],
            slippage_bps=100,
        )
        for i in range(count)
    ]
    await asyncio.gather(*(submit_order(store, command, None) for command in commands))
    await pool.close()


async def run(
    engine: Engine, count: int, timeout_s: float, workers: int
) -> list[tuple[float, float, float, str]]:
    await ready(engine, workers)
    await submit(engine.database_url, 1)  # warm-up: connections open, code paths hot
    await engine.wait_for_final(1, timeout_s)
    with psycopg.connect(engine.database_url) as conn:
        started = conn.execute("SELECT coalesce(max(global_position), 0) FROM events").fetchone()
    await submit(engine.database_url, count)
    await engine.wait_for_final(count + 1, timeout_s)
    with psycopg.connect(engine.database_url) as conn:
        after = started[0] if started else 0
        rows = conn.execute(_LATENCIES, (after,)).fetchall()
        for stage, count, avg_ms, p50_ms in conn.execute(_STAGES, (after,)).fetchall():
            print(f"  {stage:<42} {count:>6} avg {avg_ms:>8} ms  p50 {p50_ms:>8} ms")
        for kind, count, last_ms in conn.execute(_LAST, (after, after)).fetchall():
            print(f"  last {kind:<37} {count:>6} at +{last_ms} ms")
    return [(float(a), float(b), float(c), str(d)) for a, b, c, d in rows]


async def ready(engine: Engine, workers: int, timeout_s: float = 60) -> None:
    """Until every worker process consumes (Dramatiq's heartbeats in Redis)."""
    client = redis.Redis.from_url(engine.redis_url)
    deadline = time.monotonic() + timeout_s
    try:
        while client.zcard(f"{engine.namespace}:__heartbeats__") < workers:
            if time.monotonic() > deadline:
                raise TimeoutError(f"workers not consuming after {timeout_s} s")
            await asyncio.sleep(0.1)
    finally:
        client.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(title: str, rows: list[tuple[float, float, float, str]]) -> float:
    latencies = [row[0] for row in rows]
    span = max(row[2] for row in rows) - min(row[1] for row in rows)
    confirmed = sum(1 for row in rows if row[3] == "OrderConfirmed")
    print(
        f"{title}: {len(rows)} orders ({confirmed} confirmed) final in {span:.2f} s"
        f" = {len(rows) / span:.0f} orders/s; submit-to-final"
        f" p50 {1000 * percentile(latencies, 0.5):.0f} ms,"
        f" p99 {1000 * percentile(latencies, 0.99):.0f} ms, max {1000 * max(latencies):.0f} ms"
    )
    return span


def scenario(
    args: argparse.Namespace, time_scale: float, count: int, settings: dict[str, str]
) -> list[tuple[float, float, float, str]]:
    with (
        simulator(time_scale) as url,
        running_engine(
            postgres_admin_url(), redis_url(), url, workers=args.workers, settings=settings
        ) as engine,
    ):
        return asyncio.run(run(engine, count, args.timeout, args.workers))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=1000, help="orders at time scale 0")
    parser.add_argument("--realistic", type=int, default=0, help="orders at 400 ms slots (0: skip)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    common = {"WORKER_THREADS": str(args.threads), "LOG_LEVEL": "WARNING", "INFLIGHT_LIMIT": "0"}
    instant = {**common, "POLL_INTERVAL_MS": "0", "DISPATCH_POLL_MS": "10"}
    rows = scenario(args, 0.0, args.orders, instant)
    report(f"time scale 0, {args.workers} workers x {args.threads} threads", rows)
    if args.realistic:
        slots = {**common, "POLL_INTERVAL_MS": "200"}
        alone = scenario(args, 1.0, 1, slots)
        single = alone[0][0]
        print(f"400 ms slots, one order alone: {1000 * single:.0f} ms")
        rows = scenario(args, 1.0, args.realistic, slots)
        span = report(f"400 ms slots, {args.realistic} at once", rows)
        print(f"all final after {span:.2f} s = {span / single:.2f} x a single order's latency")


if __name__ == "__main__":
    main()
