"""A keep-alive HTTP/1.1 JSON client on asyncio streams, for the service tests."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec


class JsonClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def connect(cls, port: int) -> JsonClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def raw(self, payload: bytes) -> tuple[int, dict[str, str], bytes]:
        self._writer.write(payload)
        await self._writer.drain()
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").strip().split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.lower()] = value.strip()
        body = await self._reader.readexactly(int(headers["content-length"]))
        return int(status_line.split(" ")[1]), headers, body

    async def call(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        data = b"" if body is None else msgspec.json.encode(body)
        head = f"{method} {path} HTTP/1.1\r\nHost: test\r\nContent-Length: {len(data)}\r\n\r\n"
        status, _, raw = await self.raw(head.encode() + data)
        return status, msgspec.json.decode(raw)

    async def close(self) -> None:
        self._writer.close()
        await self._writer.wait_closed()
