"""Valid market-order histories, made by the domain's own `decide` (so never an
impossible sequence), for property tests and for driving streams in tests."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from hypothesis import strategies as st

from commands.envelopes import wrap_events
from domain.commands import (
    ConfirmOrder,
    FailAttempt,
    FailOrder,
    MarkSent,
    OrderCommand,
    SelectRoute,
    SignTransaction,
    StartRouting,
    SubmitOrder,
)
from domain.events import OrderEvent, Quote, RouteLeg
from domain.order import decide
from domain.order_state import OrderState, evolve
from domain.records import EventMetadata, NewEvent

PAIRS = (("SOL", "USDC"), ("USDC", "SOL"), ("MEME", "SOL"), ("JUP", "USDC"))
STEPS_PER_ATTEMPT = 4  # select route, sign, send, confirm


def replay_commands(commands: Sequence[OrderCommand]) -> list[OrderEvent]:
    """The events `commands` cause, one after another, through `decide`."""
    state: OrderState | None = None
    events: list[OrderEvent] = []
    for command in commands:
        if state is not None and state.is_final:
            break  # the rest of the plan never happens
        for event in decide(state, command):
            state = evolve(state, event)
            events.append(event)
    return events


def attempt_commands(
    attempt: int, amount_in: int, steps: int, legs: tuple[RouteLeg, ...]
) -> list[OrderCommand]:
    """The first `steps` steps of one attempt (4: confirmed)."""
    quotes = tuple(
        Quote(
            pool=leg.pool,
            venue=leg.venue,
            label=leg.label,
            amount_out=leg.amount_out * 2,
            fee_amount=amount_in // 400,
            price_impact="0.001",
        )
        for leg in legs
    )
    commands: list[OrderCommand] = [
        StartRouting(attempt=attempt),
        SelectRoute(
            attempt=attempt,
            quotes=quotes,
            legs=legs,
            price_impact="0.001",
            context_slot=100 + attempt,
        ),
        SignTransaction(
            attempt=attempt,
            signature=f"sig-{attempt}-{amount_in}",
            blockhash=f"bh{attempt}",
            last_valid_block_height=250 + attempt,
        ),
        MarkSent(attempt=attempt),
        ConfirmOrder(
            attempt=attempt,
            slot=300 + attempt,
            amount_out=sum(leg.amount_out for leg in legs) - 1,
            legs=legs,
            network_fee_lamports=5_000,
        ),
    ]
    return commands[: steps + 1]


def split_legs(amount_in: int, share_bps: int) -> tuple[RouteLeg, ...]:
    first = amount_in * share_bps // 10_000
    legs = [
        RouteLeg(
            pool="ray-1",
            venue="raydium",
            label="Raydium CPMM",
            amount_in=first,
            amount_out=first * 3 // 2,
        ),
        RouteLeg(
            pool="met-1",
            venue="meteora",
            label="Meteora DLMM",
            amount_in=amount_in - first,
            amount_out=(amount_in - first) * 3 // 2,
        ),
    ]
    return tuple(leg for leg in legs if leg.amount_in > 0)


@st.composite
def order_histories(draw: st.DrawFn) -> list[OrderEvent]:
    """One order's events: some attempts (each stopping or failing at a random step),
    possibly cut short, so every status shows up."""
    token_in, token_out = draw(st.sampled_from(PAIRS))
    amount_in = draw(st.integers(min_value=1, max_value=10**21))
    commands: list[OrderCommand] = [
        SubmitOrder(
            order_id=str(uuid.uuid4()),  # fresh per example: the log is shared
            order_type="market",
            token_in=token_in,
            token_out=token_out,
            amount_in=amount_in,
            slippage_bps=draw(st.integers(0, 5_000)),
        )
    ]
    max_attempts = draw(st.integers(1, 3))
    for attempt in range(1, max_attempts + 1):
        legs = split_legs(amount_in, draw(st.integers(0, 10_000)))
        steps = draw(st.integers(0, STEPS_PER_ATTEMPT))
        commands += attempt_commands(attempt, amount_in, steps, legs)
        if steps == STEPS_PER_ATTEMPT:
            break
        commands.append(
            FailAttempt(
                attempt=attempt,
                reason="slippage exceeded",
                code="SLIPPAGE",
                retryable=draw(st.booleans()),
                max_attempts=max_attempts,
                retry_after_ms=500,
            )
        )
    if draw(st.booleans()):
        commands.append(FailOrder(reason="gave up", code="ABANDONED"))
    events = replay_commands(commands)
    return events[: draw(st.integers(1, len(events)))]


def confirmed_history(order_id: str | None = None, attempts: int = 1) -> list[OrderEvent]:
    """A fixed history: `attempts - 1` failed attempts, then a confirmation."""
    amount_in = 1_500_000_000
    commands: list[OrderCommand] = [
        SubmitOrder(
            order_id=order_id or str(uuid.uuid4()),
            order_type="market",
            token_in="SOL",
            token_out="USDC",
            amount_in=amount_in,
            slippage_bps=50,
        )
    ]
    legs = split_legs(amount_in, 6_000)
    for attempt in range(1, attempts):
        commands += attempt_commands(attempt, amount_in, 3, legs)
        commands.append(
            FailAttempt(
                attempt=attempt,
                reason="blockhash expired",
                code="BLOCKHASH_EXPIRED",
                retryable=True,
                max_attempts=attempts,
                retry_after_ms=10,
            )
        )
    commands += attempt_commands(attempts, amount_in, STEPS_PER_ATTEMPT, legs)
    return replay_commands(commands)


def as_new_events(events: Sequence[OrderEvent]) -> list[NewEvent]:
    return wrap_events(events, EventMetadata(actor="test"))
