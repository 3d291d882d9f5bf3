"""The dashboard keeping up (issue 17): one page in Chromium lists and follows `--rows`
orders while the lifecycles of `--orders` orders are committed, round after round for
`--minutes`; prints p50/p99 from an event's commit to its row updating on the page, and
the page's JavaScript heap sampled every `--sample-s` seconds (first, last, max, growth).

    .venv/bin/python -m bench.dashboard --orders 1000 --rows 200 --rate 1000 --minutes 10

It creates a scratch database, starts `orderengine api` and `orderengine projector` on
it, makes an admin key (the page is signed in with it, as a user who typed it: the key
in the tab's sessionStorage), appends every order's `OrderSubmitted`, opens `/?rows=N`
in Chromium (Debian's, `apt-get install chromium`) and waits until the page follows its
N newest orders over their streams (replay done, `live`). Then it appends the rest of
every lifecycle (routing .. confirmed, 5 events an order) at `--rate` events/s through
the store with its Redis wake-up, as `bench.ws_fanout` does, and starts a round of fresh
orders again until the minutes are up (at least one round). Commit time is taken in this
process when the append returns; the row's update time in the page (`Date.now()` once
the row has been re-rendered), both on this machine's clock. The heap is Chromium's
`JSHeapUsedSize` after a garbage collection (CDP `HeapProfiler.collectGarbage`), sampled
from when the page first follows its rows (its working size) to the end; growth is
(last - first) / first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
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
from tests.support.api_keys import TEST_SECRET, make_key
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
# The key as the page keeps it once a user typed it (api.js, this tab's sessionStorage).
SIGN_IN = "sessionStorage.setItem('orderengine.apiKey', {key});"
COLLECT = """() => {
  window.rowUpdates = [];
  document.addEventListener("order-row-updated", (e) => window.rowUpdates.push(
    [e.detail.orderId, e.detail.version, e.detail.at]));
  window.longTasks = [];  // [wall ms at start, duration ms] of main-thread tasks > 50 ms
  new PerformanceObserver((list) => {
    for (const task of list.getEntries()) {
      window.longTasks.push([performance.timeOrigin + task.startTime, task.duration]);
    }
  }).observe({ type: "longtask" });
}"""


class RoundProfile(msgspec.Struct, frozen=True):
    """Where a round's commit -> row time went (`--profile`), on `--observe` of the orders
    the page follows: commit -> the same event at a plain WebSocket client in a process of
    its own (`bench.stream_observer`: the API's fan-out and the wire), beside commit -> row
    for the same events (the page adds its main thread: queueing, parsing, rendering); and
    the page's long tasks (Performance API `longtask`, > 50 ms) during the drive."""

    to_client: Distribution
    to_row: Distribution
    long_tasks: int
    long_task_ms: float
    longest_task_ms: float

    def line(self) -> str:
        return (
            f"    same events: commit -> outside client p50 {self.to_client.p50_ms:.1f} / p99 "
            f"{self.to_client.p99_ms:.1f} ms, commit -> row p50 {self.to_row.p50_ms:.1f} / "
            f"p99 {self.to_row.p99_ms:.1f} ms; {self.long_tasks} long tasks, "
            f"{self.long_task_ms:.0f} ms in all, longest {self.longest_task_ms:.0f} ms"
        )


class RoundResult(msgspec.Struct, frozen=True):
    orders: int
    events_committed: int  # for the rows the page follows
    rows_updated: int
    append_seconds: float
    latency: Distribution
    profile: RoundProfile | None = None


class HeapSample(msgspec.Struct, frozen=True):
    at_s: float  # since the page first followed its rows (the first round's)
    mib: float  # after a garbage collection


class DashboardResult(msgspec.Struct, frozen=True):
    orders: int
    rows: int
    rate: int
    minutes: float
    rounds: list[RoundResult]
    latency: Distribution  # every round's updates together
    heap: list[HeapSample]

    def heap_growth_pct(self) -> float:
        if not self.heap or self.heap[0].mib <= 0:
            return float("nan")
        return (self.heap[-1].mib - self.heap[0].mib) / self.heap[0].mib * 100

    def lines(self) -> list[str]:
        out = [
            f"dashboard: {self.orders} orders a round, the page following {self.rows}, "
            f"{self.rate} events/s, {len(self.rounds)} rounds in {self.minutes:g} min"
        ]
        for number, r in enumerate(self.rounds, 1):
            out.append(
                f"  round {number}: {r.rows_updated} of {r.events_committed} row updates seen, "
                f"commit -> row p50 {r.latency.p50_ms:.1f} ms, p99 {r.latency.p99_ms:.1f} ms, "
                f"max {r.latency.max_ms:.1f} ms; appended in {r.append_seconds:.1f} s"
            )
            if r.profile is not None:
                out.append(r.profile.line())
        seen = sum(r.rows_updated for r in self.rounds)
        expected = sum(r.events_committed for r in self.rounds)
        p99s = sorted(r.latency.p99_ms for r in self.rounds)
        out.append(
            f"  all rounds: {seen} of {expected} row updates seen, commit -> row "
            f"p50 {self.latency.p50_ms:.1f} ms, p99 {self.latency.p99_ms:.1f} ms, "
            f"max {self.latency.max_ms:.1f} ms; median of the rounds' p99 "
            f"{p99s[len(p99s) // 2]:.1f} ms"
        )
        if self.heap:
            mibs = [sample.mib for sample in self.heap]
            out.append(
                f"  JS heap after GC, {len(mibs)} samples over {self.heap[-1].at_s:.0f} s: "
                f"first {mibs[0]:.2f} MiB, last {mibs[-1]:.2f} MiB, max {max(mibs):.2f} MiB, "
                f"growth {self.heap_growth_pct():+.1f} %"
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
    key = make_key(database_url, admin=True)
    try:
        await wait_ready_async(f"http://127.0.0.1:{port}", READY_S)
        await pool.open(wait=True)
        store = PostgresEventStore(pool, on_commit=CommitNudger(redis_client).nudge)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=chromium, args=["--no-sandbox"]
            )
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            await page.add_init_script(SIGN_IN.format(key=json.dumps(key)))
            cdp = await page.context.new_cdp_session(page)
            await page.goto(f"http://127.0.0.1:{port}/?rows={args.rows}")
            await page.wait_for_selector("body[data-ready=true]")
            await page.evaluate(COLLECT)
            observer = Observer(port, key, args.observe) if args.profile else None
            rounds, heap = await _rounds(page, cdp, store, args, observer)
            await browser.close()
        every = [ms for r in rounds for ms in r[1]]
        return DashboardResult(
            orders=args.orders,
            rows=args.rows,
            rate=args.rate,
            minutes=args.minutes,
            rounds=[r[0] for r in rounds],
            latency=Distribution.of_ms(every),
            heap=heap,
        )
    finally:
        await redis_client.aclose()
        await pool.close()
        for process in (api, projector):
            process.terminate()
            process.wait(10)


async def _rounds(
    page: Page,
    cdp: CDPSession,
    store: PostgresEventStore,
    args: argparse.Namespace,
    observer: Observer | None,
) -> tuple[list[tuple[RoundResult, list[float]]], list[HeapSample]]:
    """Rounds until `args.minutes` are up (one at least), the heap sampled meanwhile."""
    heap: list[HeapSample] = []
    started = time.monotonic()
    done = asyncio.Event()
    following = asyncio.Event()  # the page holds its rows: the heap at its working size

    async def sample() -> None:
        await following.wait()
        since = time.monotonic()
        while True:
            await cdp.send("HeapProfiler.collectGarbage")
            heap.append(HeapSample(at_s=time.monotonic() - since, mib=await _heap_mib(cdp)))
            if done.is_set():
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), args.sample_s)

    sampler = asyncio.create_task(sample())
    rounds: list[tuple[RoundResult, list[float]]] = []
    try:
        while not rounds or time.monotonic() - started < args.minutes * 60:
            rounds.append(await _round(page, store, args, observer, following))
            print(f"  {rounds[-1][0].latency.p99_ms:.0f} ms p99, round {len(rounds)}", flush=True)
    finally:
        done.set()
        await sampler
    return rounds, heap


