"""One kept aiohttp `ClientSession` per client: keep-alive connections, a bounded pool.

The session is made on first use, inside the loop that uses it (aiohttp binds it to
that loop). A connection refused, reset or timed out is `VenueUnavailable`; the answer
of a server that did answer is the caller's to read.
"""

from __future__ import annotations

from typing import Protocol

import aiohttp

from domain.routing import VenueUnavailable


class Transport(Protocol):
    """What the RPC and quote clients send requests through: `HttpClient`, or, in
    tests, the simulator's answers without a socket."""

    async def request(
        self, method: str, path: str, body: bytes | None = None
    ) -> tuple[int, bytes]: ...

    async def close(self) -> None: ...


class HttpClient:
    def __init__(self, base_url: str, timeout_s: float = 5.0, max_connections: int = 16) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._max_connections, ttl_dns_cache=None)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                skip_auto_headers=("User-Agent",),
                cookie_jar=aiohttp.DummyCookieJar(),  # an RPC node sets none worth keeping
            )
        return self._session

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """(status, body) of one request; VenueUnavailable when no answer came."""
        headers = {"Content-Type": "application/json"} if body is not None else None
        try:
            async with self._open().request(
                method, self._base_url + path, data=body, headers=headers
            ) as response:
                return response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise VenueUnavailable(f"{method} {self._base_url}{path}: {error!r}") from error

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
