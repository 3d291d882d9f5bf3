"""`orderengine history`: an order's timeline in words, for a post-mortem.

Each event on one line, then what it meant: the quotes the engine saw, the route it
chose and why (best single venue versus the split), each attempt and its failure.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.amounts import format_amount
from domain.events import (
    AttemptFailed,
    CancelRequested,
    ExitRearmed,
    ExitTriggered,
    OrderArmed,
    OrderCancelled,
    OrderConfirmed,
    OrderEvent,
    OrderExpired,
    OrderFailed,
    OrderRearmed,
    OrderSubmitted,
    PoolMatched,
    PoolSkipped,
    PositionClosed,
    PositionOpened,
    RouteLeg,
    RouteSelected,
    RoutingStarted,
    TransactionSent,
    TransactionSigned,
    TriggerFired,
    decode_event,
)
from domain.order_state import OrderState, evolve, order_tokens
from domain.records import RecordedEvent
from domain.tokens import Token


def timeline(events: Sequence[RecordedEvent], at_version: int | None = None) -> list[str]:
    """Lines describing the order's events up to `at_version` (all when None)."""
    lines: list[str] = []
    state: OrderState | None = None
    for recorded in events:
        if at_version is not None and recorded.stream_version > at_version:
            break
        event = decode_event(recorded.event_type, recorded.data)
        state = evolve(state, event)
        when = recorded.recorded_at.isoformat(timespec="milliseconds")
        head = f"v{recorded.stream_version:<3} {when}  {recorded.event_type:<18} -> {state.status}"
        lines.append(head)
        lines.extend(f"       {line}" for line in _details(event, state))
    return lines


def _details(event: OrderEvent, state: OrderState) -> list[str]:
    token_in, token_out = order_tokens(state)
    match event:
        case OrderSubmitted():
            amount = format_amount(event.amount_in, token_in)
            lines = [
                f"{event.order_type} {amount} {token_in.symbol} -> {token_out.symbol},"
                f" slippage {event.slippage_bps} bps"
            ]
            if event.parent_order_id is not None:
                lines.append(
                    f"the exit of sniper order {event.parent_order_id}: sells its position"
                )
            if event.limit_amount_out is not None:
                least = format_amount(event.limit_amount_out, token_out)
                lines.append(
                    f"limit: at least {least} {token_out.symbol}, until {event.expires_at}"
                )
            return lines
        case PoolSkipped():
            return [f"pool {event.pool} (slot {event.slot}) skipped: {event.filter} refused it"]
        case PoolMatched():
            verdicts = ", ".join(f"{v.filter} {v.seen} ok" for v in event.verdicts)
            return [
                f"matched pool {event.pool} ({event.venue}, slot {event.slot}): token"
                f" {event.token_out}, opens at unix {event.open_time}; {verdicts or 'no filters'}"
            ]
        case OrderArmed(generation=generation):
            return [f"armed (arm {generation}): waiting for a quote that meets the limit"]
        case TriggerFired():
            out = format_amount(event.quote.expected_amount_out, token_out)
            return [
                f"fired in slot {event.slot} at {event.fired_at.isoformat()}: the best route"
                f" gave {out} {token_out.symbol} (impact {event.quote.price_impact})",
                *_legs(event.quote.legs, token_in, token_out),
            ]
        case OrderRearmed():
            return [f"re-armed (arm {event.generation}) after {event.code} ({event.reason})"]
        case OrderExpired(reason=reason):
            return [f"expired: {reason}"]
        case CancelRequested():
            return ["cancel requested: a sent transaction may still land"]
        case OrderCancelled(reason=reason):
            return [f"cancelled: {reason}"]
        case RoutingStarted(attempt=attempt):
            return [f"attempt {attempt}: asking every venue for a quote"]
        case RouteSelected():
            return _route_details(event, token_in, token_out)
        case TransactionSigned():
            return [
                f"signed {event.signature} (blockhash {event.blockhash},"
                f" valid until block {event.last_valid_block_height})"
            ]
        case TransactionSent():
            return [f"sent {event.signature}"]
        case OrderConfirmed():
            out = format_amount(event.amount_out, token_out)
            late = " (after expiresAt)" if event.filled_after_expiry else ""
            too_late = " (the cancel came too late)" if state.cancel_requested else ""
            return [
                f"confirmed in slot {event.slot}{late}{too_late}: received {out}"
                f" {token_out.symbol}",
                *_legs(event.legs, token_in, token_out),
            ]
        case AttemptFailed():
            then = f"retry in {event.retry_after_ms} ms" if event.will_retry else "no retry"
            return [f"attempt {event.attempt} failed: {event.code} ({event.reason}); {then}"]
        case OrderFailed():
            return [f"order failed: {event.code} ({event.reason})"]
        case PositionOpened():
            return [
                f"holding {format_amount(event.tokens, token_out)} {token_out.symbol}, bought"
                f" in slot {event.slot} for {format_amount(event.cost, token_in)}"
                f" {token_in.symbol}: entry price {event.entry_price} {token_in.symbol} per token"
            ]
        case ExitTriggered():
            seen = (
                "on the client's cancel"
                if event.value is None
                else f"in slot {event.slot}: the position would sell for"
                f" {format_amount(event.value, token_in)} {token_in.symbol}"
            )
            return [
                f"exit (arm {event.generation}) by {event.reason} {seen};"
                f" child order {event.exit_order_id} sells it"
            ]
        case PositionClosed():
            return [
                f"exit order {event.exit_order_id} confirmed in slot {event.slot}: sold for"
                f" {format_amount(event.proceeds, token_in)} {token_in.symbol}"
            ]
        case ExitRearmed():
            return [
                f"exit order {event.exit_order_id} ended without selling: {event.code}"
                f" ({event.reason}); the exit re-arms (arm {event.generation})"
            ]


