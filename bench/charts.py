"""The report's charts, drawn with matplotlib from the benchmarks' results: latency
distributions as ECDFs, and throughput over time during bursts (and soaks)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from bench.measures import QUANTILE_STEPS, Distribution, Throughput

matplotlib.use("Agg")  # files only: no display on a benchmark machine


def latency_chart(distributions: dict[str, Distribution], title: str, path: Path) -> None:
    """One ECDF per distribution, on a log axis of milliseconds: the whole spread, not
    only its median."""
    figure, axes = plt.subplots(figsize=(10, 5.5))
    for label, distribution in distributions.items():
        if not distribution.count:
            continue
        shares = [step / QUANTILE_STEPS for step in range(len(distribution.quantiles_ms))]
        axes.step(
            distribution.quantiles_ms,
            shares,
            where="post",
            label=f"{label}: n={distribution.count:,}, p50 {distribution.p50_ms:.1f} ms,"
            f" p99 {distribution.p99_ms:.1f} ms",
        )
    axes.set_xscale("log")
    axes.set_xlabel("milliseconds (log scale)")
    axes.set_ylabel("share at or below")
    axes.set_ylim(0, 1.01)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8, loc="lower right")
    axes.set_title(title)
    _save(figure, path)


def throughput_chart(series: list[Throughput], title: str, path: Path) -> None:
    """Above, operations ended per second over each run from its first submission;
    below, the share of the run's operations ended so far."""
    figure, (rate, done) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    for run in series:
        centres = [(index + 0.5) * run.bin_s for index in range(len(run.counts))]
        line = rate.plot(centres, [count / run.bin_s for count in run.counts], marker=".")
        total, running, shares = sum(run.counts), 0, []
        for count in run.counts:
            running += count
            shares.append(running / total if total else 0.0)
        ends = [(index + 1) * run.bin_s for index in range(len(run.counts))]
        done.plot([0.0, *ends], [0.0, *shares], color=line[0].get_color(),
                  label=f"{run.label} ({total:,})")  # fmt: skip
    rate.set_ylabel(f"ended per second ({series[0].bin_s if series else 0:g} s bins)")
    rate.grid(True, alpha=0.3)
    rate.set_title(title)
    done.set_ylabel("share ended so far")
    done.set_xlabel("seconds after the first submission")
    done.set_ylim(0, 1.01)
    done.grid(True, alpha=0.3)
    done.legend(fontsize=8, loc="lower right")
    _save(figure, path)


def _save(figure: Figure, path: Path) -> None:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
