"""The order snapshot as clients see it (API.md, "Snapshot"): token units, decimal
strings, and the executed price computed here at the edge."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import msgspec

from api.presenting import OrderPair, present_legs, present_quotes
from api.schemas import Camel, RouteLegView, VenueQuoteView
from domain.amounts import format_amount
from domain.order_state import OrderState, order_tokens
from domain.tokens import Token
from projections.rows import chosen_venue
from projections.snapshot import OrderSnapshot


class TriggerQuoteView(Camel):
    """The quote that fired a limit order: the best route for the whole amount."""

    expected_amount_out: str
    price_impact: str
    route: list[RouteLegView]


class MatchedPoolView(Camel):
    """The pool a sniper matched: where, when, and each filter's verdict."""

    pool: str
    venue: str
    slot: int | None
    open_time: int | None
    verdicts: list[dict[str, Any]]


class OrderSnapshotView(Camel):
    order_id: str
    type: str
    status: str
    token_in: str
    token_out: str
    amount_in: str
    slippage_bps: int
    route: list[RouteLegView]
    quotes: list[VenueQuoteView]
    chosen_venue: str | None
    expected_amount_out: str | None
    min_amount_out: str | None
    amount_out: str | None
    executed_price: str | None
    tx_hash: str | None
    slot: int | None
    attempts: int
    failure_reason: str | None
    failure_code: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    # Limit orders (null for market orders); `minAmountOut` is then the limit itself.
    limit_price: str | None = None
    expires_at: datetime | None = None
    triggered_at: datetime | None = None
    trigger_slot: int | None = None
    trigger_quote: TriggerQuoteView | None = None
    filled_after_expiry: bool | None = None
    cancel_requested: bool = False  # a cancel waits for a sent transaction to end
    # Sniper orders (null for the others).
    target: dict[str, str] | None = None
    filters: dict[str, Any] | None = None
    max_price: str | None = None
    delay_slots: int | None = None
    priority_fee: int | None = None
    matched_pool: MatchedPoolView | None = None
    entry_price: str | None = None  # tokenIn paid per launched token
    pools_skipped: int | None = None
    last_skipped: dict[str, str] | None = None
    # Sniper exits: the terms, the child order that sells and why, what the sale gave.
    exit: dict[str, int] | None = None
    exit_order_id: str | None = None
    exit_reason: str | None = None  # takeProfit | stopLoss | maxHold | cancel
    exit_proceeds: str | None = None  # tokenIn the sale gave, once the child confirmed
    # An exit's child order (a market order): the sniper whose position it sells.
    parent_order_id: str | None = None


class OrderPage(Camel):
    items: list[OrderSnapshotView]
    next_cursor: str | None


def present_snapshot(snapshot: OrderSnapshot) -> OrderSnapshotView:
    state = snapshot.state
    token_in, token_out = order_tokens(state)
    pair = OrderPair(token_in, token_out)
    return OrderSnapshotView(
        order_id=state.order_id,
        type=state.order_type,
        status=str(state.status),
        token_in=state.token_in,
        token_out=state.token_out,
        amount_in=format_amount(state.amount_in, token_in),
        slippage_bps=state.slippage_bps,
        route=present_legs(state.legs, pair),
        quotes=present_quotes(state.quotes, pair),
        chosen_venue=chosen_venue(state.legs),
        expected_amount_out=_amount(state.expected_amount_out, token_out),
        min_amount_out=_amount(
            state.min_amount_out if state.limit_amount_out is None else state.limit_amount_out,
            token_out,
        ),
        amount_out=_amount(state.amount_out, token_out),
        executed_price=executed_price(state.amount_in, state.amount_out, token_in, token_out),
        tx_hash=state.signature,
        slot=state.slot,
        attempts=state.attempts,
        failure_reason=state.failure_reason,
        failure_code=state.failure_code,
        version=state.version,
        created_at=snapshot.created_at,
        updated_at=snapshot.updated_at,
        cancel_requested=state.cancel_requested,
        parent_order_id=state.parent_order_id,
        **_limit_fields(state, pair),
        **_sniper_fields(state, pair),
    )


def _sniper_fields(state: OrderState, pair: OrderPair) -> dict[str, Any]:
    terms = state.sniper
    if terms is None:
        return {}
    target = {"mint": terms.target_mint} if terms.target_mint else None
    if terms.target_creator:
        target = {"creator": terms.target_creator}
    filters = msgspec.to_builtins(terms)
    for key in ("targetMint", "targetCreator", "maxPrice", "delaySlots", "priorityFee", "exit"):
        filters.pop(key, None)
    for key in ("minLiquidity", "maxLiquidity"):
        if key in filters:
            filters[key] = format_amount(filters[key], pair.token_in)
    filters.setdefault("requireMintRenounced", False)
    filters.setdefault("requireNotFreezable", True)
    matched = None
    if state.matched_pool is not None:
        matched = MatchedPoolView(
            pool=state.matched_pool,
            venue=state.matched_venue or "",
            slot=state.match_slot,
            open_time=state.pool_open_time,
            verdicts=[msgspec.to_builtins(v) for v in state.match_verdicts],
        )
    skipped = None
    if state.last_skipped_pool is not None:
        skipped = {"pool": state.last_skipped_pool, "filter": state.last_skipped_filter or ""}
    entry = executed_price(state.amount_out or 0, state.amount_in, pair.token_out, pair.token_in)
    return {
        "expires_at": state.expires_at,
        "triggered_at": state.triggered_at,
        "trigger_slot": state.trigger_slot,
        "target": target,
        "filters": filters,
        "max_price": terms.max_price,
        "delay_slots": terms.delay_slots,
        "priority_fee": terms.priority_fee,
        "matched_pool": matched,
        "entry_price": state.entry_price or (entry if state.amount_out else None),
        "pools_skipped": state.pools_skipped,
        "last_skipped": skipped,
        "exit": None if terms.exit is None else msgspec.to_builtins(terms.exit),
        "exit_order_id": state.exit_order_id,
        "exit_reason": state.exit_reason,
        "exit_proceeds": _amount(state.exit_proceeds, pair.token_in),
    }


def _limit_fields(state: OrderState, pair: OrderPair) -> dict[str, Any]:
    if state.limit_amount_out is None:
        return {}
    quote = state.trigger_quote
    return {
        "limit_price": state.limit_price,
        "expires_at": state.expires_at,
        "triggered_at": state.triggered_at,
        "trigger_slot": state.trigger_slot,
        "trigger_quote": None
        if quote is None
        else TriggerQuoteView(
            expected_amount_out=format_amount(quote.expected_amount_out, pair.token_out),
            price_impact=quote.price_impact,
            route=present_legs(quote.legs, pair),
        ),
        "filled_after_expiry": state.filled_after_expiry,
    }


def executed_price(
    amount_in: int, amount_out: int | None, token_in: Token, token_out: Token
) -> str | None:
    """tokenOut received per tokenIn paid, to the output token's precision."""
    if amount_out is None or amount_in <= 0:
        return None
    price = Decimal(amount_out).scaleb(-token_out.decimals) / Decimal(amount_in).scaleb(
        -token_in.decimals
    )
    step = Decimal(1).scaleb(-token_out.decimals)
    return _plain(price.quantize(step, rounding=ROUND_HALF_EVEN))


def _plain(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _amount(atomic: int | None, token: Token) -> str | None:
    return None if atomic is None else format_amount(atomic, token)
