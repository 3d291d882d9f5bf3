"""What the API needs from the composition root, passed to `create_app`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from commands.ports import EventStore
from domain.records import GlobalPosition, RecordedEvent


@runtime_checkable  # Litestar checks injected dependencies against their annotation
class EventLog(EventStore, Protocol):
    """The event store as the API reads it: streams plus the global log."""

    async def read_all(
        self,
        after: GlobalPosition,
        limit: int,
        event_types: Sequence[str] | None = None,
    ) -> list[RecordedEvent]: ...


# A named probe for /ready: raises (or times out) when its service is down.
ReadinessProbe = Callable[[], Awaitable[None]]


@dataclass
class ApiServices:
    store: EventLog
    probes: dict[str, ReadinessProbe] = field(default_factory=dict)
    on_startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    on_shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    max_body_bytes: int = 64 * 1024
