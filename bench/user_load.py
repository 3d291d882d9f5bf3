"""What a user runs, driven from outside (issue 13): the engine as `orderengine up` starts
it, its workers executing what it accepts, under a compiled load tool and a burst of
WebSocket clients in processes of their own.

    .venv/bin/python -m bench.user_load --seconds 10 --rounds 3 --burst 2000

- Acceptance: `wrk` (Debian's `wrk`; `apt-get install wrk`) POSTs market orders at
  each `--concurrency` for `--seconds`, `--rounds` times, through `bench/lua/submit.lua`,
  which prints its own JSON summary. After each run, the time until every accepted
  order is final (the engine catching up with what it accepted).
- The burst: `bench.burst_client` submits `--burst` orders at once, each on its own
  WebSocket, and follows each to its final status: client time-outs, sockets never told
  the final status, and the time until all are final.

The servers are the embedded ones unless `--database-url` / `--redis-url` name others
(a scratch database is made on that PostgreSQL and dropped after). `wrk` and the burst
client share the machine's cores with the engine; the figures say so.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import msgspec
import psycopg

from bench.burst_client import BurstResult
from bench.command import run_benchmark
from bench.engine_up import engine_up
from bench.measures import Distribution, Figure, Throughput
from tests.support.servers import fresh_database

LUA = Path(__file__).resolve().parent / "lua" / "submit.lua"
# The goals at c=64 and for the burst.
GOAL_RATE = 3000.0
GOAL_P99_MS = 50.0
GOAL_BURST_S = 5.0

_FINAL_COUNTS = """
SELECT count(*) FILTER (WHERE event_type = 'OrderSubmitted'),
       count(*) FILTER (WHERE event_type IN ('OrderConfirmed', 'OrderFailed'))
