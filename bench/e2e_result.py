"""What `bench.e2e` returns: the instant-venue burst with where its time went, and the
realistic run's bursts against one order alone and against the chain alone."""

from __future__ import annotations

import statistics

import msgspec

from bench.measures import Distribution, Figure, Throughput, ratio

# (submit-to-final seconds, submitted at, final at, final event type) of one order
Latency = tuple[float, float, float, str]
THROUGHPUT_BIN_S = 0.2  # the throughput chart's resolution: half a 400 ms slot


class Burst(msgspec.Struct, frozen=True):
    title: str
    orders: int
    confirmed: int
    span_s: float  # first submission to last final
    latency: Distribution  # submit-to-final
    final_offsets_s: list[float]  # each order's final event, after the first submission

    @classmethod
    def of_rows(cls, title: str, rows: list[Latency]) -> Burst:
        start = min(row[1] for row in rows)
        return cls(
            title=title,
            orders=len(rows),
            confirmed=sum(1 for row in rows if row[3] == "OrderConfirmed"),
            span_s=max(row[2] for row in rows) - start,
            latency=Distribution.of_seconds([row[0] for row in rows]),
            final_offsets_s=sorted(round(row[2] - start, 4) for row in rows),
        )

    @property
    def rate(self) -> float:
        return self.orders / self.span_s

    def line(self) -> str:
        return (
            f"{self.title}: {self.orders} orders ({self.confirmed} confirmed) final in"
            f" {self.span_s:.2f} s = {self.rate:.0f} orders/s; submit-to-final"
            f" p50 {self.latency.p50_ms:.0f} ms, p99 {self.latency.p99_ms:.0f} ms,"
            f" max {self.latency.max_ms:.0f} ms"
        )


class StageWait(msgspec.Struct, frozen=True):
    stage: str  # "<event> -> <next event>"
    count: int
    avg_ms: float
    p50_ms: float


class StageEnd(msgspec.Struct, frozen=True):
    event_type: str
    count: int
    at_ms: float  # the last one, after the first submission


class InstantRun(msgspec.Struct, frozen=True):
    workers: int
    threads: int
    stages: list[StageWait]
    ends: list[StageEnd]
    burst: Burst
    engine_cpu_s: float = 0.0  # CPU of the workers and the dispatcher over the burst
    simulator_cpu_s: float = 0.0  # CPU of the simulator process over the burst

    def lines(self) -> list[str]:
        per_order_ms = 1000 * self.engine_cpu_s / max(1, self.burst.orders)
        return [
            *(f"  {s.stage:<42} {s.count:>6} avg {s.avg_ms:>8} ms  p50 {s.p50_ms:>8} ms"
              for s in self.stages),
            *(f"  last {e.event_type:<37} {e.count:>6} at +{e.at_ms:.0f} ms" for e in self.ends),
            f"  engine CPU (workers and dispatcher, signing included): {self.engine_cpu_s:.1f} s"
            f" = {per_order_ms:.2f} ms per order",
            f"  simulator CPU (chain, pools, quotes): {self.simulator_cpu_s:.1f} s"
            f" = {1000 * self.simulator_cpu_s / max(1, self.burst.orders):.2f} ms per order",
            self.burst.line(),
        ]  # fmt: skip


class ChainAlone(msgspec.Struct, frozen=True):
    """Swaps sent straight to the simulator: the floor under the engine's figures."""

    burst: int
    alone_s: list[float]  # each transaction sent alone: until confirmed
    spans_s: list[float]  # each burst: until all confirmed

    @property
    def single_s(self) -> float:
        return statistics.median(self.alone_s)

    @property
    def span_s(self) -> float:
        return statistics.median(self.spans_s)

    def lines(self) -> list[str]:
        alone = [1000 * s for s in self.alone_s]
        spans = ", ".join(f"{s:.2f}" for s in self.spans_s)
        return [
            f"chain alone, one transaction at a time ({len(alone)}): confirmed after"
            f" p50 {1000 * self.single_s:.0f} ms (min {min(alone):.0f}, max {max(alone):.0f})",
            f"chain alone, {self.burst} at once: all confirmed after {self.span_s:.2f} s (median"
            f" of {spans}) = {self.span_s / self.single_s:.2f} x one transaction's p50",
        ]


