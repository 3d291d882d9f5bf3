"""Request parameters every route reads the same way: order ids and idempotency keys."""

from __future__ import annotations

import uuid

from api.problems import ApiError

MAX_IDEMPOTENCY_KEY = 200


def parse_order_id(raw: str) -> str:
    """The canonical form of an order id, or a 400 naming `orderId`."""
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise ApiError(400, f"orderId: {raw[:64]!r} is not a UUID", "orderId") from None
