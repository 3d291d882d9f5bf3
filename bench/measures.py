"""What every benchmark's result is made of: latency distributions, throughput over
time, and the report's rows (each figure next to the baseline it is measured against).

A benchmark returns a typed result (a msgspec Struct) that implements `Result`;
`python -m bench` reads them back as JSON, never from printed text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import msgspec

QUANTILE_STEPS = 200  # a distribution keeps its quantiles at every 0.5 %


def percentile(values: Sequence[float], fraction: float) -> float:
    """The value `fraction` of the way up the sorted values (the nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Distribution(msgspec.Struct, frozen=True):
    """A latency distribution in milliseconds: exact p50, p90, p99 and max, and enough
    quantiles to draw its ECDF without keeping every sample."""

    count: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    quantiles_ms: list[float]  # QUANTILE_STEPS + 1 values, from the minimum to the max

    @classmethod
    def of_seconds(cls, samples_s: Sequence[float]) -> Distribution:
        return cls.of_ms([1000 * sample for sample in samples_s])

    @classmethod
    def of_ms(cls, samples_ms: Sequence[float]) -> Distribution:
        ordered = sorted(samples_ms)
        if not ordered:
            return cls(0, 0.0, 0.0, 0.0, 0.0, [])
        last = len(ordered) - 1
        steps = [ordered[round(last * i / QUANTILE_STEPS)] for i in range(QUANTILE_STEPS + 1)]
        return cls(
            count=len(ordered),
            p50_ms=percentile(ordered, 0.5),
            p90_ms=percentile(ordered, 0.9),
            p99_ms=percentile(ordered, 0.99),
            max_ms=ordered[-1],
            quantiles_ms=steps,
        )


class Throughput(msgspec.Struct, frozen=True):
    """How many operations ended in each bin of time since the run began."""

    label: str
    bin_s: float
    counts: list[int]

    @classmethod
    def of_offsets(cls, label: str, offsets_s: Sequence[float], bin_s: float) -> Throughput:
        """From each operation's end, in seconds after the run began."""
        counts = [0] * (int(max(offsets_s, default=0.0) / bin_s) + 1)
        for offset in offsets_s:
            counts[int(max(0.0, offset) / bin_s)] += 1
        return cls(label, bin_s, counts)


class Figure(msgspec.Struct, frozen=True):
    """One row of the report."""

    benchmark: str
    name: str
    value: str
    workload: str
    baseline: str
    ratio: str


class Result(Protocol):
    """What `python -m bench` asks of a benchmark's result."""

    def figures(self) -> list[Figure]: ...

    def latencies(self) -> dict[str, Distribution]:
        """Latency distributions worth a curve in the report's chart, by label."""
        ...

    def throughput(self) -> list[Throughput]:
        """Throughput over time of the runs worth a curve (bursts, soaks)."""
        ...


def ratio(value: float, baseline: float) -> str:
    return f"{100 * value / baseline:.0f} %" if baseline else "n/a"
