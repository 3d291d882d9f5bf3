"""A small closed-loop HTTP/1.1 load generator: C keep-alive connections, N requests.

Hand-written on asyncio streams because a general client (httpx) costs more CPU per
request than the server under test, and this machine has two cores for both.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import msgspec


class LoadResult(msgspec.Struct):
    latencies_s: list[float]
    statuses: dict[int, int]
    seconds: float

    @property
    def rate(self) -> float:
        return len(self.latencies_s) / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_s)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def post_request(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def run_load(
    host: str,
    port: int,
    make_request: Callable[[int], bytes],
    *,
    total: int,
    concurrency: int,
) -> LoadResult:
    """Send `total` requests over `concurrency` connections, each waiting for its reply."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    next_index = 0

    async def connection() -> None:
        nonlocal next_index
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while next_index < total:
                index = next_index
                next_index += 1
                started = time.perf_counter()
                writer.write(make_request(index))
                status = await _read_response(reader)
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return LoadResult(latencies, statuses, time.perf_counter() - started)


async def _read_response(reader: asyncio.StreamReader) -> int:
    status, length, _ = parse_response_head(await reader.readuntil(b"\r\n\r\n"))
    if length:
        await reader.readexactly(length)
    return status


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
