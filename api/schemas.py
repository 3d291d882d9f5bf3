"""The JSON shapes clients send and receive (API.md), as msgspec Structs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from domain.submission import MAX_SLIPPAGE_BPS


class Camel(msgspec.Struct, rename="camel", kw_only=True):
    pass


class SubmitOrderBody(Camel, forbid_unknown_fields=True):
    """Amounts and prices stay raw JSON so "1.5" and 1.5 are both read exactly, never via
    float; an absent one is empty. `slippageBps` absent is the type's default (50 for
    market orders, 0 for limit orders)."""

    type: str
    token_in: str
    amount_in: msgspec.Raw
    token_out: str = ""  # a sniper order names none: it buys the launched token
    slippage_bps: Annotated[int, msgspec.Meta(ge=0, le=MAX_SLIPPAGE_BPS)] | None = None
    limit_price: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)
    min_amount_out: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)
    expires_at: datetime | None = None
    # Sniper orders (API.md "Sniper orders"); amounts raw, as above.
    target: dict[str, Any] | None = None
    filters: dict[str, msgspec.Raw] | None = None
    max_price: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)
    delay_slots: int | None = None
    priority_fee: int | None = None
    exit: dict[str, Any] | None = None


class OrderLinks(Camel):
    self: str
    events: str
    stream: str


class SubmitAccepted(Camel, omit_defaults=True):
    order_id: str
    status: str
    links: OrderLinks
    warnings: list[str] = msgspec.field(default_factory=list)  # limit orders: an unlikely limit


class EventView(Camel):
    version: int
    type: str
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime


class AuditEventView(EventView):
    order_id: str
    cursor: str


class AuditPage(Camel):
    items: list[AuditEventView]
    next_cursor: str


class Health(Camel):
    status: str


class Readiness(Camel, omit_defaults=True):
    status: str
    postgres: str
    redis: str
    # In a process that serves WebSockets: "ok" once its tailer has a start position.
    live_feed: str | None = None


class RouteLegView(Camel):
    """One pool's share of a route, in token units."""

    venue: str
    pool: str
    label: str
    amount_in: str
    amount_out: str


class VenueQuoteView(Camel):
    """What one pool offers for the whole amount (the fee is in the input token)."""

    venue: str
    pool: str
    label: str
    amount_out: str
    fee_amount: str
    price_impact: str


class QuoteView(Camel):
    token_in: str
    token_out: str
    amount_in: str
    slippage_bps: int
    chosen_venue: str
    expected_amount_out: str
    min_amount_out: str
    price: str  # tokenOut per tokenIn, for people; the amounts are exact
    price_impact: str
    context_slot: int
    route: list[RouteLegView]
    quotes: list[VenueQuoteView]


class TokenView(Camel):
    symbol: str
    mint: str
    decimals: int
    max_amount: str  # the largest amountIn of this token an order may name


class PoolView(Camel):
    venue: str
    pool: str
    label: str


class PairView(Camel):
    """`price`: `quote` per one `base` now, after fees (null while the venue is down)."""

    base: str
    quote: str
    price: str | None
    pools: list[PoolView] | None


class Universe(Camel):
    tokens: list[TokenView]
    pairs: list[PairView]


class BalanceView(Camel):
    token: str
    amount: str


class WalletView(Camel):
    """`feeBalance`: native SOL, which pays the network fees."""

    address: str
    balances: list[BalanceView]
    fee_balance: str
