"""Idle cost (issue 13): the engine as `orderengine up` starts it, with no order anywhere,
and what each of its processes, PostgreSQL and Redis spend meanwhile.

    .venv/bin/python -m bench.idle --seconds 60

It starts `python -m orderengine up` on a scratch data directory: with no DATABASE_URL /
REDIS_URL that is exactly a newcomer's first run (embedded PostgreSQL and Redis); with
`--database-url` / `--redis-url` the engine uses those servers instead (a scratch database
is created on the PostgreSQL one and dropped after). Once `/ready` answers it lets the
engine settle, then measures for `--seconds`:

- CPU (% of one core) and RSS of every engine process (the supervisor and each child),
- the same for PostgreSQL: the whole server when it is the embedded one, only the
  backends connected to the engine's database when it is a shared server,
- the same for Redis (its server process), when it runs on this machine,
- PostgreSQL connections the engine holds, and its transactions per second (every poll
  is one; `pg_stat_database`), and Redis commands per second by command (`INFO
  commandstats`), the benchmark's own reads subtracted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import msgspec
import psutil
import psycopg
import redis

from bench.command import run_benchmark
from bench.engine_up import engine_up
from bench.measures import Distribution, Figure, Throughput, ratio
from orderengine.progress import progress_bar
from tests.support.servers import fresh_database

# The goals, printed beside each figure.
GOAL_CPU_PCT = 1.0
GOAL_PG_CONNECTIONS = 8
GOAL_PG_XACTS_PER_S = 5.0


class ProcessCost(msgspec.Struct, frozen=True):
    role: str  # "api", "worker", ...; "postgres" and "redis" for the servers
    pid: int
    cpu_pct: float  # of one core, over the measured window
    rss_mb: float  # at the end of the window


class IdleResult(msgspec.Struct, frozen=True):
    seconds: float
    embedded: bool  # the servers were the embedded ones (their whole cost is the engine's)
    processes: list[ProcessCost]
    pg_connections: int  # held by the engine at the end of the window
    pg_xacts_per_s: float
    redis_commands_per_s: float
    redis_commands: dict[str, float]  # per second, by command

    def total_cpu(self, *roles: str) -> float:
        return sum(p.cpu_pct for p in self.processes if not roles or p.role in roles)

    def total_rss(self, *roles: str) -> float:
        return sum(p.rss_mb for p in self.processes if not roles or p.role in roles)

    def figures(self) -> list[Figure]:
        workload = f"`up` idle for {self.seconds:.0f} s, no orders" + (
            ", embedded PostgreSQL and Redis" if self.embedded else ", shared servers"
        )
        everything = self.total_cpu()
        return [
            Figure(
                "idle",
                "CPU, every process together (% of one core)",
                f"{everything:.1f} %",
                workload,
                f"goal {GOAL_CPU_PCT:.0f} %",
                ratio(everything, GOAL_CPU_PCT),
            ),
            Figure(
                "idle",
                "CPU, the engine's own processes",
                f"{self.total_cpu(*_engine_roles(self)):.1f} %",
                workload,
                "",
                "",
            ),
            Figure(
                "idle",
                "RSS, the engine's own processes",
                f"{self.total_rss(*_engine_roles(self)):.0f} MB",
                workload,
                "",
                "",
            ),
            Figure(
                "idle",
                "PostgreSQL connections held",
                str(self.pg_connections),
                workload,
                f"goal {GOAL_PG_CONNECTIONS}",
                ratio(self.pg_connections, GOAL_PG_CONNECTIONS),
            ),
            Figure(
                "idle",
                "PostgreSQL transactions/s",
                f"{self.pg_xacts_per_s:.1f}",
                workload,
                f"goal {GOAL_PG_XACTS_PER_S:.0f}",
                ratio(self.pg_xacts_per_s, GOAL_PG_XACTS_PER_S),
            ),
            Figure(
                "idle", "Redis commands/s", f"{self.redis_commands_per_s:.1f}", workload, "", ""
            ),
        ]

    def latencies(self) -> dict[str, Distribution]:
        return {}

    def throughput(self) -> list[Throughput]:
        return []


def _engine_roles(result: IdleResult) -> list[str]:
    return sorted({p.role for p in result.processes} - {"postgres", "redis"})


def _role(process: psutil.Process) -> str:
    argv = process.cmdline()
    if "orderengine" in argv:
        after = argv[argv.index("orderengine") + 1 :]
        return after[0] if after else "supervisor"
    return "api" if any("multiprocessing" in part for part in argv) else process.name()


def _engine_processes(up: psutil.Process, servers: set[int]) -> dict[int, str]:
    found = {up.pid: "supervisor"}
    for child in up.children(recursive=True):
        if child.pid not in servers:
            with suppress(psutil.Error):
                found[child.pid] = _role(child)
    return found


def _postgres_processes(database_url: str, embedded: bool) -> tuple[dict[int, str], str]:
    """PostgreSQL's processes that are the engine's cost, and the engine's database name."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_backend_pid(), current_database()").fetchone()
        assert row is not None
        backend, database = row
        backends = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
            (database, backend),
        ).fetchall()
        if not embedded:
            return {pid: "postgres" for (pid,) in backends}, database
        postmaster = psutil.Process(backend).parent()
    assert postmaster is not None
    server = [postmaster, *postmaster.children()]
    return {p.pid: "postgres" for p in server if p.pid != backend}, database


