"""`match_launch`: judge one new pool for every armed sniper waiting for one.

Each sniper's decision (`MatchPool`: nothing, `PoolSkipped` or `PoolMatched`) is
decided on its reloaded stream and appended at its expected version under a command id
of the arm (`match:<order>:<arm>`) or of the pool (`skip:<order>:<pool>`), so the matcher
judging the same launch again after a crash records nothing twice, and a cancel racing
a match is decided by the expected version: one append wins, the loser decides again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from commands.order_steps import load_order, load_orders, record
from commands.ports import EventStore
from domain.commands import MatchPool
from domain.events import OrderEvent, PoolMatched
from domain.launches import PoolLaunched
from domain.order import decide
from domain.order_state import OrderState

# A decision that lost its append to another writer is decided again on the new state.
_MAX_TRIES = 3


def match_command_id(order_id: str, generation: int) -> str:
    return f"match:{order_id}:{generation}"


def skip_command_id(order_id: str, pool: str) -> str:
    return f"skip:{order_id}:{pool}"


async def match_launch(
    store: EventStore, launch: PoolLaunched, arms: Sequence[tuple[str, int]], now: datetime
) -> dict[str, list[OrderEvent]]:
    """Judge `launch` for each (order id, arm) in `arms`; the events recorded, by order."""
    states = await load_orders(store, [order_id for order_id, _ in arms])
    present = [(order_id, arm) for order_id, arm in arms if order_id in states]
    outcomes = await asyncio.gather(
        *(_match(store, states[order_id], arm, launch, now) for order_id, arm in present)
    )
    return {order_id: events for (order_id, _), events in zip(present, outcomes, strict=True)}


async def _match(
    store: EventStore, state: OrderState, arm: int, launch: PoolLaunched, now: datetime
) -> list[OrderEvent]:
    command = MatchPool(generation=arm, launch=launch, now=now)
    current: OrderState | None = state
    for _ in range(_MAX_TRIES):
        if current is None:
            return []
        events = decide(current, command)
        if not events:
            return []
        if isinstance(events[0], PoolMatched):
            name = match_command_id(current.order_id, arm)
        else:
            name = skip_command_id(current.order_id, launch.pool)
        if await record(store, current, events, name) is not None:
            return events
        current = await load_order(store, current.order_id)
    return []
