"""The submit body as the first message on `GET /api/orders/execute`."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar import WebSocket

from api.keys import Caller
from api.parameters import MAX_IDEMPOTENCY_KEY
from api.problems import ApiError
from api.schemas import SubmitOrderBody
from api.services import ApiServices
from api.submission_body import decode_body, submit_body

FIRST_MESSAGE_TIMEOUT_S = 30.0


class SocketSubmission(SubmitOrderBody, forbid_unknown_fields=True):
    idempotency_key: str | None = None


_decoder = msgspec.json.Decoder(SocketSubmission)


async def submit_from_socket(
    socket: WebSocket[Any, Any, Any], services: ApiServices, caller: Caller, revoked: asyncio.Event
) -> str:
    """Read the first message, submit the order it describes for `caller`; its order id.
    The message has the HTTP body's limit; a key revoked while the client wrote it
    submits nothing."""
    max_body_bytes = services.max_body_bytes
    try:
        raw = await asyncio.wait_for(socket.receive_data("text"), FIRST_MESSAGE_TIMEOUT_S)
    except TimeoutError:
        raise ApiError(400, "body: send the order as the first message", "body") from None
    data = raw.encode() if isinstance(raw, str) else raw
    if len(data) > max_body_bytes:
        limit = f"{max_body_bytes // 1024} KiB" if max_body_bytes >= 1024 else f"{max_body_bytes} B"
        raise ApiError(413, f"body: the message is larger than the {limit} limit", "body")
    body = decode_body(_decoder, data)
    key = body.idempotency_key
    if key is not None and not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
        limit = f"1..{MAX_IDEMPOTENCY_KEY}"
        raise ApiError(400, f"idempotencyKey: must be {limit} characters", "idempotencyKey")
    if revoked.is_set():
        raise ApiError(401, "Authorization: the API key was revoked", "Authorization")
    if services.rate_limit is not None:
        await services.rate_limit.draw(caller.name)
    _, outcome = await submit_body(services.store, body, key, caller.name)
    return outcome.order_id
