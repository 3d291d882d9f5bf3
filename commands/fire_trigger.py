"""`fire_trigger` and `expire_order`: the trigger evaluator's two decisions on an armed
order, each appended at the order's expected version with a command id derived from
the arm (its generation). Two evaluators, a redelivery, or a crash between the
decision and the append therefore record at most one fire (or expiry) per arm, and a
cancel racing either is decided by the same expected version (DESIGN.md, "Orders
that wait")."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

import msgspec

from commands.order_steps import load_order, load_orders, record
from commands.ports import EventStore
from domain.commands import ExpireOrder, FireTrigger
from domain.errors import InvalidTransition
from domain.events import OrderEvent, TriggerFired, TriggerQuote
from domain.order import decide
from domain.order_state import OrderState


def fire_command_id(order_id: str, generation: int) -> str:
    return f"fire:{order_id}:{generation}"


def expire_command_id(order_id: str, generation: int) -> str:
    return f"expire:{order_id}:{generation}"


class Fire(msgspec.Struct, frozen=True):
    """The evaluator's decision to fire arm `generation` with `quote`, seen at `slot`."""

    order_id: str
    generation: int
    slot: int
    quote: TriggerQuote


async def fire_trigger(
    store: EventStore,
    order_id: str,
    generation: int,
    slot: int,
    quote: TriggerQuote,
    now: datetime,
) -> list[OrderEvent]:
    """Fire arm `generation` of the order with `quote` seen at `slot`; the events
    recorded (`TriggerFired`, or `OrderExpired` past its expiry), or none when the arm
    is gone (fired, cancelled, expired, re-armed) or another writer got there first."""
    state = await load_order(store, order_id)
    if state is None:
        return []
    return await _fire(store, state, Fire(order_id, generation, slot, quote), now)


async def fire_triggers(
    store: EventStore, fires: Sequence[Fire], now: datetime
) -> dict[str, list[OrderEvent]]:
    """`fire_trigger` for many orders at once, from one read of their streams; the
    appends go out together (the store groups them into one round trip). The events
    recorded, by order id (none for an order whose arm is gone)."""
    states = await load_orders(store, [fire.order_id for fire in fires])
    present = [fire for fire in fires if fire.order_id in states]
    outcomes = await asyncio.gather(
        *(_fire(store, states[fire.order_id], fire, now) for fire in present)
    )
    return {fire.order_id: events for fire, events in zip(present, outcomes, strict=True)}


async def _fire(
    store: EventStore, state: OrderState, fire: Fire, now: datetime
) -> list[OrderEvent]:
    command = FireTrigger(generation=fire.generation, slot=fire.slot, quote=fire.quote, now=now)
    try:
        events = decide(state, command)
    except InvalidTransition:
        return []  # the quote is below the limit: the caller's bound was wrong, not the order
    if not events:
        return []
    # An expiry decided while firing is still this arm's, under its own id.
    name = fire_command_id if isinstance(events[0], TriggerFired) else expire_command_id
    recorded = await record(store, state, events, name(fire.order_id, fire.generation))
    return events if recorded is not None else []


async def expire_order(
    store: EventStore, order_id: str, generation: int, now: datetime
) -> list[OrderEvent]:
    """Expire the order if `now` is past its `expiresAt` and nothing of it can land;
    the events recorded (none when it is not the arm's to expire any more)."""
    state = await load_order(store, order_id)
    if state is None or state.generation != generation:
        return []
    events = decide(state, ExpireOrder(now=now))
    if not events:
        return []
    recorded = await record(store, state, events, expire_command_id(order_id, generation))
    return events if recorded is not None else []
