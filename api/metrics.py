"""`GET /metrics`: Prometheus text exposition, written by hand (a few families)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from api.read_side import read_side_of
from projections.figures import ReadSideFigures

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics: orders by status, stage latencies, consumer lag, sockets",
    media_type=CONTENT_TYPE,
)
async def metrics(request: Request[Any, Any, Any]) -> Response[str]:
    _, read_side = read_side_of(request)
    figures = await read_side.figures()
    text = exposition(figures, open_sockets=read_side.feed.open_sockets)
    return Response(text, media_type=CONTENT_TYPE)


def exposition(figures: ReadSideFigures, *, open_sockets: int) -> str:
    lines = [
        "# HELP orderengine_orders Orders in the read model by status.",
        "# TYPE orderengine_orders gauge",
    ]
    lines += [
        f'orderengine_orders{{status="{status}"}} {count}'
        for status, count in sorted(figures.orders_by_status.items())
    ]
    lines += [
        "# HELP orderengine_order_stage_seconds Time orders spent in each status"
        " (stage), and from submission to a final status (total).",
        "# TYPE orderengine_order_stage_seconds histogram",
    ]
    for stage in figures.stages:
        labels = f'stage="{stage.stage}"'
        lines += [
            f'orderengine_order_stage_seconds_bucket{{{labels},le="{le}"}} {count}'
            for le, count in stage.cumulative
        ]
        lines.append(f"orderengine_order_stage_seconds_sum{{{labels}}} {stage.seconds_sum:.6f}")
        lines.append(f"orderengine_order_stage_seconds_count{{{labels}}} {stage.count}")
    lines += [
        "# HELP orderengine_consumer_lag_events Events in the log after the consumer's"
        " checkpoint (an upper bound for consumers that read only some event types).",
        "# TYPE orderengine_consumer_lag_events gauge",
    ]
    lines += [
        f'orderengine_consumer_lag_events{{consumer="{c.consumer}"}} {c.events_behind}'
        for c in figures.consumers
    ]
    lines += [
        "# HELP orderengine_consumer_checkpoint_age_seconds Since the consumer last"
        " committed a batch.",
        "# TYPE orderengine_consumer_checkpoint_age_seconds gauge",
    ]
    lines += [
        f'orderengine_consumer_checkpoint_age_seconds{{consumer="{c.consumer}"}}'
        f" {c.checkpoint_age_s:.3f}"
        for c in figures.consumers
    ]
    lines += [
        "# HELP orderengine_websockets_open WebSocket streams open in this API process.",
        "# TYPE orderengine_websockets_open gauge",
        f"orderengine_websockets_open {open_sockets}",
    ]
    return "\n".join(lines) + "\n"
