"""A small keep-alive HTTP/1.1 client for JSON bodies, on asyncio streams.

Why not httpx: its connection pool checks every pooled socket with two system calls
on every request, which under a few hundred requests a second cost the worker more
CPU than the steps themselves. The venue speaks plain HTTP/1.1 with Content-Length,
so this is all the protocol the engine needs.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from domain.routing import VenueUnavailable

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]
_BROKEN = (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError)


class JsonHttpClient:
    """At most `max_connections` requests at once; idle connections are reused."""

    def __init__(self, base_url: str, timeout_s: float = 5.0, max_connections: int = 16) -> None:
        url = urlsplit(base_url)
        self._host = url.hostname or "127.0.0.1"
        self._port = url.port or 80
        self._timeout_s = timeout_s
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[Connection] = []

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        """(status, body); raises VenueUnavailable when the venue cannot be reached."""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self._host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        payload = head + body
        async with self._slots:
            if self._idle:
                # The server may have closed an idle connection meanwhile: then go on to
                # a fresh one (every venue call is idempotent, sends included).
                reader, writer = self._idle.pop()
                try:
                    return await self._exchange(reader, writer, payload)
                except _BROKEN:
                    writer.close()
                except TimeoutError as error:
                    writer.close()
                    raise VenueUnavailable(f"{method} {path}: timed out") from error
            try:
                async with asyncio.timeout(self._timeout_s):
                    reader, writer = await asyncio.open_connection(self._host, self._port)
            except (*_BROKEN, TimeoutError) as error:
                raise VenueUnavailable(f"{method} {path}: {error!r}") from error
            try:
                return await self._exchange(reader, writer, payload)
            except (*_BROKEN, TimeoutError) as error:
                writer.close()
                raise VenueUnavailable(f"{method} {path}: {error!r}") from error

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, payload: bytes
    ) -> tuple[int, bytes]:
        async with asyncio.timeout(self._timeout_s):
            writer.write(payload)
            head = await reader.readuntil(b"\r\n\r\n")
            status, length, keep_alive = parse_response_head(head)
            data = await reader.readexactly(length)
        if keep_alive:
            self._idle.append((reader, writer))
        else:
            writer.close()
        return status, data

    async def close(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()


def parse_response_head(head: bytes) -> tuple[int, int, bool]:
    """(status, Content-Length, keep-alive) of an HTTP/1.1 response head."""
    status_line, *lines = head.decode("latin-1").split("\r\n")
    length, keep_alive = 0, True
    for line in lines:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection":
            keep_alive = value.strip().lower() != "close"
    return int(status_line.split(" ", 2)[1]), length, keep_alive
