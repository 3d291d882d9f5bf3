"""What `bench.submit` returns: rounds through the API, each next to the same appends
straight through the event store."""

from __future__ import annotations

import msgspec

from bench.http_load import LoadResult
from bench.measures import Distribution, Figure, Throughput, ratio


class Round(msgspec.Struct, frozen=True):
    rate: float  # accepted orders (or appends) per second
    latency: Distribution

    @classmethod
    def of_load(cls, load: LoadResult) -> Round:
        return cls(load.rate, Distribution.of_seconds(load.latencies_s))


class SubmitResult(msgspec.Struct, frozen=True):
    orders: int  # per round
    concurrency: int
    api_processes: int
    idempotency_keys: bool
    cores: int
    api_rounds: list[Round]
    raw_rounds: list[Round]  # the same appends straight through the store: the ceiling

    @property
    def api(self) -> Round:
        return _median(self.api_rounds)

    @property
    def raw(self) -> Round:
        return _median(self.raw_rounds)

    @property
    def workload(self) -> str:
        return (
            f"{self.orders} market orders per round, concurrency {self.concurrency},"
            f" {self.api_processes} API process(es), idempotency keys: {self.idempotency_keys},"
            f" {self.cores} cores, PostgreSQL on the same machine;"
            f" median of {len(self.api_rounds)} rounds"
        )

    def lines(self) -> list[str]:
        api, raw = self.api, self.raw
        return [
            f"workload: {self.workload}",
            f"api rounds (orders/s): {', '.join(f'{r.rate:.0f}' for r in self.api_rounds)}",
            f"raw rounds (appends/s): {', '.join(f'{r.rate:.0f}' for r in self.raw_rounds)}",
            f"api: {api.rate:.0f} accepted orders/s,"
            f" p50 {api.latency.p50_ms:.1f} ms, p99 {api.latency.p99_ms:.1f} ms",
            f"raw event store append: {raw.rate:.0f} appends/s,"
            f" p50 {raw.latency.p50_ms:.1f} ms, p99 {raw.latency.p99_ms:.1f} ms",
            f"api / raw: {100 * api.rate / raw.rate:.0f} %",
        ]

    def figures(self) -> list[Figure]:
        api, raw = self.api, self.raw
        latency = f"{api.latency.p50_ms:.1f} / {api.latency.p99_ms:.1f} ms"
        raw_latency = (
            f"raw append p50 / p99: {raw.latency.p50_ms:.1f} / {raw.latency.p99_ms:.1f} ms"
        )
        return [
            Figure("submit", "accepted orders/s", f"{api.rate:.0f}", self.workload,
                   f"raw event store append, same run: {raw.rate:.0f} appends/s",
                   ratio(api.rate, raw.rate)),
            Figure("submit", "submit latency p50 / p99", latency, self.workload, raw_latency,
                   ratio(api.latency.p99_ms, raw.latency.p99_ms)),
        ]  # fmt: skip

    def latencies(self) -> dict[str, Distribution]:
        return {"submit via the API": self.api.latency, "raw event store append": self.raw.latency}

    def throughput(self) -> list[Throughput]:
        return []


def _median(rounds: list[Round]) -> Round:
    return sorted(rounds, key=lambda r: r.rate)[len(rounds) // 2]
