"""What the end-to-end benchmarks share: a simulator process, orders straight into the
event store, waiting for the workers, and reading latencies back from the log."""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import redis

from commands.submit_order import submit_order
from db.event_store import PostgresEventStore
from db.pool import create_pool
from domain.commands import SubmitOrder
from tests.support.engine import Engine
from tests.support.simulator_process import simulator_process

PAIRS = [("SOL", "USDC", 10**9), ("USDC", "SOL", 150 * 10**6), ("JUP", "USDC", 50 * 10**6)]

# (submit-to-final seconds, submitted at, final at, final event type) per order
# submitted after a global position.
_LATENCIES = """
SELECT extract(epoch FROM f.recorded_at - s.recorded_at), extract(epoch FROM s.recorded_at),
       extract(epoch FROM f.recorded_at), f.event_type
FROM events s JOIN events f ON f.stream_id = s.stream_id
WHERE s.event_type = 'OrderSubmitted' AND f.event_type IN ('OrderConfirmed', 'OrderFailed')
  AND s.global_position > %s
"""

Latency = tuple[float, float, float, str]


@contextmanager
def simulator(time_scale: float, seed: int = 1) -> Iterator[str]:
    """The simulator as its own process, its chain in memory (a benchmark's chain is
    thrown away); yields its URL."""
    with (
        tempfile.TemporaryDirectory(prefix="oe-bench-sim-") as scratch,
        simulator_process(Path(scratch), seed, time_scale=time_scale, journaled=False) as sim,
    ):
        yield sim.url


async def submit(database_url: str, count: int) -> None:
    """`count` market orders at once, cycling through PAIRS, straight into the store."""
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


def log_head(database_url: str) -> int:
    """The newest global position: orders submitted after it are the next run's."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT coalesce(max(global_position), 0) FROM events").fetchone()
    return int(row[0]) if row else 0


def latencies(database_url: str, after: int) -> list[Latency]:
    """Every order submitted after global position `after` that is final."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(_LATENCIES, (after,)).fetchall()
    return [(float(a), float(b), float(c), str(d)) for a, b, c, d in rows]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(title: str, rows: list[Latency]) -> float:
    """Print a run's throughput and latency; returns the span, first submit to last final."""
    submit_to_final = [row[0] for row in rows]
    span = max(row[2] for row in rows) - min(row[1] for row in rows)
    confirmed = sum(1 for row in rows if row[3] == "OrderConfirmed")
    print(
        f"{title}: {len(rows)} orders ({confirmed} confirmed) final in {span:.2f} s"
        f" = {len(rows) / span:.0f} orders/s; submit-to-final"
        f" p50 {1000 * percentile(submit_to_final, 0.5):.0f} ms,"
        f" p99 {1000 * percentile(submit_to_final, 0.99):.0f} ms,"
        f" max {1000 * max(submit_to_final):.0f} ms",
        flush=True,
    )
    return span
