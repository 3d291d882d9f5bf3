"""The limit benchmark's typed result (`bench/limit.py`)."""

from __future__ import annotations

import msgspec

from bench.measures import Distribution, Figure, Throughput

SLOT_MS = 400


class LimitRun(msgspec.Struct, frozen=True):
    orders: int  # armed at the start
    arm_seconds: float  # from the COPY to the evaluator's table holding them all
    slots: int  # slots the market moved through while measured
    # From the first measured slot on (every order armed): crossings while the
    # evaluator was still arming its table are neither latencies nor misses.
    crossed: int  # orders whose limit the market met for at least one observed slot
    held_three: int  # ... for 3 slots in a row (the "should have fired")
    fired: int
    fired_twice: int
    missed: int  # held for 3 slots, never fired
    fired_unobserved: int  # fired with no crossing observed while measuring (before it)
    latency_ms: Distribution  # first crossing slot seen -> TriggerFired committed
    latency_slots: Distribution  # the same in slots (the distribution's "ms" are slots)
    # The slot of the quote that fired, after the first crossing slot (0: it fired on the
    # very slot; more: the evaluator looked too late or its quote disagreed), in slots.
    quote_lag_slots: Distribution
    cpu_percent: float  # the evaluator process, of one core, while measured
    cpu_ms_per_slot: float
    rss_mib: float  # the evaluator's peak resident set while measured
    quoted: int  # orders the evaluator quoted exactly (from its log); -1 when unknown

    @property
    def label(self) -> str:
        return f"{self.orders:,} armed"


class LimitResult(msgspec.Struct, frozen=True):
    move_bps: int
    runs: list[LimitRun]

    def figures(self) -> list[Figure]:
        rows: list[Figure] = []
        for run in self.runs:
            workload = (
                f"{run.orders:,} armed limit orders over 3 pairs, both directions;"
                f" price moved {self.move_bps} bps a slot at {SLOT_MS} ms slots"
                f" for {run.slots} slots"
            )
            goal = "goal p99 <= 1 slot, 0 missed, 0 twice, < 25 % of a core"
            rows += [
                Figure("limit", f"{run.label}: trigger latency p99 (slots)",
                       f"{run.latency_slots.p99_ms:.2f}", workload, goal, ""),
                Figure("limit", f"{run.label}: trigger latency p50 / p99 (ms)",
                       f"{run.latency_ms.p50_ms:.0f} / {run.latency_ms.p99_ms:.0f}",
                       workload, f"one slot = {SLOT_MS} ms", ""),
                Figure("limit", f"{run.label}: fired / missed / twice",
                       f"{run.fired:,} / {run.missed} / {run.fired_twice}", workload,
                       f"{run.held_three:,} held 3 slots", ""),
                Figure("limit", f"{run.label}: evaluator CPU % of a core, ms per slot, RSS",
                       f"{run.cpu_percent:.1f} %, {run.cpu_ms_per_slot:.1f} ms,"
                       f" {run.rss_mib:.0f} MiB", workload, "goal < 25 %", ""),
            ]  # fmt: skip
        return rows

    def latencies(self) -> dict[str, Distribution]:
        return {f"limit trigger, {run.label}": run.latency_ms for run in self.runs}

    def throughput(self) -> list[Throughput]:
        return []
