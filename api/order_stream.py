"""WebSockets: `GET /api/orders/{orderId}/stream` and `GET /api/orders/execute`.

Replay, then live, with no gap and no duplicate (DESIGN.md): the follower is
registered with the tailer *before* the history is read, so every event is in the
history, in the follower's queue, or in both; the sender drops versions it already
sent and re-reads the store when a version jumps ahead or the queue overflowed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import msgspec
from litestar import WebSocket, websocket

from api.keys import Caller
from api.live_feed import Follower, LiveFeed
from api.parameters import parse_order_id
from api.presenting import OrderPair, pair_of_submission, present_amounts
from api.problems import ApiError
from api.rate_limit import RateLimited
from api.read_side import ReadSide, read_side_of
from api.services import ApiServices, EventLog
from api.socket_admission import (
    CLOSE_TOO_MANY,
    CLOSE_UNAUTHORIZED,
    REVOKED,
    accept,
    key_socket,
    refuse,
)
from api.socket_submission import submit_from_socket
from domain.errors import InvalidField
from domain.events import decode_event
from domain.order_state import OrderState, evolve
from domain.records import CommandConflict, RecordedEvent, actor_of
from domain.streams import order_stream

log = logging.getLogger("api.stream")
CLOSE_DONE, CLOSE_TRY_AGAIN, CLOSE_BAD_REQUEST, CLOSE_UNKNOWN = 1000, 1011, 4400, 4404
_encoder = msgspec.json.Encoder()


class StreamEvent(msgspec.Struct, rename="camel", kw_only=True):
    type: str = "event"
    order_id: str
    version: int
    event: str
    status: str
    data: dict[str, Any]
    recorded_at: str


class OrderSender:
    """Sends one order's events in version order, each once; folds them for `status`."""

    def __init__(
        self, socket: WebSocket[Any, Any, Any], order_id: str, pair: OrderPair | None
    ) -> None:
        self._socket = socket
        self._order_id = order_id
        self._pair = pair
        self.state: OrderState | None = None
        self.version = 0

    async def send(self, event: RecordedEvent, after_version: int = 0) -> None:
        if event.stream_version != self.version + 1:
            return  # already sent (or a gap the caller fills from the store)
        self.state = evolve(self.state, decode_event(event.event_type, event.data))
        self.version = event.stream_version
        if self.version <= after_version:
            return
        message = StreamEvent(
            order_id=self._order_id,
            version=self.version,
            event=event.event_type,
            status=str(self.state.status),
            data=present_amounts(msgspec.json.decode(event.data), self._pair),
            recorded_at=event.recorded_at.isoformat(),
        )
        await self._socket.send_data(_encoder.encode(message).decode())

    @property
    def final(self) -> bool:
        return self.state is not None and self.state.is_final


@websocket("/api/orders/{orderId:str}/stream")
async def stream_order(socket: WebSocket[Any, Any, Any]) -> None:
    caller = await accept(socket)
    if caller is None:
        return
    async with key_socket(socket, caller) as revoked:
        if revoked is not None:
            await _stream_order(socket, caller, revoked)


async def _stream_order(
    socket: WebSocket[Any, Any, Any], caller: Caller, revoked: asyncio.Event
) -> None:
    try:
        services, read_side = live_read_side(socket)
        order_id = parse_order_id(socket.path_params["orderId"])
        after_version = _after_version(socket.query_params.get("afterVersion"))
    except FeedStarting as error:
        await refuse(socket, error, CLOSE_TRY_AGAIN)
        return
    except (ApiError, InvalidField) as error:
        await refuse(socket, error, CLOSE_BAD_REQUEST)
        return
    await follow_order(socket, services.store, read_side, order_id, after_version, caller, revoked)


@websocket("/api/orders/execute")
async def execute_order(socket: WebSocket[Any, Any, Any]) -> None:
    caller = await accept(socket)
    if caller is None:
        return
    async with key_socket(socket, caller) as revoked:
        if revoked is not None:
            await _execute_order(socket, caller, revoked)


