"""End-to-end benchmark of execution: orders submitted at once, until every one is final.

    python -m bench.e2e --orders 2000                      # time scale 0 only
    python -m bench.e2e --orders 2000 --realistic 1000     # and 1,000 at 400 ms slots

The realistic run (bench.realistic) sets each burst against the median of
`--singles` orders submitted alone, and measures the same for the chain alone
(bench.chain_alone): how much of the ratio is the chain's and how much the engine's.

Runs a dispatcher, `--workers` worker processes and the simulator as real processes
on this run's own database (local PostgreSQL) and broker namespace (local Redis).
Orders go straight into the event store (the API's cost is measured elsewhere), and
latency is submit-to-final from the events' own commit timestamps.
"""

from __future__ import annotations

import argparse
import asyncio

import psycopg

from bench.engine_runs import Latency, latencies, log_head, ready, report, simulator, submit
from bench.realistic import run_realistic
from tests.support.engine import Engine, running_engine
from tests.support.servers import postgres_admin_url, redis_url

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


async def run(engine: Engine, count: int, timeout_s: float, workers: int) -> list[Latency]:
    """A warm-up order, then `count` at once; prints where their time went."""
    await ready(engine, workers)
    await submit(engine.database_url, 1)  # warm-up: connections open, code paths hot
    await engine.wait_for_final(1, timeout_s)
    after = log_head(engine.database_url)
    await submit(engine.database_url, count)
    await engine.wait_for_final(count + 1, timeout_s)
    with psycopg.connect(engine.database_url) as conn:
        for stage, count, avg_ms, p50_ms in conn.execute(_STAGES, (after,)).fetchall():
            print(f"  {stage:<42} {count:>6} avg {avg_ms:>8} ms  p50 {p50_ms:>8} ms")
        for kind, count, last_ms in conn.execute(_LAST, (after, after)).fetchall():
            print(f"  last {kind:<37} {count:>6} at +{last_ms} ms")
    return latencies(engine.database_url, after)


def scenario(args: argparse.Namespace, count: int, settings: dict[str, str]) -> None:
    with (
        simulator(0.0) as url,
        running_engine(
            postgres_admin_url(), redis_url(), url, workers=args.workers, settings=settings
        ) as engine,
    ):
        rows = asyncio.run(run(engine, count, args.timeout, args.workers))
    report(f"time scale 0, {args.workers} workers x {args.threads} threads", rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=1000, help="orders at time scale 0")
    parser.add_argument("--realistic", type=int, default=0, help="orders at 400 ms slots (0: skip)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--singles", type=int, default=21, help="orders alone, one at a time")
    parser.add_argument("--rounds", type=int, default=3, help="bursts of --realistic orders")
    args = parser.parse_args()
    common = {"WORKER_THREADS": str(args.threads), "LOG_LEVEL": "WARNING", "INFLIGHT_LIMIT": "0"}
    scenario(args, args.orders, {**common, "POLL_INTERVAL_MS": "0", "DISPATCH_POLL_MS": "10"})
    if args.realistic:
        run_realistic(args, common)


if __name__ == "__main__":
    main()