FROM events
"""


class WrkRun(msgspec.Struct, frozen=True):
    """One wrk run, as `submit.lua` reports it (times in microseconds)."""

    requests: int
    duration_us: int
    accepted: int
    refused: int
    connect_errors: int
    read_errors: int
    write_errors: int
    timeouts: int
    p50_us: int
    p99_us: int
    max_us: int
    concurrency: int = 0
    caught_up_s: float = 0.0  # after wrk stopped, until every accepted order was final

    @property
    def rate(self) -> float:
        return self.accepted / (self.duration_us / 1e6)

    @property
    def client_errors(self) -> int:
        return (
            self.refused
            + self.connect_errors
            + self.read_errors
            + self.write_errors
            + (self.timeouts)
        )


class UserLoadResult(msgspec.Struct, frozen=True):
    seconds: float
    runs: list[WrkRun]
    burst: BurstResult | None

    def at(self, concurrency: int) -> list[WrkRun]:
        return [run for run in self.runs if run.concurrency == concurrency]

    def figures(self) -> list[Figure]:
        figures = []
        for concurrency in sorted({run.concurrency for run in self.runs}):
            runs = self.at(concurrency)
            workload = (
                f"`up`, workers executing; wrk -c{concurrency} for {self.seconds:.0f} s,"
                f" median of {len(runs)}"
            )
            rate = statistics.median(run.rate for run in runs)
            p99 = statistics.median(run.p99_us for run in runs) / 1000
            goal = concurrency == 64
            figures += [
                Figure(
                    "user_load",
                    f"accepted orders/s, c={concurrency}",
                    f"{rate:.0f}",
                    workload,
                    f"goal {GOAL_RATE:.0f}" if goal else "",
                    f"{100 * rate / GOAL_RATE:.0f} %" if goal else "",
                ),
                Figure(
                    "user_load",
                    f"submit p99, c={concurrency}",
                    f"{p99:.1f} ms",
                    workload,
                    f"goal {GOAL_P99_MS:.0f} ms" if goal else "",
                    "",
                ),
                Figure(
                    "user_load",
                    f"client errors, c={concurrency}",
                    str(sum(run.client_errors for run in runs)),
                    workload,
                    "",
                    "",
                ),
            ]
        if self.burst is not None:
            workload = f"`up`, {self.burst.orders} orders at once, a WebSocket each"
            final = self.burst.all_final_s
            figures += [
                Figure(
                    "user_load",
                    "burst: client time-outs",
                    str(self.burst.timeouts),
                    workload,
                    "goal 0",
                    "",
                ),
                Figure(
                    "user_load",
                    "burst: all final after",
                    f"{final:.2f} s" if final is not None else "never",
                    workload,
                    f"goal {GOAL_BURST_S:.0f} s",
                    "",
                ),
            ]
        return figures

    def latencies(self) -> dict[str, Distribution]:
        if self.burst is None:
            return {}
        return {f"burst of {self.burst.orders}: submit to final": self.burst.final()}

    def throughput(self) -> list[Throughput]:
        if self.burst is None:
            return []
        offsets = [f.final_s for f in self.burst.follows if f.final_s is not None]
        return [Throughput.of_offsets(f"burst of {self.burst.orders}", offsets, 0.2)]


def _wrk(base_url: str, concurrency: int, seconds: float, key: str) -> WrkRun:
    argv = ["wrk", "-t2", f"-c{concurrency}", f"-d{seconds:.0f}s", "--timeout", "10s"]
    argv += ["-s", str(LUA), base_url]
    env = {**os.environ, "RUN_ID": uuid.uuid4().hex[:12], "API_KEY": key}
    completed = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    line = next(row for row in completed.stdout.splitlines() if row.startswith("WRK_JSON "))
    run = msgspec.json.decode(line.removeprefix("WRK_JSON "), type=WrkRun)
    return msgspec.structs.replace(run, concurrency=concurrency)


def _caught_up(database_url: str, timeout_s: float = 600) -> float:
    """Seconds until every submitted order is final."""
    started = time.monotonic()
    with psycopg.connect(database_url, autocommit=True) as conn:
        while time.monotonic() - started < timeout_s:
            row = conn.execute(_FINAL_COUNTS).fetchone()
            assert row is not None
            if row[0] == row[1]:
                return time.monotonic() - started
            time.sleep(0.25)
    raise TimeoutError(f"orders still not final after {timeout_s} s")


def _burst(base_url: str, orders: int, scratch: Path, key: str) -> BurstResult:
    path = scratch / "burst.json"
    argv = [sys.executable, "-m", "bench.burst_client", "--url", base_url, "--key", key]
    subprocess.run([*argv, "--orders", str(orders), "--result-json", str(path)], check=True)
    return msgspec.json.decode(path.read_bytes(), type=BurstResult)


def measure(args: argparse.Namespace) -> UserLoadResult:
    if shutil.which("wrk") is None:
        raise SystemExit("bench.user_load needs wrk: apt-get install wrk")
    runs: list[WrkRun] = []
    with (
        tempfile.TemporaryDirectory(prefix="oe-bench-user-") as scratch,
        _database(args.database_url) as url,
        engine_up(Path(scratch), url, args.redis_url) as engine,
    ):
        for _ in range(args.rounds):
            for concurrency in args.concurrency:
                run = _wrk(engine.base_url, concurrency, args.seconds, engine.admin_key)
                caught_up = _caught_up(engine.database_url)
                runs.append(msgspec.structs.replace(run, caught_up_s=caught_up))
                print(_line(runs[-1]), flush=True)
        burst = (
            _burst(engine.base_url, args.burst, Path(scratch), engine.admin_key)
            if args.burst
            else None
        )
    return UserLoadResult(args.seconds, runs, burst)


@contextmanager
def _database(admin_url: str | None) -> Iterator[str | None]:
    if not admin_url:
        yield None
        return
    with fresh_database(admin_url, "oe_bench_user") as url:
        yield url


def _line(run: WrkRun) -> str:
    return (
        f"c={run.concurrency}: {run.rate:.0f} accepted/s, p50 {run.p50_us / 1000:.1f} ms,"
        f" p99 {run.p99_us / 1000:.1f} ms, {run.client_errors} client errors,"
        f" all final {run.caught_up_s:.1f} s after wrk stopped"
    )


def show(result: UserLoadResult) -> None:
    for figure in result.figures():
        print(f"{figure.name}: {figure.value} ({figure.workload})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[50, 64])
    parser.add_argument("--seconds", type=float, default=10, help="each wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--burst", type=int, default=2000, help="orders at once; 0: none")
    parser.add_argument("--database-url", help="a PostgreSQL server (default: the embedded one)")
    parser.add_argument("--redis-url", help="a Redis server (default: the embedded one)")
    run_benchmark(parser, measure, show)


if __name__ == "__main__":
    main()
