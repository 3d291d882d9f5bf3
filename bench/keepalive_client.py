"""The hand-written keep-alive HTTP/1.1 client the engine used before aiohttp (from
`workers/venue/json_http.py`, removed with issue 12): kept here only as the baseline
`bench.wire_cpu` measures aiohttp's client against."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from bench.http_load import parse_response_head

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class KeepAliveClient:
    """At most `max_connections` requests at once; idle connections are reused."""

    def __init__(self, base_url: str, timeout_s: float = 5.0, max_connections: int = 16) -> None:
        url = urlsplit(base_url)
        self._host = url.hostname or "127.0.0.1"
        self._port = url.port or 80
        self._timeout_s = timeout_s
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[Connection] = []

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        data = body or b""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self._host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        ).encode()
        async with self._slots:
            if self._idle:
                reader, writer = self._idle.pop()
            else:
                reader, writer = await asyncio.open_connection(self._host, self._port)
            async with asyncio.timeout(self._timeout_s):
                writer.write(head + data)
                status, length, keep_alive = parse_response_head(
                    await reader.readuntil(b"\r\n\r\n")
                )
                answer = await reader.readexactly(length)
            if keep_alive:
                self._idle.append((reader, writer))
            else:
                writer.close()
            return status, answer

    async def close(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()
