"""The service's routes: decode a request body, call the Simulator, encode the answer.

Every handler is synchronous and short; a bad body becomes a 4xx naming the field.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

from simulator.core import Simulator
from simulator.errors import InvalidRequest
from simulator.httpserver import Request, Response
from simulator.requests import (
    AdvanceRequest,
    LadderRequest,
    LegsRequest,
    SendTransaction,
    StatusesRequest,
)
from simulator.responses import ErrorBody

logger = logging.getLogger("simulator.routes")

_encoder = msgspec.json.Encoder()
Route = Callable[[bytes], tuple[int, Any]]


def error_page(status: int, message: str, field: str | None = None) -> Response:
    error = "not_found" if status == 404 else "invalid_request" if status < 500 else "internal"
    body = ErrorBody(error=error, field=field, message=message)
    return Response(status, _encoder.encode(body))


class App:
    """Routes requests to one Simulator; every handler is synchronous and short."""

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator
        sim = simulator
        self._routes: dict[tuple[str, str], Route] = {
            ("GET", "/health"): lambda _: (200, {"status": "ok", **_slot(sim)}),
            ("GET", "/tokens"): lambda _: (200, sim.tokens()),
            ("POST", "/quote"): _with(LadderRequest, lambda r: (200, sim.quote(r))),
            ("POST", "/quote/legs"): _with(LegsRequest, lambda r: (200, sim.quote_legs(r))),
            ("GET", "/blockhash"): lambda _: (200, sim.latest_blockhash()),
            ("GET", "/block-height"): lambda _: (200, sim.block_height()),
            ("POST", "/transactions"): _with(SendTransaction, self._send),
            ("POST", "/signature-statuses"): _with(
                StatusesRequest, lambda r: (200, sim.signature_statuses(r.signatures))
            ),
            ("POST", "/slots/advance"): _with(
                AdvanceRequest, lambda r: (200, sim.advance_slots(r.slots))
            ),
        }
        self._paths = {path for _, path in self._routes}

    def _send(self, request: SendTransaction) -> tuple[int, Any]:
        result = self.simulator.send_transaction(request)
        return (200 if result.duplicate else 202), result

    def handle(self, request: Request) -> Response:
        route = self._routes.get((request.method, request.path))
        if route is None:
            if request.path in self._paths:
                allowed = ", ".join(m for m, p in self._routes if p == request.path)
                return Response(
                    405,
                    error_page(405, f"use {allowed}").body,
                    headers=(("Allow", allowed),),
                )
            return error_page(404, f"no route {request.method} {request.path}")
        try:
            status, body = route(request.body)
        except InvalidRequest as error:
            return error_page(error.status, error.message, error.field)
        except msgspec.ValidationError as error:
            return error_page(400, str(error), field_of(str(error)))
        except msgspec.DecodeError as error:
            return error_page(400, f"body is not valid JSON: {error}", "body")
        except Exception:
            logger.exception("event=request_failed path=%s", request.path)
            return error_page(500, "internal error")
        return Response(status, _encoder.encode(body))


def _slot(sim: Simulator) -> dict[str, int]:
    view = sim.block_height()
    return {"slot": view.slot, "blockHeight": view.block_height}


T = TypeVar("T")


def _with(kind: type[T], handler: Callable[[T], tuple[int, Any]]) -> Route:
    decoder = msgspec.json.Decoder(kind)
    return lambda body: handler(decoder.decode(body))


_AT_PATH = re.compile(r" - at `\$\.?([^`]*)`$")
_NAMED_FIELD = re.compile(r"(?:missing required|unknown) field `([^`]*)`")


def field_of(message: str) -> str:
    """The request field a msgspec validation message points at ("legs[0].amountIn")."""
    at = _AT_PATH.search(message)
    path = at.group(1) if at else ""
    named = _NAMED_FIELD.search(message)
    if named:
        path = f"{path}.{named.group(1)}" if path else named.group(1)
    return path or "body"
