"""The one place where exceptions become HTTP answers (API.md, "Errors")."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap
from psycopg import OperationalError
from psycopg_pool import PoolTimeout

from api.problems import PROBLEM_MEDIA_TYPE, ApiError, Problem, field_of_validation_error
from domain.errors import InvalidField, InvalidTransition
from domain.records import CommandConflict, ConcurrencyConflict, StoreUnavailable
from domain.routing import VenueUnavailable

log = logging.getLogger("api.errors")

# Handler parameter names as clients spell them (headers and renamed query parameters).
_CLIENT_NAMES = {
    "idempotency_key": "Idempotency-Key",
    "event_type": "type",
    "order_type": "type",
    "at_version": "atVersion",
}

_TITLES = {
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def problem_response(status: int, detail: str, field: str | None = None) -> Response[bytes]:
    problem = Problem(status=status, title=_TITLES.get(status, "Error"), detail=detail, field=field)
    return Response(msgspec.json.encode(problem), status_code=status, media_type=PROBLEM_MEDIA_TYPE)


def _invalid_field(_: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    assert isinstance(error, InvalidField)
    return problem_response(400, str(error), error.field)


def _api_error(_: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    assert isinstance(error, ApiError)
    return problem_response(error.status, error.detail, error.field)


def _command_conflict(_: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    detail = "Idempotency-Key: already used with a different request body; use a new key"
    return problem_response(422, detail, "Idempotency-Key")


def _conflict(_: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    return problem_response(409, str(error))


def _unavailable(_: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    log.warning("backing service unavailable", extra={"error": str(error)})
    return problem_response(503, "postgres is unavailable; nothing was accepted, retry later")


def _venue_unavailable(_: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    log.warning("venue unavailable", extra={"error": str(error)})
    return problem_response(503, "the venue (simulator) is unavailable; retry later")


def _http_exception(_: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    assert isinstance(error, HTTPException)
    if error.status_code >= 500:
        return _internal(_, error)
    if isinstance(error, ValidationException) and isinstance(error.extra, list) and error.extra:
        first = error.extra[0]
        if isinstance(first, dict):
            key = first.get("key")
            message = str(first.get("message", error.detail))
            field, reason = field_of_validation_error(message)
            name = _CLIENT_NAMES.get(str(key), str(key)) if key else field
            return problem_response(400, f"{name}: {reason}" if name else reason, name)
    detail = error.detail
    if error.status_code == 413:
        detail = "request body is larger than the 64 KiB limit"
    return problem_response(error.status_code, detail)


def _internal(_: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    log.exception("unhandled error", exc_info=error)
    return problem_response(500, "internal error; the request may not have been applied")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    InvalidField: _invalid_field,
    ApiError: _api_error,
    CommandConflict: _command_conflict,
    ConcurrencyConflict: _conflict,
    InvalidTransition: _conflict,
    StoreUnavailable: _unavailable,
    VenueUnavailable: _venue_unavailable,
    OperationalError: _unavailable,
    PoolTimeout: _unavailable,
    HTTPException: _http_exception,
    Exception: _internal,
}
