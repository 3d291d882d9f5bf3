"""Every error the API returns, in one shape (RFC 9457 problem details)."""

from __future__ import annotations

import re

import msgspec
from litestar.openapi.datastructures import ResponseSpec

PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(msgspec.Struct, omit_defaults=True):
    """`field` names the request field at fault, in the client's spelling."""

    status: int
    title: str
    detail: str
    field: str | None = None
    type: str = "about:blank"


class ApiError(Exception):
    """Raised by controllers for an answer that is not a domain error (404, 400 ...)."""

    def __init__(
        self,
        status: int,
        detail: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field
        self.headers = headers


_AT_PATH = re.compile(r" - at `\$\.?([^`]*)`$")
_NAMED = re.compile(r"(?:missing required|unknown) field `([^`]+)`")


def field_of_validation_error(message: str) -> tuple[str | None, str]:
    """Split a msgspec validation message into (field, reason)."""
    at = _AT_PATH.search(message)
    if at:
        return (at.group(1) or None), message[: at.start()]
    named = _NAMED.search(message)
    return (named.group(1) if named else None), message


def problem_responses(*codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries saying that these status codes answer with a `Problem`."""
    return {
        code: ResponseSpec(data_container=Problem, media_type=PROBLEM_MEDIA_TYPE) for code in codes
    }
