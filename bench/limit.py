"""Limit-order trigger benchmark (issue 14): N armed limit orders over the three pairs
and both directions, the price moving every slot at 400 ms slots; the trigger latency
(the first slot whose quote crosses -> `TriggerFired` committed), the evaluator's CPU
and RSS, and the orders fired, missed and fired twice.

    .venv/bin/python -m bench.limit --orders 1000,10000,100000

Per size: a scratch database, the simulator as its own process on a wall clock, the
orders COPYed into the log (submitted and armed; limits 0.2-10 % above the market
now, so a moving market crosses some every slot), and `orderengine evaluator` as its
own process, as in production. Nothing routes the fired orders (no dispatcher), so a
fire is the last event of its order. An observer polls the quote service every
40 ms for every (direction, amount) the orders use, so it knows each slot's exact
single-pool output for each order, and moves each pair's reference price by
`--move-bps` a slot (up for the first half of the slots, down for the second).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import math
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
from psycopg import AsyncConnection

from bench.command import run_benchmark
from bench.limit_observer import Observer, cpu_seconds
from bench.limit_result import SLOT_MS, LimitResult, LimitRun
from bench.measures import Distribution
from bench.replay_rate import _copy as copy_events
from db.migrate import migrate
from domain.events import (
    OrderArmed,
    OrderEvent,
    OrderSubmitted,
    TriggerFired,
    encode_event_data,
)
from domain.tokens import token_by_symbol
from tests.support.servers import PROJECT_ROOT, fresh_database, postgres_admin_url, redis_url
from tests.support.simulator_process import simulator_process

# (token in, token out, amounts in token units): small against the pools, so the
# whole-amount quote is near the pool's price and moves with it.
DIRECTIONS: list[tuple[str, str, list[str]]] = [
    ("SOL", "USDC", ["0.5", "1", "2", "5"]),
    ("USDC", "SOL", ["50", "150", "500", "1500"]),
    ("MEME", "SOL", ["20000", "50000", "100000", "250000"]),
    ("SOL", "MEME", ["0.1", "0.2", "0.5", "1"]),
    ("JUP", "USDC", ["10", "50", "100", "500"]),
    ("USDC", "JUP", ["10", "50", "100", "500"]),
]
PAIR_OF = {("SOL", "USDC"): "SOL/USDC", ("MEME", "SOL"): "MEME/SOL", ("JUP", "USDC"): "JUP/USDC"}
COPY_ROWS = 20_000


class Order(msgspec.Struct, frozen=True):
    order_id: str
    key: tuple[str, str, int]  # direction and atomic amount
    limit: int


def run(args: argparse.Namespace) -> LimitResult:
    sizes = [int(size) for size in args.orders.split(",")]
    runs = []
    for size in sizes:
        runs.append(asyncio.run(_one(size, args.slots, args.move_bps, args.seed)))
        show(LimitResult(args.move_bps, runs[-1:]))  # each size as it ends: a long run
    return LimitResult(args.move_bps, runs)


async def _one(count: int, slots: int, move_bps: int, seed: int) -> LimitRun:
    scratch = Path(tempfile.mkdtemp(prefix="oe-bench-limit-"))
    admin = os.environ.get("DATABASE_URL") or postgres_admin_url()
    with (
        fresh_database(admin, prefix="oe_bench_limit") as url,
        simulator_process(scratch, seed, time_scale=1.0, journaled=False) as simulator,
    ):
        migrate(url)
        observer = Observer(simulator.url, _keys())
        await observer.look()
        orders = _orders(count, observer, random.Random(seed))
        started = time.monotonic()
        await _copy_orders(url, orders)
        evaluator = _start_evaluator(url, simulator.url, scratch)
        ready = asyncio.Event()
        try:
            # Every slot is observed from the evaluator's start (the market's noise may
            # cross a limit before all are armed); the price moves once they are.
            watching = asyncio.create_task(
                observer.watch(slots, move_bps, PAIR_OF, evaluator.pid, ready)
            )
            await _wait_armed(url, count, evaluator)
            arm_seconds = time.monotonic() - started
            cpu_before, measured_from = cpu_seconds(evaluator.pid), time.monotonic()
            ready.set()
            peak = await watching
            cpu = cpu_seconds(evaluator.pid) - cpu_before
            elapsed = time.monotonic() - measured_from
        finally:
            evaluator.terminate()
            try:
                evaluator.wait(60)
            except subprocess.TimeoutExpired:
                evaluator.kill()
                evaluator.wait()
        fires = await _fires(url)
        await observer.close()
    return _analyse(orders, observer, fires, slots, arm_seconds, cpu, elapsed, peak)


def _keys() -> list[tuple[str, str, int]]:
    keys = []
    for token_in, token_out, amounts in DIRECTIONS:
        decimals = token_by_symbol(token_in).decimals
        keys += [(token_in, token_out, int(float(a) * 10**decimals)) for a in amounts]
    return keys


def _orders(count: int, observer: Observer, rng: random.Random) -> list[Order]:
    keys = _keys()
    first = min(observer.outs)
    orders = []
    for index in range(count):
        key = keys[index % len(keys)]
        market = observer.outs[first][key]
        limit = math.ceil(market * (1 + rng.uniform(0.002, 0.10)))
        orders.append(Order(str(uuid.uuid4()), key, limit))
    return orders


async def _copy_orders(url: str, orders: list[Order]) -> None:
    expires = datetime.now(UTC) + timedelta(days=1)
    rows = []
    for order in orders:
        token_in, token_out, amount = order.key
        submitted = OrderSubmitted(
            order_id=order.order_id,
            order_type="limit",
            token_in=token_in,
            token_out=token_out,
            amount_in=amount,
            slippage_bps=0,
            limit_amount_out=order.limit,
            expires_at=expires,
        )
        stream = f"order-{order.order_id}"
        events: tuple[OrderEvent, ...] = (submitted, OrderArmed(generation=1))
        for version, event in enumerate(events, start=1):
            data = encode_event_data(event).decode()
            rows.append((stream, version, str(uuid.uuid4()), type(event).__name__, data, "{}"))
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        for start in range(0, len(rows), COPY_ROWS):
            await copy_events(conn, rows[start : start + COPY_ROWS])


def _start_evaluator(url: str, simulator_url: str, scratch: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url(),
        "SIMULATOR_URL": simulator_url,
        "LOG_LEVEL": "WARNING",
    }
    with (scratch / "evaluator.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "orderengine", "evaluator"],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def _wait_armed(url: str, count: int, evaluator: subprocess.Popen[bytes]) -> None:
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        while True:
            assert evaluator.poll() is None, "the evaluator exited"
            # Armed or already fired: the evaluator's table holds every order.
            cursor = await conn.execute("SELECT count(*) FROM armed_orders")
            row = await cursor.fetchone()
            if row and row[0] >= count:
                return
            await asyncio.sleep(0.2)


async def _fires(url: str) -> list[tuple[str, TriggerFired, datetime]]:
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT stream_id, data::text, recorded_at FROM events"
            " WHERE event_type = 'TriggerFired'"
        )
        rows = await cursor.fetchall()
    return [
        (stream[len("order-") :], msgspec.json.decode(data, type=TriggerFired), at)
        for stream, data, at in rows
    ]


def _analyse(
    orders: list[Order],
    observer: Observer,
    fires: list[tuple[str, TriggerFired, datetime]],
    slots: int,
    arm_seconds: float,
    cpu: float,
    elapsed: float,
    peak_rss: float,
) -> LimitRun:
    observed = sorted(observer.outs)
    seen_at = [observer.seen_at[slot] for slot in observed]
    fired_at: dict[str, list[datetime]] = {}
    fired_slot: dict[str, int] = {}
    for order_id, fired, at in fires:
        fired_at.setdefault(order_id, []).append(at)
        fired_slot[order_id] = fired.slot
    crossed = held = missed = unobserved = 0
    latency_ms: list[float] = []
    latency_slots: list[float] = []
    quote_lag: list[float] = []
    for order in orders:
        # Only from the first measured slot: before it the evaluator was still arming.
        met = [
            slot >= observer.ready_slot and observer.outs[slot].get(order.key, 0) >= order.limit
            for slot in observed
        ]
        first = next((i for i, ok in enumerate(met) if ok), None)
        three = any(
            met[i] and met[i + 1] and met[i + 2] and observed[i + 2] - observed[i] == 2
            for i in range(len(met) - 2)
        )
        crossed += first is not None
        held += three
        times = fired_at.get(order.order_id)
        if times is None:
            missed += three
            continue
        if first is None:
            unobserved += 1  # fired before measuring began, or on a split the observer misses
            continue
        at = min(times)
        latency_ms.append(max(0.0, (at - seen_at[first]).total_seconds() * 1000))
        now_slot = bisect.bisect_right(seen_at, at) - 1
        latency_slots.append(float(max(0, observed[max(now_slot, first)] - observed[first])))
        quote_lag.append(float(fired_slot[order.order_id] - observed[first]))
    return LimitRun(
        orders=len(orders),
        arm_seconds=round(arm_seconds, 1),
        slots=slots,
        crossed=crossed,
        held_three=held,
        fired=len(fired_at),
        fired_twice=sum(len(times) > 1 for times in fired_at.values()),
        missed=missed,
        fired_unobserved=unobserved,
        latency_ms=Distribution.of_ms(latency_ms),
        latency_slots=Distribution.of_ms(latency_slots),
        quote_lag_slots=Distribution.of_ms(quote_lag),
        cpu_percent=round(100 * cpu / elapsed, 1),
        cpu_ms_per_slot=round(1000 * cpu / max(1, slots), 1),
        rss_mib=round(peak_rss, 1),
        quoted=-1,
    )


def show(result: LimitResult) -> None:
    print(f"limit orders, price moving {result.move_bps} bps a slot, {SLOT_MS} ms slots")
    for run in result.runs:
        print(
            f"{run.orders:>7,} armed ({run.arm_seconds:.0f} s to arm): {run.slots} slots;"
            f" crossed {run.crossed:,}, held 3 slots {run.held_three:,};"
            f" fired {run.fired:,}, missed {run.missed}, fired twice {run.fired_twice},"
            f" fired without an observed crossing {run.fired_unobserved}"
        )
        print(
            f"        trigger latency p50 {run.latency_slots.p50_ms:.0f} slots"
            f" / {run.latency_ms.p50_ms:.0f} ms, p99 {run.latency_slots.p99_ms:.0f} slots"
            f" / {run.latency_ms.p99_ms:.0f} ms (max {run.latency_ms.max_ms:.0f} ms);"
            f" evaluator {run.cpu_percent:.1f} % of a core, {run.cpu_ms_per_slot:.1f} ms CPU"
            f" a slot, RSS {run.rss_mib:.0f} MiB"
        )
        lag = run.quote_lag_slots
        print(
            f"        the quote that fired came {lag.p50_ms:.0f} slots (p50) / {lag.p99_ms:.0f}"
            f" (p99) after the first crossing slot"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", default="1000,10000,100000", help="sizes, comma-separated")
    parser.add_argument("--slots", type=int, default=60, help="slots measured per size")
    parser.add_argument("--move-bps", type=int, default=3, help="reference move a slot")
    parser.add_argument("--seed", type=int, default=14)
    run_benchmark(parser, run, show)


if __name__ == "__main__":
    main()
