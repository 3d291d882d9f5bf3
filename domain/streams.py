"""Stream names: every order is one stream, `order-<uuid>`."""

from __future__ import annotations

ORDER_STREAM_PREFIX = "order-"


def order_stream(order_id: str) -> str:
    return f"{ORDER_STREAM_PREFIX}{order_id}"


def order_id_of(stream_id: str) -> str:
    return stream_id.removeprefix(ORDER_STREAM_PREFIX)
