"""End-to-end benchmark of execution: orders submitted at once, until every one is final.

    python -m bench.e2e --orders 2000                      # time scale 0 only
    python -m bench.e2e --orders 2000 --ledger litesvm     # CPMM pools in the real program
    python -m bench.e2e --orders 2000 --mix cpmm           # every order through the CPMM pool
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

from bench.command import run_benchmark
from bench.e2e_result import Burst, E2eResult, InstantRun, StageEnd, StageWait
from bench.engine_runs import (
    CPMM_ORDERS,
    PAIRS,
    engine_cpu_s,
    latencies,
    log_head,
    ready,
    simulator,
    simulator_cpu_s,
    submit,
    wait_final,
)
from bench.realistic import run_realistic
from tests.support.engine import Engine, running_engine
from tests.support.servers import postgres_admin_url, redis_url
from tests.support.simulator_process import SimulatorProcess

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


async def _instant(
    engine: Engine, sim: SimulatorProcess, count: int, args: argparse.Namespace
) -> InstantRun:
    """A warm-up order, then `count` at once, and where their time went."""
    await ready(engine, args.workers)
    await submit(engine.database_url, 1)  # warm-up: connections open, code paths hot
    await engine.wait_for_final(1, args.timeout)
    after = log_head(engine.database_url)
    cpu_before, simulator_before = engine_cpu_s(engine), simulator_cpu_s(sim)
    await submit(engine.database_url, count, CPMM_ORDERS if args.mix == "cpmm" else PAIRS)
    await wait_final(engine, count + 1, args.timeout, f"{count} at once, instant venue")
    cpu_s = engine_cpu_s(engine) - cpu_before
    simulator_s = simulator_cpu_s(sim) - simulator_before
    with psycopg.connect(engine.database_url) as conn:
        stages = conn.execute(_STAGES, (after,)).fetchall()
        ends = conn.execute(_LAST, (after, after)).fetchall()
    title = f"time scale 0, {args.workers} workers x {args.threads} threads"
    if args.ledger != "math":
        title += f", CPMM pools in {args.ledger}"
    if args.mix == "cpmm":
        title += ", every order MEME->SOL on the CPMM pool"
    return InstantRun(
        workers=args.workers,
        threads=args.threads,
        stages=[StageWait(str(s), int(n), float(avg), float(p50)) for s, n, avg, p50 in stages],
        ends=[StageEnd(str(kind), int(n), float(at)) for kind, n, at in ends],
        burst=Burst.of_rows(title, latencies(engine.database_url, after)),
        engine_cpu_s=cpu_s,
        simulator_cpu_s=simulator_s,
    )


def run(args: argparse.Namespace) -> E2eResult:
    """The instant-venue burst, then (with `--realistic N`) the 400 ms slot run."""
    common = {"WORKER_THREADS": str(args.threads), "LOG_LEVEL": "WARNING", "INFLIGHT_LIMIT": "0"}
    settings = {**common, "POLL_INTERVAL_MS": "0", "DISPATCH_POLL_MS": "10"}
    with (
        simulator(0.0, ledger=args.ledger) as sim,
        running_engine(
            postgres_admin_url(), redis_url(), sim.url, workers=args.workers, settings=settings
        ) as engine,
    ):
        instant = asyncio.run(_instant(engine, sim, args.orders, args))
    realistic = run_realistic(args, common) if args.realistic else None
    return E2eResult(instant, realistic)


def show(result: E2eResult) -> None:
    print("\n".join(result.lines()), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=1000, help="orders at time scale 0")
    parser.add_argument("--realistic", type=int, default=0, help="orders at 400 ms slots (0: skip)")
    parser.add_argument(
        "--ledger",
        choices=["math", "litesvm"],
        default="math",
        help="where the simulator's CPMM pools execute (SIMULATOR_LEDGER; instant run only)",
    )
    parser.add_argument(
        "--mix",
        choices=["pairs", "cpmm"],
        default="pairs",
        help="the burst's orders: the benchmarks' three pairs, or about 10,000 MEME->SOL"
        " each, no two alike (routed through the Raydium CPMM pool; instant run only)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--singles", type=int, default=21, help="orders alone, one at a time")
    parser.add_argument("--rounds", type=int, default=3, help="bursts of --realistic orders")
    run_benchmark(parser, run, show)


if __name__ == "__main__":
    main()
