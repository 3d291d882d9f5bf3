"""What the API needs from the composition root, passed to `create_app`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast, runtime_checkable

from litestar import Request

from api.keys import KeyRing
from api.rate_limit import KeyRateLimit
from commands.ports import EventStore
from domain.records import GlobalPosition, RecordedEvent
from domain.routing import RoutePlan
from domain.tokens import Token


@runtime_checkable  # Litestar checks injected dependencies against their annotation
class EventLog(EventStore, Protocol):
    """The event store as the API reads it: streams plus the global log."""

    async def first_events(self, stream_ids: Sequence[str]) -> dict[str, RecordedEvent]:
        """The first event of each stream in one read, by stream id (absent: none)."""
        ...

    async def command_recorded(self, command_id: str) -> bool:
        """Whether an append under `command_id` is in the store."""
        ...

    async def read_all(
        self,
        after: GlobalPosition,
        limit: int,
        event_types: Sequence[str] | None = None,
        *,
        owner: str | None = None,
    ) -> list[RecordedEvent]:
        """The global log in commit order; only `owner`'s orders' events when given."""
        ...


class RouteQuoter(Protocol):
    """The route the engine would take now (`GET /api/quote`). Raises
    `domain.routing.NoRoute` when nothing fills the amount and
    `domain.routing.VenueUnavailable` when the venue does not answer."""

    async def plan(
        self, token_in: Token, token_out: Token, amount_in: int, slippage_bps: int
    ) -> RoutePlan: ...


class Holdings(Protocol):
    """What a wallet holds, in atomic units: native lamports and amounts by mint."""

    @property
    def address(self) -> str: ...
    @property
    def lamports(self) -> int: ...
    @property
    def by_mint(self) -> dict[str, int]: ...


class WalletReader(Protocol):
    """The engine's wallet on chain (`GET /api/wallet`). Raises
    `domain.routing.VenueUnavailable` when the node does not answer."""

    async def holdings(self) -> Holdings: ...


# A named probe for /ready: raises (or times out) when its service is down.
ReadinessProbe = Callable[[], Awaitable[None]]


@dataclass
class ApiServices:
    store: EventLog
    keys: KeyRing  # who may call
    rate_limit: KeyRateLimit | None = None  # submits and cancels per key (None: no limit)
    probes: dict[str, ReadinessProbe] = field(default_factory=dict)
    on_startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    on_shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    max_body_bytes: int = 64 * 1024
    # Browser origins allowed besides the API's own and loopback (`*`: any).
    allowed_origins: tuple[str, ...] = ()
    quotes: RouteQuoter | None = None
    wallet: WalletReader | None = None
    # An `api.read_side.ReadSide` (typed there: that module builds on this one).
    read_side: object = None
    # The pool's `pop_stats`, for `/metrics`; and the directory every API process
    # keeps its figures in when there are several (None: this process's own).
    pool_stats: Callable[[], Mapping[str, int]] | None = None
    metrics_dir: Path | None = None


SERVICES_STATE_KEY = "services"


def services_of(request: Request[Any, Any, Any]) -> ApiServices:
    """The services from app state: for hot paths, where dependency injection's
    per-request validation of a Protocol-typed value costs more than the handler."""
    return cast(ApiServices, request.app.state[SERVICES_STATE_KEY])
