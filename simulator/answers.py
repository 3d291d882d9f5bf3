"""What the simulator answers, without sockets: JSON-RPC 2.0 bodies and the quote
service's routes, each as (HTTP status, JSON bytes).

`simulator.server` puts these on aiohttp; tests put them straight behind the engine's
own clients (`tests.support.in_process_chain`), so both see the same bytes. Every
answer is computed only after the inputs it reports are journaled (`checkpoint`).

    POST /              JSON-RPC 2.0, one call or a batch (simulator.rpc has the methods)
    GET  /tokens        tokens, pairs with reference prices, pools with their state
    GET  /quote         ?inputMint&outputMint&amount&slippageBps: Jupiter v6's quote
    POST /quote/ladder  {inputMint, outputMint, amounts: [..], slippageBps?, pools?}
    POST /quote/legs    {inputMint, outputMint, legs: [{pool, amountIn}], slippageBps?}
    GET  /pools/keys    ?ids=a,b: every account a swap on each pool names

Quote errors are `{"error", "field", "message"}` with a 4xx status; RPC errors are
JSON-RPC error objects with Solana's codes, in a 200 answer as Solana's nodes send them.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from simulator.core import Simulator
from simulator.durable import checkpoint
from simulator.errors import InvalidRequest, RpcError
from simulator.hostile import Hostile
from simulator.quote_api import QuoteApi
from simulator.quote_shapes import ErrorBody
from simulator.requests import LadderRequest, LegsRequest
from simulator.rpc import METHOD_CLASS, MethodClass, Rpc

logger = logging.getLogger("simulator.answers")
_encoder = msgspec.json.Encoder()
_ladder = msgspec.json.Decoder(LadderRequest)
_legs = msgspec.json.Decoder(LegsRequest)
CLASS_RANK: dict[MethodClass, int] = {"send": 3, "status": 2, "read": 1, "control": 0}
QUOTE_ROUTES = (
    ("GET", "/tokens"),
    ("GET", "/quote"),
    ("POST", "/quote/ladder"),
    ("POST", "/quote/legs"),
    ("GET", "/pools/keys"),
)
Query = Mapping[str, str]


class RpcCalls(msgspec.Struct, frozen=True):
    """A JSON-RPC body, read: its calls, whether it was a batch, and the class of its
    weightiest method (what a fault injector keys on)."""

    items: list[Any]
    batch: bool
    method_class: MethodClass
    parse_error: bool = False


def read_calls(body: bytes) -> RpcCalls:
    try:
        calls = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return RpcCalls([], False, "read", parse_error=True)
    batch = isinstance(calls, list)
    items = calls if batch else [calls]
    classes = [METHOD_CLASS.get(_method(item), "read") for item in items]
    method_class = max(classes, key=CLASS_RANK.__getitem__) if classes else "read"
    return RpcCalls(items, batch, method_class)


def rpc_error(id_: object, code: int, message: str, data: object = None) -> dict[str, object]:
    error: dict[str, object] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "error": error, "id": id_}


class Answers:
    """Answers for one Simulator; every call is synchronous and short."""

    def __init__(
        self, simulator: Simulator, clock_driven: bool, hostile: Hostile | None = None
    ) -> None:
        self.simulator = simulator
        self.rpc = Rpc(simulator, clock_driven, hostile)
        self.quotes = QuoteApi(simulator)
        self._routes: dict[tuple[str, str], Callable[[Query, bytes], object]] = {
            ("GET", "/tokens"): lambda query, body: self.quotes.tokens(),
            ("GET", "/quote"): self._best,
            ("POST", "/quote/ladder"): lambda query, body: self.quotes.ladder(_ladder.decode(body)),
            ("POST", "/quote/legs"): lambda query, body: self.quotes.legs(_legs.decode(body)),
            ("GET", "/pools/keys"): self._keys,
        }

    def answer_rpc(self, calls: RpcCalls) -> bytes:
        """The JSON-RPC answer body (always HTTP 200, as Solana's nodes answer)."""
        if calls.parse_error:
            return _encoder.encode(rpc_error(None, -32700, "Parse error"))
        results = [self._call(item) for item in calls.items]
        _checkpoint(self.simulator)
        if calls.batch and not results:
            return _encoder.encode(rpc_error(None, -32600, "Invalid request"))
        if calls.batch:
            return _encoder.encode(results)
        return _encoder.encode(results[0])

    def answer_quote(self, method: str, path: str, query: Query, body: bytes) -> tuple[int, bytes]:
        route = self._routes.get((method, path))
        if route is None:
            return 404, _encoder.encode(ErrorBody(error="not_found", field=None, message=path))
        try:
            return 200, _encoder.encode(route(query, body))
        except InvalidRequest as error:
            return _error(error.status, error.message, error.field)
        except msgspec.ValidationError as error:
            return _error(400, str(error), field_of(str(error)))
        except msgspec.DecodeError as error:
            return _error(400, f"body is not valid JSON: {error}", "body")

    def health(self) -> bytes:
        chain = self.simulator.chain
        return _encoder.encode(
            {"status": "ok", "slot": chain.slot, "blockHeight": chain.block_height}
        )

    def _call(self, item: Any) -> dict[str, object]:
        if not isinstance(item, dict) or item.get("jsonrpc") != "2.0":
            return rpc_error(None, -32600, "Invalid request")
        id_, method, params = item.get("id"), item.get("method"), item.get("params", [])
        if not isinstance(method, str) or not isinstance(params, list):
            return rpc_error(id_, -32600, "Invalid request")
        try:
            return {"jsonrpc": "2.0", "result": self.rpc.call(method, params), "id": id_}
        except RpcError as error:
            return rpc_error(id_, error.code, error.message, error.data)
        except Exception:
            # One call's bug must not take the batch or the node down: log it, answer
            # Internal error for that call only, as a node does.
            logger.exception("event=rpc_failed method=%s", method)
            return rpc_error(id_, -32603, "Internal error")

    def _best(self, query: Query, body: bytes) -> object:
        slippage = query.get("slippageBps", "50")
        if not slippage.isdigit():
            raise InvalidRequest("slippageBps", "must be a whole number of basis points")
        return self.quotes.best(
            _required(query, "inputMint"),
            _required(query, "outputMint"),
            _required(query, "amount"),
            int(slippage),
        )

    def _keys(self, query: Query, body: bytes) -> object:
        return self.quotes.keys([i for i in _required(query, "ids").split(",") if i])


def _method(item: Any) -> str:
    return item.get("method", "") if isinstance(item, dict) else ""


def _required(query: Query, name: str) -> str:
    value = query.get(name)
    if not value:
        raise InvalidRequest(name, "is required")
    return str(value)


def _error(status: int, message: str, field: str | None) -> tuple[int, bytes]:
    body = ErrorBody(error="invalid_request", field=field, message=message)
    return status, _encoder.encode(body)


def _checkpoint(simulator: Simulator) -> None:
    try:
        checkpoint(simulator)  # before the answer leaves: then it survives a kill
    except OSError:
        # A restart could forget what this answer reports: stop, as a node whose disk
        # failed stops, rather than tell clients about a chain it may lose.
        logger.critical("event=journal_write_failed", exc_info=True)
        os._exit(1)


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