def _route_details(event: RouteSelected, token_in: Token, token_out: Token) -> list[str]:
    lines = [f"quotes seen (context slot {event.context_slot}):"]
    lines.extend(
        f"  {quote.venue:<8} {quote.label:<14} {quote.pool}: "
        f"{format_amount(quote.amount_out, token_out)} {token_out.symbol},"
        f" fee {format_amount(quote.fee_amount, token_in)} {token_in.symbol},"
        f" impact {quote.price_impact}"
        for quote in sorted(event.quotes, key=lambda q: q.amount_out, reverse=True)
    )
    lines.append("route chosen:")
    lines.extend(_legs(event.legs, token_in, token_out))
    expected = format_amount(event.expected_amount_out, token_out)
    least = format_amount(event.min_amount_out, token_out)
    lines.append(f"expected {expected} {token_out.symbol}, at least {least} (slippage bound)")
    lines.append(f"why: {_why(event, token_out)}")
    return lines


def _why(event: RouteSelected, token_out: Token) -> str:
    if not event.quotes:
        return "no quotes recorded"
    best = max(event.quotes, key=lambda q: q.amount_out)
    best_text = f"{best.venue} alone offered {format_amount(best.amount_out, token_out)}"
    if len(event.legs) > 1:
        gain = event.expected_amount_out - best.amount_out
        return (
            f"splitting beats the best single venue ({best_text}) by"
            f" {format_amount(gain, token_out)} {token_out.symbol}"
        )
    return f"the best price: {best_text} {token_out.symbol}"


def _legs(legs: Sequence[RouteLeg], token_in: Token, token_out: Token) -> list[str]:
    return [
        f"  {leg.venue:<8} {leg.label:<14} {leg.pool}: {format_amount(leg.amount_in, token_in)}"
        f" {token_in.symbol} -> {format_amount(leg.amount_out, token_out)} {token_out.symbol}"
        for leg in legs
    ]
