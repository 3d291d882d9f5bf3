"""The dashboard keeping up (issue 17): one page in Chromium lists and follows `--rows`
orders while the lifecycles of `--orders` orders are committed; prints p50/p99 from an
event's commit to its row updating on the page, and the page's JavaScript heap.

    .venv/bin/python -m bench.dashboard --orders 1000 --rows 200 --rate 1000

It creates a scratch database, starts `orderengine api` and `orderengine projector` on
it, appends every order's `OrderSubmitted`, opens `/?rows=N` in Chromium (Debian's,
`apt-get install chromium`) and waits until the page follows its N newest orders over
their streams (replay done, `live`). Then it appends the rest of every lifecycle
(routing .. confirmed, 5 events an order) at `--rate` events/s through the store with its
Redis wake-up, as `bench.ws_fanout` does. Commit time is taken in this process when the
append returns; the row's update time in the page (`Date.now()` when the row has been
re-rendered), both on this machine's clock. The heap is Chromium's `JSHeapUsedSize`
before the drive and after a garbage collection at the end; `--repeat` runs the drive
again on fresh orders, to see whether it grows.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec
import redis.asyncio as aioredis
from playwright.async_api import CDPSession, Page, async_playwright

from bench.command import run_benchmark
from bench.measures import Distribution
from bench.ws_fanout import Key, _drive, _order_id
from db.event_store import PostgresEventStore
from db.migrate import migrate
from db.pool import create_pool
from db.wakeups import CommitNudger
from domain.streams import order_stream
from tests.support.order_histories import as_new_events, confirmed_history
from tests.support.servers import (
    free_port,
    fresh_database,
    postgres_admin_url,
    redis_url,
    wait_ready_async,
)

READY_S = 180.0
# Every order of `ids` has a row and the page follows that many streams live.
FOLLOWING = """(ids) =>
  ids.every((id) => document.querySelector(`tr[data-order-id="${id}"]`) !== null) &&
  Number(document.querySelector("#orders-table").dataset.liveStreams) >= ids.length"""
COLLECT = """() => {
  window.rowUpdates = [];
  document.addEventListener("order-row-updated", (e) => window.rowUpdates.push(
    [e.detail.orderId, e.detail.version, e.detail.at]));
}"""


class RoundResult(msgspec.Struct, frozen=True):
    orders: int
    events_committed: int  # for the rows the page follows
    rows_updated: int
    append_seconds: float
    latency: Distribution
    heap_mib: float  # after this round, after a garbage collection


class DashboardResult(msgspec.Struct, frozen=True):
    orders: int
    rows: int
    rate: int
    heap_before_mib: float
    rounds: list[RoundResult]

    def lines(self) -> list[str]:
        out = [
            f"dashboard: {self.orders} orders a round, the page following {self.rows}, "
            f"{self.rate} events/s; heap before {self.heap_before_mib:.1f} MiB"
        ]
        for number, r in enumerate(self.rounds, 1):
            out.append(
                f"  round {number}: {r.rows_updated} of {r.events_committed} row updates seen, "
                f"commit -> row p50 {r.latency.p50_ms:.1f} ms, p99 {r.latency.p99_ms:.1f} ms, "
                f"max {r.latency.max_ms:.1f} ms; appended in {r.append_seconds:.1f} s; "
                f"heap {r.heap_mib:.1f} MiB"
            )
        return out


def run(args: argparse.Namespace) -> DashboardResult:
    admin = os.environ.get("DATABASE_URL") or postgres_admin_url()
    with fresh_database(admin, prefix="oe_bench_dash") as url:
        migrate(url)
        return asyncio.run(_benchmark(url, os.environ.get("REDIS_URL") or redis_url(), args))


def show(result: DashboardResult) -> None:
    print("\n".join(result.lines()), flush=True)


async def _benchmark(database_url: str, redis: str, args: argparse.Namespace) -> DashboardResult:
    chromium = args.chromium or shutil.which("chromium")
    if not chromium:
        raise SystemExit("bench.dashboard needs Chromium: apt-get install -y chromium")
    port = free_port()
    logs = Path(tempfile.mkdtemp(prefix="oe-bench-dashboard-"))
    print(f"bench.dashboard: process logs in {logs}", flush=True)
    api = _start(database_url, redis, logs / "api.log", "api", "--port", str(port))
    projector = _start(database_url, redis, logs / "projector.log", "projector")
    pool = create_pool(database_url, min_size=4, max_size=16, acquire_timeout_s=10)
    redis_client = aioredis.Redis.from_url(redis)
    try:
        await wait_ready_async(f"http://127.0.0.1:{port}", READY_S)
        await pool.open(wait=True)
        store = PostgresEventStore(pool, on_commit=CommitNudger(redis_client).nudge)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=chromium, args=["--no-sandbox"]
            )
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            cdp = await page.context.new_cdp_session(page)
            await page.goto(f"http://127.0.0.1:{port}/?rows={args.rows}")
            await page.wait_for_selector("body[data-ready=true]")
            await page.evaluate(COLLECT)
            heap_before = await _heap_mib(cdp)
            rounds = [await _round(page, cdp, store, args) for _ in range(args.repeat)]
            await browser.close()
        return DashboardResult(args.orders, args.rows, args.rate, heap_before, rounds)
    finally:
        await redis_client.aclose()
        await pool.close()
        for process in (api, projector):
            process.terminate()
            process.wait(10)


async def _round(
    page: Page, cdp: CDPSession, store: PostgresEventStore, args: argparse.Namespace
) -> RoundResult:
    histories = [confirmed_history() for _ in range(args.orders)]
    for history in histories:
        await store.append(order_stream(_order_id(history)), 0, as_new_events(history[:1]))
    shown = {_order_id(h) for h in histories[-args.rows :]}  # the newest, as the list shows
    await page.wait_for_function(FOLLOWING, arg=sorted(shown), timeout=READY_S * 1000)
    await page.evaluate("() => { window.rowUpdates = []; }")
    offset = time.time() - time.perf_counter()
    started = time.perf_counter()
    committed = await _drive(store, histories, args.rate)
    append_seconds = time.perf_counter() - started
    await page.wait_for_function(
        "(n) => document.querySelectorAll('#orders-table tr[data-status=confirmed]').length >= n",
        arg=args.rows,
        timeout=READY_S * 1000,
    )
    updates: list[list[object]] = await page.evaluate("() => window.rowUpdates")
    latencies = _latencies(committed, offset, shown, updates)
    await cdp.send("HeapProfiler.collectGarbage")
    expected = sum(1 for order_id, _ in committed if order_id in shown)
    return RoundResult(
        orders=args.orders,
        events_committed=expected,
        rows_updated=len(latencies),
        append_seconds=append_seconds,
        latency=Distribution.of_ms(latencies),
        heap_mib=await _heap_mib(cdp),
    )


def _latencies(
    committed: dict[Key, float], offset: float, shown: set[str], updates: list[list[object]]
) -> list[float]:
    seen: dict[Key, float] = {}
    for order_id, version, at in updates:
        key = (str(order_id), int(str(version)))
        seen.setdefault(key, float(str(at)) / 1000)
    return [
        max(0.0, seen[key] - (committed[key] + offset)) * 1000
        for key in committed
        if key[0] in shown and key in seen
    ]


async def _heap_mib(cdp: CDPSession) -> float:
    await cdp.send("Performance.enable")
    metrics = (await cdp.send("Performance.getMetrics"))["metrics"]
    used = next(m["value"] for m in metrics if m["name"] == "JSHeapUsedSize")
    return float(used) / 2**20


def _start(database_url: str, redis: str, log: Path, *command: str) -> subprocess.Popen[bytes]:
    """An `orderengine` process, its output in `log` (the page's price polls find no
    simulator here, and the API says so at every poll)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis,
        "API_PROCESSES": "1",
        "LOG_LEVEL": "WARNING",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "orderengine", *command], env=env, stdout=out, stderr=out
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=1_000, help="orders committed a round")
    parser.add_argument("--rows", type=int, default=200, help="rows the page shows and follows")
    parser.add_argument("--rate", type=int, default=1_000, help="events appended per second")
    parser.add_argument("--repeat", type=int, default=2, help="rounds, fresh orders each")
    parser.add_argument("--chromium", help="the browser (default: chromium on PATH)")
    run_benchmark(parser, run, show)


if __name__ == "__main__":
    main()
