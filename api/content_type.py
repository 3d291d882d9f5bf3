"""Only JSON is JSON: a body on a POST must say `Content-Type: application/json`.

A browser sends `text/plain`, form-encoded or multipart bodies to any site without
asking first (no CORS preflight); taking those as JSON would let any web page place
orders. `application/json` makes the browser ask, and the API's CORS policy
(`ALLOWED_ORIGINS`) answers.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from api.errors import problem_response

_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


async def require_json_body(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """A `before_request` hook: a 415 naming `Content-Type`, or None to go on."""
    if request.method not in _WITH_BODY:
        return None
    header = request.headers.get("content-type")
    if header is None:
        if not await request.body():
            return None  # a command without a body (a cancel) needs no type
        return _unsupported(request, "a body needs Content-Type: application/json")
    media_type, _, parameters = header.partition(";")
    if media_type.strip().lower() != "application/json":
        return _unsupported(request, f"{media_type.strip()[:64]!r} refused; send application/json")
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() != "utf-8":
            return _unsupported(request, "JSON is UTF-8; charset must be utf-8 or absent")
    return None


def _unsupported(request: Request[Any, Any, Any], reason: str) -> Response[Any]:
    return problem_response(request, 415, f"Content-Type: {reason}", "Content-Type")
