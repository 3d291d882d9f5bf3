"""`cancel_order`: a client's cancel (API.md, "Cancel"), decided on the order's current
state and appended at its expected version.

A cancel racing a trigger (or any engine step) is decided by the store: one append
wins at that version, the other sees a conflict. A cancel that loses decides again on
the state it lost to, so the client's answer is always about the order as it is.
"""

from __future__ import annotations

import msgspec

from commands.envelopes import wrap_events
from commands.order_steps import load_order
from commands.ports import EventStore
from domain.commands import CancelOrder
from domain.order import decide
from domain.order_state import OrderState, evolve
from domain.records import ConcurrencyConflict, EventMetadata
from domain.status import OrderStatus
from domain.streams import order_stream

# Conflicts in a row before giving up (each means an engine step was appended first).
MAX_TRIES = 8


class CancelOutcome(msgspec.Struct, frozen=True):
    state: OrderState

    @property
    def cancelled(self) -> bool:
        """True once cancelled; False while the cancel waits for a sent transaction."""
        return self.state.status == OrderStatus.CANCELLED


async def cancel_order(
    store: EventStore, order_id: str, idempotency_key: str | None = None, actor: str = "api"
) -> CancelOutcome | None:
    """Cancel the order (None: no such order). Raises `InvalidTransition` for a
    confirmed, failed or expired order, and `ConcurrencyConflict` after `MAX_TRIES`
    lost races in a row."""
    command_id = f"cancel:{actor}:{idempotency_key}" if idempotency_key is not None else None
    for _ in range(MAX_TRIES):
        state = await load_order(store, order_id)
        if state is None:
            return None
        events = decide(state, CancelOrder())
        if not events:
            return CancelOutcome(state)
        metadata = EventMetadata(command_id=command_id, correlation_id=order_id, actor=actor)
        try:
            result = await store.append(
                order_stream(order_id),
                state.version,
                wrap_events(events, metadata),
                command_id=command_id,
                request_hash=f"cancel:{order_id}",
            )
        except ConcurrencyConflict:
            continue
        if result.duplicate:  # the same key cancelled this order before: as it is now
            continue
        for event in events:
            state = evolve(state, event)
        return CancelOutcome(state)
    raise ConcurrencyConflict(f"order {order_id} kept moving; cancel again")
