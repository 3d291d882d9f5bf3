"""Who is calling: bearer keys checked against `api_keys`, cached briefly per process.

Verified keys are cached for `ttl_s` (the hot path makes no query per request); a
watcher reads the revoked names every `watch_every_s`, drops them from the cache and
closes their open WebSockets, so a revocation reaches every API process within a second
even while a key is in constant use.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import psycopg
from psycopg_pool import PoolTimeout

from db.api_keys import KeyRecord, digest_matches, key_id_of

log = logging.getLogger("api.keys")


@dataclass(frozen=True)
class Caller:
    """The key a request came with: its name (the actor and owner) and its rights."""

    name: str
    admin: bool

    def owns(self, owner: str | None) -> bool:
        """Whether this caller may see an order submitted by `owner`."""
        return self.admin or owner == self.name


class KeySource(Protocol):
    async def by_id(self, key_id: str) -> KeyRecord | None: ...
    async def revoked_names(self) -> frozenset[str]: ...


@dataclass
class _Socket:
    name: str
    on_revoked: Callable[[], Awaitable[None]]


@dataclass
class KeyRing:
    source: KeySource
    secret: bytes
    max_sockets_per_key: int = 100
    ttl_s: float = 0.5
    watch_every_s: float = 0.25
    _cache: dict[str, tuple[KeyRecord, float]] = field(default_factory=dict)
    _revoked: frozenset[str] = frozenset()
    _sockets: dict[int, _Socket] = field(default_factory=dict)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start watching revocations (an app start-up hook)."""
        self._stop.clear()
        self._task = asyncio.create_task(self.watch(self._stop))

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    async def caller(self, key: str) -> Caller | None:
        """The caller `key` stands for; None for a malformed, unknown or revoked key."""
        key_id = key_id_of(key)
        if key_id is None:
            return None
        now = time.monotonic()
        cached = self._cache.get(key_id)
        if cached is None or now - cached[1] > self.ttl_s:
            record = await self.source.by_id(key_id)
            if record is None:
                return None
            self._cache[key_id] = (record, now)
        else:
            record = cached[0]
        if record.revoked_at is not None or record.name in self._revoked:
            return None
        if not digest_matches(self.secret, key, record.key_hash):
            return None
        return Caller(record.name, record.admin)

    def open_socket(self, caller: Caller, on_revoked: Callable[[], Awaitable[None]]) -> int | None:
        """Count a WebSocket of `caller` (None: it has `max_sockets_per_key` open here)."""
        if sum(1 for s in self._sockets.values() if s.name == caller.name) >= (
            self.max_sockets_per_key
        ):
            return None
        token = id(on_revoked)
        self._sockets[token] = _Socket(caller.name, on_revoked)
        return token

    def close_socket(self, token: int) -> None:
        self._sockets.pop(token, None)

    async def watch(self, stop: asyncio.Event) -> None:
        """Until `stop`: apply revocations (cache, open sockets) as they are made."""
        while not stop.is_set():
            try:
                await self.refresh()
            except (psycopg.Error, PoolTimeout) as error:  # the next look tries again
                log.warning("revoked keys unreadable", extra={"error": str(error)})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.watch_every_s)

    async def refresh(self) -> None:
        revoked = await self.source.revoked_names()
        fresh = revoked - self._revoked
        self._revoked = revoked
        if not fresh:
            return
        for key_id, (record, _) in list(self._cache.items()):
            if record.name in fresh:
                del self._cache[key_id]
        closing = [s for s in self._sockets.values() if s.name in fresh]
        for socket in closing:
            with contextlib.suppress(Exception):
                await socket.on_revoked()
