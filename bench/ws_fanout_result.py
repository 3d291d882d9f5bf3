"""What `bench.ws_fanout` returns: commit-to-client latency over many WebSockets, and
the API process's memory before, during and after."""

from __future__ import annotations

import msgspec

from bench.measures import Distribution, Figure, Throughput, ratio


class FanoutResult(msgspec.Struct, frozen=True):
    clients: int
    stalled: int
    rate: int  # events appended per second, asked
    rss_before_mib: float  # the API process, before any client connected
    rss_connected_mib: float
    rss_after_mib: float
    rss_peak_mib: float
    appended: int
    append_seconds: float
    measured: int  # live events committed for the clients that read
    latency: Distribution  # commit -> client, of those delivered

    def lines(self) -> list[str]:
        latency, missing = self.latency, self.measured - self.latency.count
        return [
            f"API RSS before clients: {self.rss_before_mib:.1f} MiB",
            f"API RSS with {self.clients} + {self.stalled} stalled clients connected:"
            f" {self.rss_connected_mib:.1f} MiB",
            f"appended {self.appended:,} events in {self.append_seconds:.1f} s"
            f" ({self.appended / self.append_seconds:,.0f}/s)",
            f"{self.clients} clients: {latency.count:,} of {self.measured:,} live events"
            f" delivered ({missing} missing)",
            f"commit -> client: p50 {latency.p50_ms:.1f} ms  p90 {latency.p90_ms:.1f} ms"
            f"  p99 {latency.p99_ms:.1f} ms  max {latency.max_ms:.1f} ms",
            f"API RSS after the run: {self.rss_after_mib:.1f} MiB"
            f" (peak {self.rss_peak_mib:.1f} MiB)",
        ]

    def figures(self) -> list[Figure]:
        workload = f"{self.clients} WebSocket clients, one order each, lifecycle events appended"
        value = f"{self.latency.p50_ms:.1f} / {self.latency.p99_ms:.1f} ms"
        delivered = f"{ratio(self.latency.count, self.measured)} delivered"
        base = f"live events committed: {self.measured:,}"
        return [Figure("ws_fanout", "commit -> client p50 / p99", value, workload, base, delivered)]

    def latencies(self) -> dict[str, Distribution]:
        return {"commit to WebSocket client": self.latency}

    def throughput(self) -> list[Throughput]:
        return []
