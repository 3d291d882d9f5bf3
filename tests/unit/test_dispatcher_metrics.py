"""The dispatcher's own /metrics: served on its port, a port taken is no crash."""

from __future__ import annotations

import urllib.request

from orderengine.processes import serve_metrics
from tests.support.servers import free_port
from workers.process_manager.telemetry import DispatcherTelemetry


def test_the_dispatcher_serves_its_undecodable_event_count() -> None:
    telemetry = DispatcherTelemetry()
    telemetry.undecodable_events.labels(event_type="TransactionSent").inc()
    port = free_port()
    server = serve_metrics(telemetry.registry, "127.0.0.1", port)
    assert server is not None
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            body = answer.read().decode()
        assert 'orderengine_undecodable_events_total{event_type="TransactionSent"} 1.0' in body
        assert serve_metrics(telemetry.registry, "127.0.0.1", port) is None, "port taken"
    finally:
        server.shutdown()
        server.server_close()
    assert serve_metrics(telemetry.registry, "127.0.0.1", 0) is None, "0: not served"
