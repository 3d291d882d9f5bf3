"""An event store that dies at a chosen append, before it reaches PostgreSQL, as a
SIGKILL of the process would there: for crash tests of the loops that append."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from commands.ports import EventStore
from domain.records import AppendResult, NewEvent, RecordedEvent


class Crash(Exception):
    """The process died here."""


class CrashingStore:
    """`store`, until `dies(command_id)` says the process dies at this append; once
    died, it stays dead (`crashed`) and raises `Crash` at every later append too."""

    def __init__(self, store: EventStore, dies: Callable[[str | None], bool]) -> None:
        self._store = store
        self._dies = dies
        self.crashed = False

    @classmethod
    def after(cls, store: EventStore, appends: int) -> CrashingStore:
        """Dies at the append after `appends` went through."""
        left = [appends]

        def dies(_: str | None) -> bool:
            left[0] -= 1
            return left[0] < 0

        return cls(store, dies)

    @classmethod
    def at(cls, store: EventStore, prefix: str) -> CrashingStore:
        """Dies at the first append whose command id starts with `prefix`."""
        return cls(store, lambda command_id: (command_id or "").startswith(prefix))

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        *,
        command_id: str | None = None,
        request_hash: str = "",
    ) -> AppendResult:
        if self.crashed or self._dies(command_id):
            self.crashed = True
            raise Crash(command_id)
        return await self._store.append(
            stream_id, expected_version, events, command_id=command_id, request_hash=request_hash
        )

    async def read_stream(self, stream_id: str, after_version: int = 0) -> list[RecordedEvent]:
        return await self._store.read_stream(stream_id, after_version)

    async def read_streams(self, stream_ids: Sequence[str]) -> dict[str, list[RecordedEvent]]:
        return await self._store.read_streams(stream_ids)
