"""Stored events as clients see them: amounts in token units, as decimal strings.

The store keeps amounts as integers of atomic units; which token an amount is in
follows from the field name and the order's pair (fees are charged on the input).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from api.schemas import EventView, RouteLegView, VenueQuoteView
from domain.amounts import format_amount
from domain.events import Quote, RouteLeg
from domain.records import RecordedEvent
from domain.tokens import Token, order_token

# `cost`, `value`, `proceeds`: a sniper's position and its sale, in tokenIn.
INPUT_AMOUNT_FIELDS = frozenset({"amountIn", "feeAmount", "cost", "value", "proceeds"})
OUTPUT_AMOUNT_FIELDS = frozenset(
    {"amountOut", "expectedAmountOut", "minAmountOut", "limitAmountOut"}
)


class OrderPair(msgspec.Struct, frozen=True):
    token_in: Token
    token_out: Token


def pair_of_submission(event: RecordedEvent) -> OrderPair | None:
    """The pair named by an order's first event (`OrderSubmitted`); None for a stream
    that is not an order's, whose amounts are then shown as stored."""
    if event.event_type != "OrderSubmitted":
        return None
    data = msgspec.json.decode(event.data)
    # A sniper names no tokenOut: its launched token's amounts stay atomic in events; an
    # exit's child spends the launched token, whose decimals it records.
    token_in = order_token(data["tokenIn"], data.get("tokenInDecimals") or 0)
    return OrderPair(token_in, order_token(data["tokenOut"], 0))


def present_event(event: RecordedEvent, pair: OrderPair | None) -> EventView:
    return EventView(
        version=event.stream_version,
        type=event.event_type,
        data=present_amounts(msgspec.json.decode(event.data), pair),
        metadata=msgspec.json.decode(event.metadata),
        recorded_at=event.recorded_at,
    )


def present_amounts(value: Any, pair: OrderPair | None) -> Any:
    """A copy of `value` with every amount field written in token units."""
    if pair is None:
        return value
    if isinstance(value, list):
        return [present_amounts(item, pair) for item in value]
    if not isinstance(value, dict):
        return value
    shown: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, int) and key in INPUT_AMOUNT_FIELDS:
            shown[key] = format_amount(item, pair.token_in)
        elif isinstance(item, int) and key in OUTPUT_AMOUNT_FIELDS:
            shown[key] = format_amount(item, pair.token_out)
        else:
            shown[key] = present_amounts(item, pair)
    return shown


def present_legs(legs: Sequence[RouteLeg], pair: OrderPair) -> list[RouteLegView]:
    return [
        RouteLegView(
            venue=leg.venue,
            pool=leg.pool,
            label=leg.label,
            amount_in=format_amount(leg.amount_in, pair.token_in),
            amount_out=format_amount(leg.amount_out, pair.token_out),
        )
        for leg in legs
    ]


def present_quotes(quotes: Sequence[Quote], pair: OrderPair) -> list[VenueQuoteView]:
    """Each pool's offer for the whole amount; fees are charged on the input token."""
    return [
        VenueQuoteView(
            venue=quote.venue,
            pool=quote.pool,
            label=quote.label,
            amount_out=format_amount(quote.amount_out, pair.token_out),
            fee_amount=format_amount(quote.fee_amount, pair.token_in),
            price_impact=quote.price_impact,
        )
        for quote in quotes
    ]