class RealisticRun(msgspec.Struct, frozen=True):
    alone_s: list[float]  # orders submitted one at a time: submit-to-final
    bursts: list[Burst]
    chain: ChainAlone

    @property
    def single_s(self) -> float:
        return statistics.median(self.alone_s)

    @property
    def span_s(self) -> float:
        return statistics.median(burst.span_s for burst in self.bursts)

    def lines(self) -> list[str]:
        alone = [1000 * s for s in self.alone_s]
        span, single, chain = self.span_s, self.single_s, self.chain
        return [
            f"400 ms slots, one order at a time ({len(alone)} orders): submit-to-final"
            f" p50 {1000 * single:.0f} ms (min {min(alone):.0f}, max {max(alone):.0f})",
            *(burst.line() for burst in self.bursts),
            f"all final after {span:.2f} s (median of {len(self.bursts)} rounds)"
            f" = {span / single:.2f} x a single order's latency (p50 of {len(alone)} alone)",
            *chain.lines(),
            f"the engine adds {span - chain.span_s:+.2f} s to all {chain.burst} final"
            f" and {1000 * (single - chain.single_s):+.0f} ms to one order alone;"
            f" ratio {span / single:.2f} x against the chain's own"
            f" {chain.span_s / chain.single_s:.2f} x",
        ]


class E2eResult(msgspec.Struct, frozen=True):
    instant: InstantRun
    realistic: RealisticRun | None

    def lines(self) -> list[str]:
        return self.instant.lines() + (self.realistic.lines() if self.realistic else [])

    def figures(self) -> list[Figure]:
        burst = self.instant.burst
        workload = (
            f"{burst.orders} market orders at once, instant venue,"
            f" {self.instant.workers} workers x {self.instant.threads} threads"
        )
        latency = f"{burst.latency.p50_ms:.0f} / {burst.latency.p99_ms:.0f} ms"
        figures = [
            Figure("e2e", "orders final/s (instant venue)", f"{burst.rate:.0f}", workload,
                   f"orders submitted ({burst.confirmed} confirmed)",
                   ratio(burst.confirmed, burst.orders)),
            Figure("e2e", "submit-to-final p50 / p99", latency, workload, "-", "-"),
        ]  # fmt: skip
        if (real := self.realistic) is None:
            return figures
        chain, size = real.chain, real.bursts[0].orders
        return [
            *figures,
            Figure("e2e", "all final after (400 ms slots)", f"{real.span_s:.2f} s",
                   f"{size} market orders at once, 400 ms slots,"
                   f" median of {len(real.bursts)} bursts",
                   f"one order alone: p50 {1000 * real.single_s:.0f} ms of {len(real.alone_s)}",
                   f"{real.span_s / real.single_s:.2f} x"),
            Figure("e2e", "chain alone: all confirmed after", f"{chain.span_s:.2f} s",
                   f"{chain.burst} swaps sent straight to the simulator at once,"
                   " no engine (the floor)",
                   f"one swap alone: p50 {1000 * chain.single_s:.0f} ms of {len(chain.alone_s)}",
                   f"{chain.span_s / chain.single_s:.2f} x"),
        ]  # fmt: skip

    def latencies(self) -> dict[str, Distribution]:
        found = {"submit to final, instant venue": self.instant.burst.latency}
        if self.realistic:
            found["submit to final, 400 ms slots (burst 1)"] = self.realistic.bursts[0].latency
            found["one order alone, 400 ms slots"] = Distribution.of_seconds(self.realistic.alone_s)
            found["chain alone: one swap alone"] = Distribution.of_seconds(
                self.realistic.chain.alone_s
            )
        return found

    def throughput(self) -> list[Throughput]:
        bursts = [self.instant.burst, *(self.realistic.bursts if self.realistic else [])]
        return [
            Throughput.of_offsets(burst.title, burst.final_offsets_s, THROUGHPUT_BIN_S)
            for burst in bursts
        ]
