"""`GET /metrics`: the Prometheus exposition (prometheus_client), of the read side's
figures (orders by status, stage latencies, consumer lag, from the database at each
scrape) and of the API processes' own (`api.telemetry`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from litestar import Request, Response, get
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from api.read_side import read_side_of
from api.telemetry import ApiTelemetry
from projections.metric_queries import ReadSideFigures

TELEMETRY_STATE_KEY = "telemetry"


@get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics: orders by status, stage latencies, consumer lag, requests,"
    " database pool, event loop, sockets",
    media_type=CONTENT_TYPE_LATEST,
)
async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    _, read_side = read_side_of(request)
    figures = await read_side.figures()
    telemetry = cast(ApiTelemetry, request.app.state[TELEMETRY_STATE_KEY])
    body = telemetry.exposition(ReadSideCollector(figures))
    # The library's content type exactly (Litestar would add a second charset).
    return Response(body, headers={"content-type": CONTENT_TYPE_LATEST})


class ReadSideCollector(Collector):
    """The read side's figures of one scrape as metric families."""

    def __init__(self, figures: ReadSideFigures) -> None:
        self._figures = figures

    def collect(self) -> Iterable[Metric]:
        figures = self._figures
        orders = GaugeMetricFamily(
            "orderengine_orders", "Orders in the read model by status.", labels=["status"]
        )
        for status, count in sorted(figures.orders_by_status.items()):
            orders.add_metric([status], count)
        stages = HistogramMetricFamily(
            "orderengine_order_stage_seconds",
            "Time orders spent in each status (stage), and from submission to a final"
            " status (total).",
            labels=["stage"],
        )
        for stage in figures.stages:
            buckets = [(le, float(count)) for le, count in stage.cumulative]
            stages.add_metric([stage.stage], buckets, stage.seconds_sum)
        lag = GaugeMetricFamily(
            "orderengine_consumer_lag_events",
            "Events in the log after the consumer's checkpoint (an upper bound for"
            " consumers that read only some event types).",
            labels=["consumer"],
        )
        age = GaugeMetricFamily(
            "orderengine_consumer_checkpoint_age_seconds",
            "Since the consumer last committed a batch.",
            labels=["consumer"],
        )
        for consumer in figures.consumers:
            lag.add_metric([consumer.consumer], consumer.events_behind)
            age.add_metric([consumer.consumer], consumer.checkpoint_age_s)
        return [orders, stages, lag, age]