async def _execute_order(
    socket: WebSocket[Any, Any, Any], caller: Caller, revoked: asyncio.Event
) -> None:
    try:
        services, read_side = live_read_side(socket)
        after_version = _after_version(socket.query_params.get("afterVersion"))
        requested = socket.query_params.get("orderId")
        if requested is not None:
            order_id = parse_order_id(requested)
        else:
            order_id = await submit_from_socket(socket, services, caller, revoked)
            await socket.send_data(_encoder.encode({"type": "accepted", "orderId": order_id}))
    except FeedStarting as error:
        await refuse(socket, error, CLOSE_TRY_AGAIN)
        return
    except RateLimited as error:
        detail = (
            f"Authorization: this key's rate limit is reached; retry in {error.retry_after_s} s"
        )
        await refuse(socket, ApiError(429, detail, "Authorization"), CLOSE_TOO_MANY)
        return
    except ApiError as error:
        await refuse(
            socket, error, CLOSE_UNAUTHORIZED if error.status == 401 else CLOSE_BAD_REQUEST
        )
        return
    except (InvalidField, CommandConflict) as error:
        await refuse(socket, error, CLOSE_BAD_REQUEST)
        return
    except Exception as error:  # never a bare 4500: the client gets a message, we a log line
        log.exception("submit socket failed", exc_info=error)
        internal = ApiError(500, "internal error; the order may not have been accepted")
        await refuse(socket, internal, CLOSE_TRY_AGAIN)
        return
    await follow_order(socket, services.store, read_side, order_id, after_version, caller, revoked)


class FeedStarting(ApiError):
    """The tailer has no start position yet: events committed until it has one would
    reach neither the history this socket reads nor its queue (the stream would never
    end), so the client is told to try again, before anything is submitted."""


def live_read_side(socket: WebSocket[Any, Any, Any]) -> tuple[ApiServices, ReadSide]:
    services, read_side = read_side_of(socket)
    if not read_side.feed.started.is_set():
        raise FeedStarting(503, "the live feed is starting; try again in a moment")
    return services, read_side


async def follow_order(
    socket: WebSocket[Any, Any, Any],
    store: EventLog,
    read_side: ReadSide,
    order_id: str,
    after_version: int,
    caller: Caller,
    revoked: asyncio.Event,
) -> None:
    """Stream the order until its final event, until the client goes away, or until
    its key is revoked (close 4401)."""
    feed = read_side.feed
    follower = feed.follow(order_stream(order_id))
    feed.open_sockets += 1
    streaming = asyncio.ensure_future(
        _stream(socket, store, feed, follower, order_id, after_version, caller)
    )
    gone = asyncio.ensure_future(_until_disconnected(socket))
    cut = asyncio.ensure_future(revoked.wait())
    try:
        await asyncio.wait([streaming, gone, cut], return_when=asyncio.FIRST_COMPLETED)
    finally:
        feed.unfollow(follower)
        feed.open_sockets -= 1
        gone.cancel()
        streaming.cancel()
        cut.cancel()
    if revoked.is_set() and not streaming.done():
        log.info("stream closed: key revoked", extra={"order_id": order_id})
        with contextlib.suppress(Exception):
            await refuse(socket, REVOKED, CLOSE_UNAUTHORIZED)
        return
    failed = streaming.done() and not streaming.cancelled() and streaming.exception()
    if failed:
        # Not 1000: the client must reconnect with afterVersion, the order is not done.
        log.warning("stream ended by an error", extra={"order_id": order_id, "error": repr(failed)})
        with contextlib.suppress(Exception):
            await socket.close(code=CLOSE_TRY_AGAIN, reason="try again with afterVersion")


async def _stream(
    socket: WebSocket[Any, Any, Any],
    store: EventLog,
    feed: LiveFeed,
    follower: Follower,
    order_id: str,
    after_version: int,
    caller: Caller,
) -> None:
    stream_id = follower.stream_id
    history = await store.read_stream(stream_id)
    if not history or not caller.owns(actor_of(history[0])):
        unknown = ApiError(404, f"orderId: no order {order_id}", "orderId")
        await refuse(socket, unknown, CLOSE_UNKNOWN)
        return
    sender = OrderSender(socket, order_id, pair_of_submission(history[0]))
    for event in history:
        await sender.send(event, after_version)
    await socket.send_data('{"type":"live"}')
    while not sender.final:
        queued = await follower.next()
        if queued is None:
            feed.catch_ups += 1
        if queued is None or queued.stream_version > sender.version + 1:
            for missed in await store.read_stream(stream_id, sender.version):
                await sender.send(missed, after_version)
        else:
            await sender.send(queued, after_version)
    log.info("stream complete", extra={"order_id": order_id, "version": sender.version})
    await socket.close(code=CLOSE_DONE)


async def _until_disconnected(socket: WebSocket[Any, Any, Any]) -> None:
    # Clients send nothing after the first message; reading notices that they left.
    while (await socket.receive())["type"] != "websocket.disconnect":
        continue


def _after_version(raw: str | None) -> int:
    if raw is None:
        return 0
    if not (raw.isascii() and raw.isdigit()):
        raise ApiError(
            400, f"afterVersion: {raw[:32]!r} is not a whole number >= 0", "afterVersion"
        )
    return int(raw)