async def _round(
    page: Page,
    store: PostgresEventStore,
    args: argparse.Namespace,
    observer: Observer | None,
    following: asyncio.Event,
) -> tuple[RoundResult, list[float]]:
    histories = [confirmed_history() for _ in range(args.orders)]
    for history in histories:
        await store.append(order_stream(_order_id(history)), 0, as_new_events(history[:1]))
    shown = {_order_id(h) for h in histories[-args.rows :]}  # the newest, as the list shows
    await page.wait_for_function(FOLLOWING, arg=sorted(shown), timeout=READY_S * 1000)
    following.set()
    await page.evaluate("() => { window.rowUpdates = []; window.longTasks = []; }")
    watching = await observer.start(sorted(shown)) if observer is not None else None
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
    expected = sum(1 for order_id, _ in committed if order_id in shown)
    profile = None
    if observer is not None and watching is not None:
        long_tasks: list[list[float]] = await page.evaluate("() => window.longTasks")
        arrived = await observer.finish(watching)
        profile = _profile(committed, offset, updates, arrived, long_tasks)
    result = RoundResult(
        orders=args.orders,
        events_committed=expected,
        rows_updated=len(latencies),
        append_seconds=append_seconds,
        latency=Distribution.of_ms(latencies),
        profile=profile,
    )
    return result, latencies


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


