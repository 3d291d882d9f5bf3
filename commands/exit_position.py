"""`trigger_exits` and `follow_exits`: the exit watcher's decisions on held positions.

The parent is written first: `ExitTriggered` (naming the child, whose id derives from
the parent's and the exit arm) is appended at the parent's expected version under
`exit:<order>:<arm>`, so two watchers or a look after a crash record at most one per
arm. Then the child: `OrderSubmitted` of the child's market order, appended at version
0 of its own stream under `exit-order:<order>:<arm>`, owned by the parent's owner. A
crash between the two leaves an exiting parent without a child; every look follows
the exiting parents (`follow_exits`) and creates the missing child, which can only be
that one: a second writer loses on version 0. Once the child is final the parent
gets its end (`PositionClosed`, `ExitRearmed` or `OrderFailed`), under
`settle-exit:<order>:<arm>`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import msgspec

from commands.envelopes import wrap_events
from commands.order_steps import load_orders, record
from commands.ports import EventStore
from domain.commands import SettleExit, TriggerExit
from domain.events import ExitTriggered, OrderEvent, decode_event
from domain.exits import exit_order
from domain.order import decide
from domain.order_state import OrderState, fold
from domain.records import ConcurrencyConflict, EventMetadata, actor_of
from domain.status import OrderStatus
from domain.streams import order_id_of, order_stream

log = logging.getLogger(__name__)


class ExitLook(msgspec.Struct, frozen=True):
    """A sale quote of a held position: `value` (atomic tokenIn) at `slot`, for exit
    arm `generation`."""

    order_id: str
    generation: int
    slot: int
    value: int


class Followed(msgspec.Struct, kw_only=True):
    """What one follow did: children created, parents ended (by order id)."""

    created: list[str] = msgspec.field(default_factory=list)
    settled: dict[str, list[OrderEvent]] = msgspec.field(default_factory=dict)


def trigger_command_id(order_id: str, generation: int) -> str:
    return f"exit:{order_id}:{generation}"


def child_command_id(order_id: str, generation: int) -> str:
    return f"exit-order:{order_id}:{generation}"


def settle_command_id(order_id: str, generation: int) -> str:
    return f"settle-exit:{order_id}:{generation}"


async def trigger_exits(store: EventStore, looks: Sequence[ExitLook]) -> dict[str, ExitTriggered]:
    """Decide each look on the reloaded parent and append what fires; the exits
    recorded, by parent id (none where no rule fired or another writer got there)."""
    states = await load_orders(store, [look.order_id for look in looks])
    present = [look for look in looks if look.order_id in states]
    outcomes = await asyncio.gather(
        *(_trigger(store, states[look.order_id], look) for look in present)
    )
    return {look.order_id: e for look, e in zip(present, outcomes, strict=True) if e is not None}


async def _trigger(store: EventStore, state: OrderState, look: ExitLook) -> ExitTriggered | None:
    events = decide(
        state, TriggerExit(generation=look.generation, slot=look.slot, value=look.value)
    )
    if not events:
        return None
    recorded = await record(
        store, state, events, trigger_command_id(state.order_id, look.generation)
    )
    return events[0] if recorded is not None and isinstance(events[0], ExitTriggered) else None


async def follow_exits(store: EventStore, order_ids: Sequence[str]) -> Followed:
    """For each exiting parent: create its child if missing, or, once the child is
    final, append the parent's end."""
    parents = await store.read_streams([order_stream(order_id) for order_id in order_ids])
    exiting: list[tuple[OrderState, str]] = []
    for recorded in parents.values():
        state = fold(decode_event(e.event_type, e.data) for e in recorded)
        if state is not None and state.status == OrderStatus.EXITING:
            exiting.append((state, actor_of(recorded[0])))
    followed = Followed()
    if not exiting:
        return followed
    children = await load_orders(store, [_child_id(state) for state, _ in exiting])
    for state, owner in exiting:
        child = children.get(_child_id(state))
        if child is None:
            if await _create_child(store, state, owner):
                followed.created.append(_child_id(state))
        elif child.is_final:
            events = await _settle(store, state, child)
            if events:
                followed.settled[state.order_id] = events
    return followed


def _child_id(state: OrderState) -> str:
    assert state.exit_order_id is not None
    return state.exit_order_id


async def _create_child(store: EventStore, parent: OrderState, owner: str) -> bool:
    """Append the child's submission; False when it exists already (another writer)."""
    command = exit_order(parent)
    command_id = child_command_id(parent.order_id, parent.exit_generation)
    metadata = EventMetadata(
        command_id=command_id,
        correlation_id=command.order_id,
        causation_id=parent.order_id,
        actor=owner,  # the parent's owner owns its exit: it reads and streams it
    )
    events = wrap_events(decide(None, command), metadata, deterministic_ids=True)
    try:
        result = await store.append(
            order_stream(command.order_id),
            0,
            events,
            command_id=command_id,
            request_hash=command.order_id,
        )
    except ConcurrencyConflict:
        return False
    if not result.duplicate:
        log.info(
            "exit order created",
            extra={"order_id": parent.order_id, "exit_order_id": order_id_of(result.stream_id)},
        )
    return not result.duplicate


async def _settle(store: EventStore, parent: OrderState, child: OrderState) -> list[OrderEvent]:
    command = SettleExit(
        generation=parent.exit_generation,
        status=str(child.status),
        amount_out=child.amount_out,
        slot=child.slot,
        reason=child.failure_reason,
        code=child.failure_code,
    )
    events = decide(parent, command)
    if not events:
        return []
    name = settle_command_id(parent.order_id, parent.exit_generation)
    return events if await record(store, parent, events, name) is not None else []
