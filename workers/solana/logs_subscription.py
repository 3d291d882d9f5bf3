"""A `logsSubscribe` on the node's WebSocket (Solana PubSub): the bell a sniper bot
hangs on an address, so it hears of a transaction mentioning it when its block is
confirmed instead of polling for it.

The subscription only rings: what rang is read as before, over JSON-RPC
(`getSignaturesForAddress`, `getTransaction`), so a notification lost, duplicated or
early costs one look and changes nothing. `live` says whether the bell can be trusted;
while it is not (never connected, the socket dropped, the node refused), the caller
polls at its fast pace. A (re)subscription rings once, for whatever happened while no
socket was open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import aiohttp

from db.retry import DEFAULT_POLICY, Outage, sleep_unless

log = logging.getLogger(__name__)
HEARTBEAT_S = 15.0  # pings, so that a link that died silently is noticed
SUBSCRIBE_TIMEOUT_S = 5.0


class LogsSubscription:
    """Rings `bell` for every confirmed transaction mentioning `address`."""

    def __init__(self, url: str, address: str) -> None:
        self._url = url
        self._address = address
        self.bell = asyncio.Event()
        self.live = False
        self.notifications = 0
        self.last_rang = 0.0  # monotonic time of the last notification
        self._outage = Outage("logs subscription", log, DEFAULT_POLICY)

    async def run(self, stop: asyncio.Event) -> None:
        """Keep the subscription open until `stop`, reconnecting by the retry policy."""
        async with aiohttp.ClientSession() as session:
            while not stop.is_set():
                try:
                    await self._follow(session, stop)
                except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as error:
                    self.live = False
                    await sleep_unless(stop, self._outage.failed(error))
                else:
                    self.live = False

    async def _follow(self, session: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        async with session.ws_connect(self._url, heartbeat=HEARTBEAT_S) as socket:
            await socket.send_json(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "logsSubscribe",
                    "params": [{"mentions": [self._address]}, {"commitment": "confirmed"}],
                }
            )
            answer = await asyncio.wait_for(socket.receive_json(), SUBSCRIBE_TIMEOUT_S)
            if "result" not in answer:
                raise ValueError(f"logsSubscribe refused: {answer.get('error')!r}")
            self.live = True
            self._outage.recovered()
            self.bell.set()  # whatever came while no socket was open is looked for now
            stopping = asyncio.ensure_future(stop.wait())
            try:
                while not stop.is_set():
                    receiving = asyncio.ensure_future(socket.receive())
                    await asyncio.wait((receiving, stopping), return_when=asyncio.FIRST_COMPLETED)
                    if not receiving.done():
                        receiving.cancel()
                        return
                    message = receiving.result()
                    if message.type != aiohttp.WSMsgType.TEXT:
                        return  # closed, or an error: reconnect
                    self._heard(message.json())
            finally:
                stopping.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await stopping

    def _heard(self, message: Any) -> None:
        if isinstance(message, dict) and message.get("method") == "logsNotification":
            value = message.get("params", {}).get("result", {}).get("value", {})
            if value.get("err") is None:
                self.notifications += 1
                self.last_rang = time.monotonic()
                self.bell.set()
