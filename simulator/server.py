"""The simulator's HTTP face (aiohttp): Solana JSON-RPC 2.0 on `POST /`, the quote
service beside it (`simulator.answers` has the routes and computes every answer), and
`GET /health` ({"status": "ok", "slot", "blockHeight"}).

Faults (issue 9): every RPC request passes through the server's `Hostile` layer
(`simulator.hostile`: 429s, 503s, dropped and slow answers, as configured; by default a
faithful node), then through one `Interceptor`, told the class of its methods (send,
status, read, control), which may answer for it, delay it, or drop it; the default lets
everything through.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from aiohttp import WSMsgType, web

from simulator.answers import QUOTE_ROUTES, Answers, read_calls
from simulator.core import Simulator
from simulator.hostile import Dropped, Hostile
from simulator.rpc import MethodClass
from simulator.subscriptions import LogSubscriptions

MAX_BODY_BYTES = 1024 * 1024

Answer = Callable[[], Awaitable[web.Response]]
Interceptor = Callable[[MethodClass, Answer], Awaitable[web.Response]]


async def let_through(method_class: MethodClass, answer: Answer) -> web.Response:
    return await answer()


def _json(body: bytes, status: int = 200) -> web.Response:
    return web.Response(body=body, status=status, content_type="application/json")


class Server:
    """Routes requests to one Simulator's `Answers`."""

    def __init__(
        self,
        simulator: Simulator,
        clock_driven: bool,
        interceptor: Interceptor = let_through,
        hostile: Hostile | None = None,
    ) -> None:
        self.simulator = simulator
        self.hostile = hostile or Hostile()
        self.answers = Answers(simulator, clock_driven, self.hostile)
        self.interceptor = interceptor
        self.subscriptions = LogSubscriptions(simulator)
        simulator.on_change = self.subscriptions.announce
        self._sockets: set[web.WebSocketResponse] = set()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post("/", self._rpc)
        app.router.add_get("/", self._websocket)
        app.on_shutdown.append(self._close_sockets)
        app.router.add_get("/health", self._health)
        for method, path in QUOTE_ROUTES:
            app.router.add_route(method, path, self._quote)
        return app

    async def _rpc(self, request: web.Request) -> web.Response:
        calls = read_calls(await request.read())

        async def answer() -> web.Response:
            return _json(self.answers.answer_rpc(calls))

        async def hostile() -> web.Response:
            return await self.hostile.intercept(calls.method_class, answer)

        try:
            return await self.interceptor(calls.method_class, hostile)
        except Dropped:
            # The call was carried out; its answer is lost on the way, as when a node
            # or a proxy in front of it goes away mid-request.
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPServiceUnavailable() from None

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        """Solana's PubSub on the RPC's own address, as hosted providers serve it:
        `logsSubscribe` (simulator.subscriptions). Frames go out in order through one
        queue: an answer, then the notifications it allows."""
        socket = web.WebSocketResponse(heartbeat=30)
        await socket.prepare(request)
        outbox: asyncio.Queue[bytes] = asyncio.Queue()
        owned: set[int] = set()

        async def write() -> None:
            while True:
                await socket.send_str((await outbox.get()).decode())  # JSON: text frames

        writer = asyncio.create_task(write())
        self._sockets.add(socket)
        try:
            async for message in socket:
                if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    data = (
                        message.data if isinstance(message.data, bytes) else message.data.encode()
                    )
                    outbox.put_nowait(self.subscriptions.answer(data, outbox.put_nowait, owned))
                    self.subscriptions.announce()
        finally:
            self._sockets.discard(socket)
            self.subscriptions.drop(owned)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await writer
        return socket

    async def _close_sockets(self, app: web.Application) -> None:
        # A subscriber never ends its socket itself: without this, a stop waits for it.
        for socket in list(self._sockets):
            await socket.close(code=1001, message=b"server shutdown")

    async def _health(self, request: web.Request) -> web.Response:
        return _json(self.answers.health())

    async def _quote(self, request: web.Request) -> web.Response:
        body = await request.read()
        status, answer = self.answers.answer_quote(
            request.method, request.path, request.query, body
        )
        return _json(answer, status)
