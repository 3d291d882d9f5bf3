"""The report of `python -m bench`: one typed object, written as JSON and as Markdown."""

from __future__ import annotations

import datetime
import os
import platform
from typing import Any

import msgspec

from bench.measures import Figure, Result


class Run(msgspec.Struct, frozen=True):
    argv: list[str]
    output: str  # what it printed, for people; never parsed
    status: int  # its exit status


class Report(msgspec.Struct, frozen=True):
    command: str
    made_at: str
    cores: int
    processor: str
    python: str
    runs: dict[str, Run]
    results: dict[str, Any]  # each benchmark's own result Struct, by name
    figures: list[Figure]

    @classmethod
    def made(cls, command: str, runs: dict[str, Run], results: dict[str, Result]) -> Report:
        return cls(
            command=command,
            made_at=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            cores=os.cpu_count() or 1,
            processor=platform.processor() or platform.machine(),
            python=platform.python_version(),
            runs=runs,
            results=dict(results),
            figures=[figure for result in results.values() for figure in result.figures()],
        )


def markdown(report: Report) -> str:
    lines = [
        "# Benchmark report",
        "",
        f"Made by `.venv/bin/{report.command}` on {report.made_at}: {report.cores} cores"
        f" ({report.processor}), Python {report.python}, PostgreSQL and Redis on the same"
        " machine. Every figure is in `report.json`; latency distributions (ECDFs):"
        " `latency.png`; orders final per second during each burst: `throughput.png`.",
        "",
        "| benchmark | figure | value | workload | baseline | ratio to baseline |",
        "|---|---|---:|---|---|---:|",
        *(
            f"| {f.benchmark} | {f.name} | {f.value} | {f.workload} | {f.baseline} | {f.ratio} |"
            for f in report.figures
        ),
        "",
    ]
    failed = [name for name, run in report.runs.items() if name not in report.results]
    if failed:
        lines += [
            "**Failed** (no figures): "
            + ", ".join(f"`{name}` (exit status {report.runs[name].status})" for name in failed),
            "",
        ]
    lines += ["## Output of each run", ""]
    for name, run in report.runs.items():
        lines += [f"`python -m bench.{name} {' '.join(run.argv)}`", "", "```"]
        lines += [run.output.strip(), "```", ""]
    return "\n".join(lines)
