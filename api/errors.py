"""The one place where exceptions become HTTP answers (API.md, "Errors")."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)
from psycopg import OperationalError
from psycopg_pool import PoolTimeout

from api.problems import ApiError, field_of_validation_error
from api.rate_limit import RateLimited
from commands.ports import VenueRejected
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
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def problem(
    status: int, detail: str, field: str | None = None, headers: dict[str, str] | None = None
) -> ProblemDetailsException:
    """The answer as litestar's RFC 9457 exception; `field` rides as an extension member."""
    return ProblemDetailsException(
        status_code=status,
        title=_TITLES.get(status, "Error"),
        detail=detail,
        extra={"field": field} if field is not None else None,
        headers=headers,
    )


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    field: str | None = None,
) -> Response[dict[str, Any]]:
    """For hooks that answer instead of raising (`api/content_type.py`)."""
    return problem(status, detail, field).to_response(request)


def _invalid_field(error: InvalidField) -> ProblemDetailsException:
    return problem(400, str(error), error.field)


def _api_error(error: ApiError) -> ProblemDetailsException:
    return problem(error.status, error.detail, error.field, error.headers)


def _rate_limited(error: RateLimited) -> ProblemDetailsException:
    detail = f"Authorization: this key's rate limit is reached; retry in {error.retry_after_s} s"
    return problem(429, detail, "Authorization", {"Retry-After": str(error.retry_after_s)})


def _command_conflict(_: CommandConflict) -> ProblemDetailsException:
    detail = "Idempotency-Key: already used with a different request body; use a new key"
    return problem(422, detail, "Idempotency-Key")


def _conflict(error: Exception) -> ProblemDetailsException:
    return problem(409, str(error))


def _unavailable(error: Exception) -> ProblemDetailsException:
    log.warning("backing service unavailable", extra={"error": str(error)})
    return problem(503, "postgres is unavailable; nothing was accepted, retry later")


def _venue_unavailable(error: VenueUnavailable) -> ProblemDetailsException:
    log.warning("venue unavailable", extra={"error": str(error)})
    return problem(503, "the venue (simulator) is unavailable; retry later")


def _venue_rejected(error: VenueRejected) -> ProblemDetailsException:
    # The venue refused what we asked on the client's behalf (a quote): the client's
    # input, unless the venue is only busy.
    if error.status == 429:
        return problem(503, "the venue is busy; retry later")
    detail = f"amountIn: the venue refused it ({error.field}: {error.message})"
    return problem(400, detail, "amountIn")


# Litestar's words when a client hangs up before its body arrived.
CLIENT_GONE = "client disconnected prematurely"


def _http_exception(error: HTTPException) -> ProblemDetailsException:
    if error.status_code >= 500 and error.detail == CLIENT_GONE:
        # Not the server's fault, and nobody is left to read the answer: no error log
        # (under overload they came by the thousand and buried the real ones).
        log.info("client disconnected before its request body arrived")
        return problem(400, "the request body did not arrive: the client disconnected")
    if error.status_code >= 500:
        return _internal(error)
    if isinstance(error, ValidationException) and isinstance(error.extra, list) and error.extra:
        first = error.extra[0]
        if isinstance(first, dict):
            key = first.get("key")
            message = str(first.get("message", error.detail))
            field, reason = field_of_validation_error(message)
            name = _CLIENT_NAMES.get(str(key), str(key)) if key else field
            return problem(400, f"{name}: {reason}" if name else reason, name)
    detail = error.detail
    if error.status_code == 413:
        detail = "request body is larger than the 64 KiB limit"
    # Headers the exception carries stay: `Allow` on a 405, `Retry-After` on a 429.
    return problem(error.status_code, detail, headers=dict(error.headers or {}))


def _internal(error: Exception) -> ProblemDetailsException:
    log.exception("unhandled error", exc_info=error)
    return problem(500, "internal error; the request may not have been applied")


# Each exception becomes litestar's ProblemDetailsException (its plugin answers it as
# application/problem+json); the most specific class listed wins.
_TO_PROBLEM: dict[type[Exception], Callable[[Any], ProblemDetailsException]] = {
    InvalidField: _invalid_field,
    ApiError: _api_error,
    CommandConflict: _command_conflict,
    RateLimited: _rate_limited,
    ConcurrencyConflict: _conflict,
    InvalidTransition: _conflict,
    StoreUnavailable: _unavailable,
    VenueUnavailable: _venue_unavailable,
    VenueRejected: _venue_rejected,
    OperationalError: _unavailable,
    PoolTimeout: _unavailable,
    HTTPException: _http_exception,
    Exception: _internal,
}

PROBLEM_DETAILS = ProblemDetailsPlugin(
    ProblemDetailsConfig(exception_to_problem_detail_map=_TO_PROBLEM)
)
