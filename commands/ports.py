"""What the handlers need from the outside world, as structural protocols.

`db.event_store.PostgresEventStore` and `db.memory.InMemoryEventStore` both satisfy
`EventStore` without importing this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.records import AppendResult, NewEvent, RecordedEvent


class EventStore(Protocol):
    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        *,
        command_id: str | None = None,
        request_hash: str = "",
    ) -> AppendResult: ...

    async def read_stream(self, stream_id: str, after_version: int = 0) -> list[RecordedEvent]: ...
