"""Who may hold a WebSocket: a page of an allowed origin (else close 4403), with a valid
key (else 4401), within its key's `MAX_SOCKETS_PER_KEY` (else 4429); and how a socket
is refused (an `{"type":"error"}` message, then the close code)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import msgspec
from litestar import WebSocket

from api.authentication import authenticate, key_ring_of
from api.keys import Caller
from api.origins import origin_allowed
from api.problems import ApiError
from api.services import SERVICES_STATE_KEY, ApiServices
from domain.errors import InvalidField
from domain.records import CommandConflict

CLOSE_FORBIDDEN, CLOSE_UNAUTHORIZED, CLOSE_TOO_MANY = 4403, 4401, 4429
REVOKED = ApiError(401, "Authorization: the API key was revoked", "Authorization")
_encoder = msgspec.json.Encoder()


async def accept(socket: WebSocket[Any, Any, Any]) -> Caller | None:
    """Accept the upgrade and say who is calling; refuse it (an error message, then close
    4403) from a foreign page, or (close 4401) without a valid key."""
    await socket.accept()
    services = cast(ApiServices, socket.app.state[SERVICES_STATE_KEY])
    origin = socket.headers.get("origin")
    if not origin_allowed(origin, socket.headers.get("host"), services.allowed_origins):
        detail = f"Origin: {str(origin)[:100]!r} may not use this API; see ALLOWED_ORIGINS"
        await refuse(socket, ApiError(403, detail, "Origin"), CLOSE_FORBIDDEN)
        return None
    try:
        return await authenticate(socket, socket=True)
    except ApiError as error:
        await refuse(socket, error, CLOSE_UNAUTHORIZED)
        return None


@asynccontextmanager
async def key_socket(
    socket: WebSocket[Any, Any, Any], caller: Caller
) -> AsyncIterator[asyncio.Event | None]:
    """Count the socket against its key's `MAX_SOCKETS_PER_KEY` (None: over it, refused
    with close 4429); the event is set when the key is revoked meanwhile."""
    keys = key_ring_of(socket)
    revoked = asyncio.Event()

    async def on_revoked() -> None:
        revoked.set()

    token = keys.open_socket(caller, on_revoked)
    if token is None:
        detail = f"Authorization: this key has {keys.max_sockets_per_key} WebSockets open"
        await refuse(socket, ApiError(429, detail, "Authorization"), CLOSE_TOO_MANY)
        yield None
        return
    try:
        yield revoked
    finally:
        keys.close_socket(token)


async def refuse(socket: WebSocket[Any, Any, Any], error: Exception, code: int) -> None:
    """An `{"type":"error"}` message, then the close `code`."""
    status, detail, field = 400, str(error), None
    if isinstance(error, ApiError):
        status, detail, field = error.status, error.detail, error.field
    elif isinstance(error, InvalidField):
        field = error.field
    elif isinstance(error, CommandConflict):
        detail = "idempotencyKey: already used with a different request; use a new key"
        status, field = 422, "idempotencyKey"
    message = {"type": "error", "status": status, "detail": detail, "field": field}
    await socket.send_data(_encoder.encode(message).decode())
    await socket.close(code=code)
