"""What the API needs from the composition root, passed to `create_app`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast, runtime_checkable

from litestar import Request

from commands.ports import EventStore
from domain.records import GlobalPosition, RecordedEvent
from domain.routing import RoutePlan
from domain.tokens import Token


@runtime_checkable  # Litestar checks injected dependencies against their annotation
class EventLog(EventStore, Protocol):
    """The event store as the API reads it: streams plus the global log."""

    async def read_all(
        self,
        after: GlobalPosition,
        limit: int,
        event_types: Sequence[str] | None = None,
    ) -> list[RecordedEvent]: ...


class RouteQuoter(Protocol):
    """The route the engine would take now (`GET /api/quote`). Raises
    `domain.routing.NoRoute` when nothing fills the amount and
    `domain.routing.VenueUnavailable` when the venue does not answer."""

    async def plan(
        self, token_in: Token, token_out: Token, amount_in: int, slippage_bps: int
    ) -> RoutePlan: ...


# A named probe for /ready: raises (or times out) when its service is down.
ReadinessProbe = Callable[[], Awaitable[None]]


@dataclass
class ApiServices:
    store: EventLog
    probes: dict[str, ReadinessProbe] = field(default_factory=dict)
    on_startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    on_shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    max_body_bytes: int = 64 * 1024
    quotes: RouteQuoter | None = None
    # An `api.read_side.ReadSide` (typed there: that module builds on this one).
    read_side: object = None


SERVICES_STATE_KEY = "services"


def services_of(request: Request[Any, Any, Any]) -> ApiServices:
    """The services from app state: for hot paths, where dependency injection's
    per-request validation of a Protocol-typed value costs more than the handler."""
    return cast(ApiServices, request.app.state[SERVICES_STATE_KEY])
