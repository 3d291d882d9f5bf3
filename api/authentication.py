"""Bearer keys on every `/api/...` route (API.md, "Keys and ownership").

HTTP requests are checked in the app's `before_request` hook, before any parameter is
read, so a caller without a key learns nothing else (not even a 400). WebSockets are
checked by their handlers once accepted, so the client gets a message and close 4401.
"""

from __future__ import annotations

from typing import Any, cast

from litestar.connection import ASGIConnection

from api.keys import Caller, KeyRing
from api.problems import ApiError
from api.services import SERVICES_STATE_KEY, ApiServices

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="orderengine"'}
_CALLER = "caller"


def presented_key(connection: ASGIConnection[Any, Any, Any, Any], *, socket: bool) -> str | None:
    """The key from `Authorization: Bearer ...`, or (WebSockets only: browsers cannot
    set headers there) the `access_token` query parameter."""
    header = connection.headers.get("authorization")
    if header is not None:
        scheme, _, key = header.partition(" ")
        return key.strip() if scheme.lower() == "bearer" else None
    return connection.query_params.get("access_token") if socket else None


async def authenticate(connection: ASGIConnection[Any, Any, Any, Any], *, socket: bool) -> Caller:
    """The caller, remembered on the connection; `ApiError(401)` without a valid key."""
    keys = key_ring_of(connection)
    key = presented_key(connection, socket=socket)
    if not key:
        raise ApiError(
            401,
            "Authorization: send an API key as 'Authorization: Bearer <key>'",
            "Authorization",
            headers=CHALLENGE,
        )
    caller = await keys.caller(key)
    if caller is None:
        raise ApiError(
            401, "Authorization: unknown or revoked API key", "Authorization", headers=CHALLENGE
        )
    connection.scope.setdefault("state", {})[_CALLER] = caller
    return caller


def caller_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Caller:
    """The caller `authenticate` found for this connection."""
    return cast(Caller, connection.scope["state"][_CALLER])


def key_ring_of(connection: ASGIConnection[Any, Any, Any, Any]) -> KeyRing:
    return cast(ApiServices, connection.app.state[SERVICES_STATE_KEY]).keys