def _pg_counters(database_url: str, database: str) -> tuple[int, int]:
    """(connections the engine holds, transactions so far) for its database."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
            "        AND backend_type = 'client backend' AND pid <> pg_backend_pid()),"
            "       (SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s)",
            (database, database),
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _redis_commands(client: redis.Redis) -> dict[str, int]:
    stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


def _cpu_seconds(pids: dict[int, str]) -> dict[int, float]:
    used = {}
    for pid in pids:
        with suppress(psutil.Error):
            times = psutil.Process(pid).cpu_times()
            used[pid] = times.user + times.system
    return used


def measure(args: argparse.Namespace) -> IdleResult:
    embedded = not args.database_url
    with (
        tempfile.TemporaryDirectory(prefix="oe-bench-idle-") as scratch,
        _database(args) as url,
        engine_up(Path(scratch), url, args.redis_url) as engine,
    ):
        client = redis.Redis.from_url(engine.redis_url)
        redis_pid = int(client.info("server")["process_id"])
        local_redis = psutil.pid_exists(redis_pid)
        time.sleep(args.settle)
        postgres, database = _postgres_processes(engine.database_url, embedded)
        servers = {**postgres, **({redis_pid: "redis"} if local_redis else {})}
        processes = {**_engine_processes(engine.up, set(servers)), **servers}
        _, xacts_before = _pg_counters(engine.database_url, database)
        commands_before = _redis_commands(client)
        cpu_before = _cpu_seconds(processes)
        started = time.monotonic()
        with progress_bar("idle, measuring", "s") as advance:
            for second in range(int(args.seconds)):
                time.sleep(1)
                advance(second + 1, int(args.seconds))
        cpu_after = _cpu_seconds(processes)
        elapsed = time.monotonic() - started
        commands_after = _redis_commands(client)
        connections, xacts_after = _pg_counters(engine.database_url, database)
        costs = []
        for pid, role in processes.items():
            if pid in cpu_after:
                with suppress(psutil.Error):
                    rss = psutil.Process(pid).memory_info().rss / 2**20
                    used = cpu_after[pid] - cpu_before.get(pid, 0.0)
                    costs.append(ProcessCost(role, pid, 100 * used / elapsed, rss))
    # Ours: one transaction per counter read after the first, and INFO twice.
    xacts = max(0, xacts_after - xacts_before - 1)
    per_command = {
        name: (calls - commands_before.get(name, 0)) / elapsed
        for name, calls in commands_after.items()
        if calls > commands_before.get(name, 0)
    }
    per_command["info"] = max(0.0, per_command.get("info", 0.0) - 1 / elapsed)
    per_command = {name: rate for name, rate in per_command.items() if rate > 0}
    return IdleResult(
        seconds=elapsed,
        embedded=embedded,
        processes=sorted(costs, key=lambda c: (c.role, c.pid)),
        pg_connections=connections,
        pg_xacts_per_s=xacts / elapsed,
        redis_commands_per_s=sum(per_command.values()),
        redis_commands=dict(sorted(per_command.items(), key=lambda kv: -kv[1])),
    )


@contextmanager
def _database(args: argparse.Namespace) -> Iterator[str | None]:
    if not args.database_url:
        yield None
        return
    with fresh_database(args.database_url, "oe_bench_idle") as url:
        yield url


def show(result: IdleResult) -> None:
    servers = "embedded" if result.embedded else "shared"
    print(f"idle for {result.seconds:.0f} s, no orders ({servers} servers)")
    print(f"{'process':<12} {'pid':>8} {'CPU % of a core':>16} {'RSS MB':>8}")
    for cost in result.processes:
        if cost.role == "postgres" and cost.cpu_pct < 0.05:
            continue  # an idle server has a dozen processes; show the ones that work
        print(f"{cost.role:<12} {cost.pid:>8} {cost.cpu_pct:>16.2f} {cost.rss_mb:>8.0f}")
    groups = {"engine": _engine_roles(result), "PostgreSQL": ["postgres"], "Redis": ["redis"]}
    for label, roles in groups.items():
        cpu, rss = result.total_cpu(*roles), result.total_rss(*roles)
        print(f"{label + ':':<12} {cpu:.2f} % CPU, {rss:.0f} MB RSS")
    print(f"all together: {result.total_cpu():.2f} % of one core (goal <= {GOAL_CPU_PCT:.0f} %)")
    print(f"PostgreSQL connections held: {result.pg_connections} (goal <= {GOAL_PG_CONNECTIONS})")
    goal = f"goal <= {GOAL_PG_XACTS_PER_S:.0f}"
    print(f"PostgreSQL transactions/s: {result.pg_xacts_per_s:.1f} ({goal})")
    top = ", ".join(f"{name} {rate:.1f}" for name, rate in list(result.redis_commands.items())[:6])
    print(f"Redis commands/s: {result.redis_commands_per_s:.1f} ({top})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="how long to measure")
    parser.add_argument("--settle", type=float, default=10, help="seconds after /ready first")
    parser.add_argument("--database-url", help="a PostgreSQL server (default: the embedded one)")
    parser.add_argument("--redis-url", help="a Redis server (default: the embedded one)")
    run_benchmark(parser, measure, show)


if __name__ == "__main__":
    main()
