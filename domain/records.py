"""How events look on their way into and out of the event store.

Plain data shared by the store (`db/`) and the handlers (`commands/`), plus the two
ways an append can be refused. Event data stays JSON bytes here; `domain.events`
turns it into typed events.
"""

from __future__ import annotations

from datetime import datetime

import msgspec


class EventMetadata(msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True):
    """Why an event was written: the chain of causes an audit follows."""

    command_id: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    actor: str = "engine"


class NewEvent(msgspec.Struct, frozen=True):
    event_id: str
    event_type: str
    data: bytes
    metadata: EventMetadata


class RecordedEvent(msgspec.Struct, frozen=True, kw_only=True):
    global_position: int
    tx_id: int
    stream_id: str
    stream_version: int
    event_id: str
    event_type: str
    schema_version: int
    data: bytes
    metadata: bytes
    recorded_at: datetime


_metadata = msgspec.json.Decoder(EventMetadata)


def actor_of(event: RecordedEvent) -> str:
    """Who wrote `event` (of an `OrderSubmitted`: the API key's name, the order's owner)."""
    return _metadata.decode(event.metadata).actor


class AppendResult(msgspec.Struct, frozen=True):
    """Versions the append wrote, or wrote earlier when `duplicate` (same command id)."""

    stream_id: str
    first_version: int
    last_version: int
    duplicate: bool


class GlobalPosition(msgspec.Struct, frozen=True, order=True):
    """A place in the global log; commit order is (tx_id, global_position)."""

    tx_id: int
    global_position: int


START = GlobalPosition(0, 0)


class StoreError(Exception):
    """Base of the event store's refusals."""


class ConcurrencyConflict(StoreError):
    """The stream moved past the expected version: someone else appended first."""


class CommandConflict(StoreError):
    """A command id (idempotency key) was reused with a different request."""

    def __init__(self, command_id: str, stream_id: str) -> None:
        super().__init__(f"command {command_id!r} was already used with a different request")
        self.command_id = command_id
        self.stream_id = stream_id


class StoreUnavailable(StoreError):
    """The store cannot be reached in time; nothing was written."""
