"""The dispatcher process's own figures, kept by prometheus_client in a registry of its
own (served on `DISPATCHER_METRICS_PORT` by `orderengine dispatcher`)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class DispatcherTelemetry:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.undecodable_events = Counter(
            "orderengine_undecodable_events",
            "Events of an order the dispatcher could not decode; each stopped its order"
            " (`orderengine stopped` lists them).",
            ["event_type"],
            registry=registry,
        )
