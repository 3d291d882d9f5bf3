"""Every benchmark of `bench/` in one go, then one report: `bench/results/report.md`
(each figure with its workload, the machine's cores, and the baseline it is a ratio
to) and `bench/results/latency.png` (p50/p99 of every latency measured).

    .venv/bin/python -m bench            # small sizes: a few minutes on 2 cores
    .venv/bin/python -m bench --full     # the sizes of the issues' acceptance runs

Each benchmark runs as its own `python -m bench.<name>` process, exactly as a person
would run it; its output is kept in the report, and its figures are read from it.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

from bench.figures import Figure, figures_of, latencies_of
from bench.png_chart import bar_chart
from db.migrate import migrate
from tests.support.servers import fresh_database, postgres_admin_url

RESULTS = Path(__file__).resolve().parent / "results"
P50, P99 = (66, 133, 244), (219, 68, 55)
# name -> (small arguments, full arguments)
RUNS: dict[str, tuple[list[str], list[str]]] = {
    "submit": (
        ["--orders", "3000", "--concurrency", "32", "--rounds", "1"],
        ["--orders", "20000", "--concurrency", "64", "--rounds", "3"],
    ),
    "e2e": (
        ["--orders", "300", "--realistic", "50", "--singles", "5", "--rounds", "1"],
        ["--orders", "2000", "--realistic", "1000"],
    ),
    "ws_fanout": (
        ["--clients", "200", "--rate", "500", "--stalled", "20"],
        ["--clients", "1000", "--rate", "2000", "--stalled", "100"],
    ),
    "replay_rate": (["--events", "100000"], ["--events", "1000000"]),
    "global_log_load": (["--rounds", "1"], ["--rounds", "3"]),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="the acceptance sizes (long)")
    parser.add_argument("--only", nargs="*", choices=list(RUNS), help="a subset of benchmarks")
    args = parser.parse_args()
    outputs: dict[str, tuple[list[str], str]] = {}
    for name in args.only or list(RUNS):
        argv = RUNS[name][1 if args.full else 0]
        outputs[name] = (argv, _run(name, argv))
    figures = [figure for name, (_, out) in outputs.items() for figure in figures_of(name, out)]
    command = "python -m bench" + (" --full" if args.full else "")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "report.md").write_text(_report(command, figures, outputs))
    rows = [(label, [(p50, P50), (p99, P99)]) for label, p50, p99 in latencies_of(outputs)]
    if rows:
        png = bar_chart(
            "LATENCY P50 AND P99, " + command.upper(), rows, [("P50", P50), ("P99", P99)]
        )
        (RESULTS / "latency.png").write_bytes(png)
    print(f"wrote {RESULTS / 'report.md'} and {RESULTS / 'latency.png'}")


def _run(name: str, argv: list[str]) -> str:
    print(f"== bench.{name} {' '.join(argv)}", flush=True)
    if name == "global_log_load":  # it wants a migrated scratch database of its own
        with fresh_database(postgres_admin_url(), prefix="oe_bench") as url:
            migrate(url)
            return _capture(name, [*argv, "--database-url", url])
    return _capture(name, argv)


def _capture(name: str, argv: list[str]) -> str:
    completed = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", *argv],
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    print(completed.stdout, end="", flush=True)
    if completed.returncode != 0:
        print(completed.stderr[-4000:], file=sys.stderr)
        return completed.stdout + f"\n(exit status {completed.returncode})\n"
    return completed.stdout


def _report(command: str, figures: list[Figure], outputs: dict[str, tuple[list[str], str]]) -> str:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmark report",
        "",
        f"Made by `.venv/bin/{command}` on {now}: {os.cpu_count()} cores"
        f" ({platform.processor() or platform.machine()}), Python {platform.python_version()},"
        " PostgreSQL and Redis on the same machine. Latency plot: `latency.png`.",
        "",
        "| benchmark | figure | value | workload | baseline | ratio to baseline |",
        "|---|---|---:|---|---|---:|",
        *(
            f"| {f.benchmark} | {f.name} | {f.value} | {f.workload} | {f.baseline} | {f.ratio} |"
            for f in figures
        ),
        "",
        "## Output of each run",
        "",
    ]
    for name, (argv, output) in outputs.items():
        lines += [
            f"`python -m bench.{name} {' '.join(argv)}`",
            "",
            "```",
            output.strip(),
            "```",
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
