"""An in-memory event store with the same contract as the PostgreSQL one.

For unit tests and the contract suite (`tests/contract/`), which runs the same
checks against both. Commit order is append order, since appends are serialised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import msgspec

from domain.records import (
    AppendResult,
    CommandConflict,
    ConcurrencyConflict,
    GlobalPosition,
    NewEvent,
    RecordedEvent,
    actor_of,
)

_encoder = msgspec.json.Encoder()


class _CommandRecord(msgspec.Struct, frozen=True):
    request_hash: str
    result: AppendResult


class InMemoryEventStore:
    def __init__(self) -> None:
        self._events: list[RecordedEvent] = []
        self._streams: dict[str, list[RecordedEvent]] = {}
        self._commands: dict[str, _CommandRecord] = {}
        self._event_ids: set[str] = set()
        self._lock = asyncio.Lock()

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        *,
        command_id: str | None = None,
        request_hash: str = "",
    ) -> AppendResult:
        async with self._lock:
            if command_id is not None and command_id in self._commands:
                done = self._commands[command_id]
                if done.request_hash != request_hash:
                    raise CommandConflict(command_id, done.result.stream_id)
                return msgspec.structs.replace(done.result, duplicate=True)
            stream = self._streams.get(stream_id, [])
            if len(stream) != expected_version:
                raise ConcurrencyConflict(
                    f"stream {stream_id} is at version {len(stream)}, expected {expected_version}"
                )
            if any(event.event_id in self._event_ids for event in events):
                raise ConcurrencyConflict(f"stream {stream_id}: event id already stored")
            recorded = [
                _record(stream_id, expected_version + offset, len(self._events) + offset, event)
                for offset, event in enumerate(events, start=1)
            ]
            self._events.extend(recorded)
            self._streams[stream_id] = stream + recorded
            self._event_ids.update(event.event_id for event in events)
            result = AppendResult(
                stream_id, expected_version + 1, expected_version + len(events), False
            )
            if command_id is not None:
                self._commands[command_id] = _CommandRecord(request_hash, result)
            return result

    async def command_recorded(self, command_id: str) -> bool:
        return command_id in self._commands

    async def read_stream(self, stream_id: str, after_version: int = 0) -> list[RecordedEvent]:
        return list(self._streams.get(stream_id, [])[after_version:])

    async def read_streams(self, stream_ids: Sequence[str]) -> dict[str, list[RecordedEvent]]:
        return {sid: list(self._streams[sid]) for sid in stream_ids if sid in self._streams}

    async def first_events(self, stream_ids: Sequence[str]) -> dict[str, RecordedEvent]:
        return {sid: self._streams[sid][0] for sid in stream_ids if self._streams.get(sid)}

    async def read_all(
        self,
        after: GlobalPosition,
        limit: int,
        event_types: Sequence[str] | None = None,
        *,
        owner: str | None = None,
    ) -> list[RecordedEvent]:
        page = []
        for event in self._events:
            if owner is not None and actor_of(self._streams[event.stream_id][0]) != owner:
                continue
            if GlobalPosition(event.tx_id, event.global_position) <= after:
                continue
            if event_types and event.event_type not in event_types:
                continue
            page.append(event)
            if len(page) == limit:
                break
        return page


def _record(stream_id: str, version: int, position: int, event: NewEvent) -> RecordedEvent:
    return RecordedEvent(
        global_position=position,
        tx_id=position,
        stream_id=stream_id,
        stream_version=version,
        event_id=event.event_id,
        event_type=event.event_type,
        schema_version=1,
        data=event.data,
        metadata=_encoder.encode(event.metadata),
        recorded_at=datetime.now(UTC),
    )
