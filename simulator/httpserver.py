"""A small HTTP/1.1 server on asyncio streams: keep-alive, Content-Length bodies.

Just enough HTTP for a JSON RPC-style service: one request at a time per
connection (pipelined requests are answered in order), no chunked bodies, no TLS.
A malformed request is answered and the connection closed, since its framing can
no longer be trusted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

MAX_HEAD_BYTES = 16 * 1024
MAX_BODY_BYTES = 1024 * 1024

REASONS = {
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    422: "Unprocessable Content",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    505: "HTTP Version Not Supported",
}


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    version: str
    headers: dict[str, str]
    body: bytes

    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return connection == "keep-alive"
        return connection != "close"


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()

    def encode(self, keep_alive: bool) -> bytes:
        lines = [
            f"HTTP/1.1 {self.status} {REASONS.get(self.status, 'Unknown')}",
            f"Content-Type: {self.content_type}",
            f"Content-Length: {len(self.body)}",
            f"Connection: {'keep-alive' if keep_alive else 'close'}",
            *(f"{name}: {value}" for name, value in self.headers),
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


class HttpError(Exception):
    """The request cannot be read; answered with `status` and a closed connection."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


Handler = Callable[[Request], Response]
ErrorPage = Callable[[int, str], Response]


async def read_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> Request | None:
    """The next request on the connection, or None when the client hung up."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        if error.partial.strip():
            raise HttpError(400, "connection closed inside the request head") from error
        return None
    except asyncio.LimitOverrunError as error:
        raise HttpError(431, f"request head exceeds {MAX_HEAD_BYTES} bytes") from error
    request_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
    parts = request_line.split(" ")
    if len(parts) != 3:
        raise HttpError(400, f"malformed request line {request_line!r}")
    method, target, version = parts
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise HttpError(505, f"unsupported protocol {version!r}")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, separator, value = line.partition(":")
        if not separator:
            raise HttpError(400, f"malformed header line {line!r}")
        headers[name.strip().lower()] = value.strip()
    if headers.get("expect", "").lower() == "100-continue":
        # curl asks before sending a large body; answering saves it a 1 s wait.
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    body = await _read_body(reader, headers)
    return Request(method, target.partition("?")[0], version, headers, body)


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "transfer-encoding" in headers:
        raise HttpError(501, "chunked bodies are not supported; send Content-Length")
    raw_length = headers.get("content-length", "0")
    if not raw_length.isdigit():
        raise HttpError(400, f"invalid Content-Length {raw_length!r}")
    length = int(raw_length)
    if length > MAX_BODY_BYTES:
        raise HttpError(413, f"body exceeds {MAX_BODY_BYTES} bytes")
    try:
        return await reader.readexactly(length) if length else b""
    except asyncio.IncompleteReadError as error:
        raise HttpError(400, "connection closed inside the body") from error


async def serve_connection(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    handle: Handler,
    error_page: ErrorPage,
) -> None:
    """Answer requests on one connection until the client or an error closes it."""
    try:
        while True:
            try:
                request = await read_request(reader, writer)
            except HttpError as error:
                writer.write(error_page(error.status, error.message).encode(keep_alive=False))
                await writer.drain()
                return
            if request is None:
                return
            keep_alive = request.keep_alive()
            writer.write(handle(request).encode(keep_alive))
            await writer.drain()
            if not keep_alive:
                return
    except ConnectionError:
        return  # the client went away mid-answer; nothing left to tell it
    finally:
        writer.close()