class Observer:
    """`bench.stream_observer` on `count` of each round's followed orders."""

    def __init__(self, port: int, key: str, count: int) -> None:
        self.port = port
        self.key = key
        self.count = count

    async def start(self, order_ids: list[str]) -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bench.stream_observer", str(self.port), self.key),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write(json.dumps(order_ids[: self.count]).encode())
        process.stdin.close()
        line = await asyncio.wait_for(process.stdout.readline(), READY_S)
        if line.strip() != b"live":
            raise SystemExit(f"bench.stream_observer did not start: {line!r}")
        return process

    async def finish(self, process: asyncio.subprocess.Process) -> dict[Key, float]:
        out, _ = await asyncio.wait_for(process.communicate(), READY_S)
        return {(str(o), int(v)): float(at) for o, v, at in json.loads(out)}


def _profile(
    committed: dict[Key, float],
    offset: float,
    updates: list[list[object]],
    arrived: dict[Key, float],
    long_tasks: list[list[float]],
) -> RoundProfile:
    rendered: dict[Key, float] = {}
    for order_id, version, at in updates:
        rendered.setdefault((str(order_id), int(str(version))), float(str(at)) / 1000 - offset)
    keys = [k for k in committed if k in arrived and k in rendered]
    durations = [float(task[1]) for task in long_tasks]
    return RoundProfile(
        to_client=Distribution.of_ms([max(0.0, arrived[k] - committed[k]) * 1000 for k in keys]),
        to_row=Distribution.of_ms([max(0.0, rendered[k] - committed[k]) * 1000 for k in keys]),
        long_tasks=len(durations),
        long_task_ms=sum(durations),
        longest_task_ms=max(durations, default=0.0),
    )


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
        "API_KEY_SECRET": TEST_SECRET,
        "MAX_SOCKETS_PER_KEY": "100000",  # the page follows every row with the one key
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
    parser.add_argument(
        "--minutes", type=float, default=10, help="rounds of fresh orders until then (one at least)"
    )
    parser.add_argument("--sample-s", type=float, default=30, help="heap sampled this often")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also time the same events at an outside client, and count long tasks",
    )
    parser.add_argument("--observe", type=int, default=20, help="orders the outside client follows")
    parser.add_argument("--chromium", help="the browser (default: chromium on PATH)")
    run_benchmark(parser, run, show)


if __name__ == "__main__":
    main()
