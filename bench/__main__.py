"""Every benchmark of `bench/` in one go, then one report from their results:
`bench/results/report.md` (each figure with its workload, the machine's cores, and the
baseline it is a ratio to), `bench/results/report.json` (every result, typed as each
benchmark returns it), and the charts `latency.png` (latency distributions as ECDFs)
and `throughput.png` (orders final per second during each burst).

    .venv/bin/python -m bench            # small sizes: a few minutes on 2 cores
    .venv/bin/python -m bench --full     # the sizes of the issues' acceptance runs

Each benchmark runs as its own `python -m bench.<name>` process, exactly as a person
would run it, and hands its result back as JSON (`--result-json`): nothing is read
from what it prints. A new benchmark (a soak, say) joins by an entry in `BENCHMARKS`;
the throughput series its result returns join the throughput chart.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import msgspec

from bench.charts import latency_chart, throughput_chart
from bench.cpmm_program import CpmmProgramResult
from bench.e2e_result import E2eResult
from bench.global_log_result import GlobalLogResult
from bench.idle import IdleResult
from bench.limit_result import LimitResult
from bench.measures import Result
from bench.replay_rate import ReplayResult
from bench.report import Report, Run, markdown
from bench.soak import SoakResult
from bench.submit_result import SubmitResult
from bench.user_load import UserLoadResult
from bench.ws_fanout_result import FanoutResult

RESULTS = Path(__file__).resolve().parent / "results"


class Benchmark(msgspec.Struct, frozen=True):
    result: type[Any]  # the Struct its --result-json holds
    small: list[str]
    full: list[str]


BENCHMARKS: dict[str, Benchmark] = {
    "submit": Benchmark(
        SubmitResult,
        ["--orders", "3000", "--concurrency", "32", "--rounds", "1"],
        ["--orders", "20000", "--concurrency", "64", "--rounds", "3"],
    ),
    "e2e": Benchmark(
        E2eResult,
        ["--orders", "300", "--realistic", "50", "--singles", "5", "--rounds", "1"],
        ["--orders", "2000", "--realistic", "1000"],
    ),
    "ws_fanout": Benchmark(
        FanoutResult,
        ["--clients", "200", "--rate", "500", "--stalled", "20"],
        ["--clients", "1000", "--rate", "2000", "--stalled", "100"],
    ),
    "replay_rate": Benchmark(ReplayResult, ["--events", "100000"], ["--events", "1000000"]),
    "global_log_load": Benchmark(GlobalLogResult, ["--rounds", "1"], ["--rounds", "3"]),
    "idle": Benchmark(IdleResult, ["--seconds", "20"], ["--seconds", "60"]),
    "user_load": Benchmark(
        UserLoadResult,
        ["--seconds", "5", "--rounds", "1", "--burst", "200"],
        ["--seconds", "10", "--rounds", "3", "--burst", "2000"],
    ),
    "soak": Benchmark(SoakResult, ["--minutes", "2", "--rate", "50"], ["--minutes", "30"]),
    "limit": Benchmark(
        LimitResult,
        ["--orders", "1000,10000", "--slots", "30"],
        ["--orders", "1000,10000,100000"],
    ),
    "cpmm_program": Benchmark(
        CpmmProgramResult,
        ["--swaps", "2000", "--rounds", "3"],
        ["--swaps", "10000", "--rounds", "5"],
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="the acceptance sizes (long)")
    parser.add_argument("--only", nargs="*", choices=list(BENCHMARKS), help="a subset of them")
    args = parser.parse_args()
    command = "python -m bench" + (" --full" if args.full else "")
    runs: dict[str, Run] = {}
    results: dict[str, Result] = {}
    with tempfile.TemporaryDirectory(prefix="oe-bench-") as scratch:
        for name in args.only or list(BENCHMARKS):
            benchmark = BENCHMARKS[name]
            argv = benchmark.full if args.full else benchmark.small
            runs[name], result = _run(name, argv, benchmark.result, Path(scratch))
            if result is not None:
                results[name] = result
    report = Report.made(command, runs, results)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "report.json").write_bytes(msgspec.json.format(msgspec.json.encode(report)))
    (RESULTS / "report.md").write_text(markdown(report))
    latencies = {label: d for r in results.values() for label, d in r.latencies().items()}
    latency_chart(latencies, f"Latency distributions, {command}", RESULTS / "latency.png")
    series = [run for r in results.values() for run in r.throughput()]
    throughput_chart(series, f"Throughput during each burst, {command}", RESULTS / "throughput.png")
    print(f"wrote report.md, report.json, latency.png and throughput.png in {RESULTS}")


def _run(name: str, argv: list[str], kind: type[Any], scratch: Path) -> tuple[Run, Result | None]:
    """Run `bench.<name>`; its printed output (kept for the report) and its result.
    Its progress bars go straight to this terminal."""
    print(f"== bench.{name} {' '.join(argv)}", flush=True)
    path = scratch / f"{name}.json"
    completed = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", *argv, "--result-json", str(path)],
        stdout=subprocess.PIPE,
        text=True,
        timeout=3600,
        check=False,
    )
    print(completed.stdout, end="", flush=True)
    run = Run(argv, completed.stdout, completed.returncode)
    if completed.returncode != 0 or not path.exists():
        return run, None
    result: Result = msgspec.json.decode(path.read_bytes(), type=kind)
    return run, result


if __name__ == "__main__":
    main()
