"""The JSON shapes clients send and receive (API.md), as msgspec Structs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from domain.submission import DEFAULT_SLIPPAGE_BPS, MAX_SLIPPAGE_BPS


class Camel(msgspec.Struct, rename="camel", kw_only=True):
    pass


class SubmitOrderBody(Camel, forbid_unknown_fields=True):
    """`amountIn` stays raw JSON so "1.5" and 1.5 are both read exactly, never via float."""

    type: str
    token_in: str
    token_out: str
    amount_in: msgspec.Raw
    slippage_bps: Annotated[int, msgspec.Meta(ge=0, le=MAX_SLIPPAGE_BPS)] = DEFAULT_SLIPPAGE_BPS


class OrderLinks(Camel):
    self: str
    events: str
    stream: str


class SubmitAccepted(Camel):
    order_id: str
    status: str
    links: OrderLinks


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


class Readiness(Camel):
    status: str
    postgres: str
    redis: str


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
