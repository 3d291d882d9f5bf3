"""`submit_order`: record a new order, exactly once per idempotency key."""

from __future__ import annotations

import hashlib
from datetime import datetime

import msgspec

from commands.envelopes import wrap_events
from commands.ports import EventStore
from domain.commands import SubmitOrder
from domain.order import decide
from domain.records import EventMetadata
from domain.streams import order_id_of, order_stream


class SubmitOutcome(msgspec.Struct, frozen=True):
    order_id: str
    created: bool  # False when the idempotency key returned an earlier order


def submission_fingerprint(command: SubmitOrder, stated_expiry: datetime | None = None) -> str:
    """What makes two submissions "the same body": every field but the new order id,
    after normalisation, so "1.5" and "1.50" or "sol" and "SOL" are the same order. A
    limit or sniper order's expiry counts as the client stated it (`stated_expiry`): a default
    one moves with the clock, and a retry without it is still the same body."""
    fields: tuple[object, ...] = (
        command.order_type,
        command.token_in,
        command.token_out,
        command.amount_in,
        command.slippage_bps,
    )
    expiry = stated_expiry.isoformat() if stated_expiry else None
    if command.limit_amount_out is not None:  # market orders keep their earlier hashes
        fields = (*fields, command.limit_amount_out, expiry)
    if command.sniper is not None:
        # Its terms are the body too (they were once left out, and a key reused with
        # another target or exit got the first order back).
        fields = (*fields, msgspec.to_builtins(command.sniper), expiry)
    return hashlib.sha256(msgspec.json.encode(fields)).hexdigest()


def submit_command_id(idempotency_key: str, actor: str) -> str:
    """The command id of a submit: the idempotency key is the client's (the API key's,
    `actor`) own, so two keys using the same string make two orders."""
    return f"submit:{actor}:{idempotency_key}"


async def submit_order(
    store: EventStore,
    command: SubmitOrder,
    idempotency_key: str | None,
    stated_expiry: datetime | None = None,
    actor: str = "api",
) -> SubmitOutcome:
    """Append `OrderSubmitted` to a new stream, written by `actor` (who owns the order).
    A repeated key with the same request returns the first order; with another request
    the store raises CommandConflict."""
    command_id = submit_command_id(idempotency_key, actor) if idempotency_key is not None else None
    metadata = EventMetadata(command_id=command_id, correlation_id=command.order_id, actor=actor)
    events = wrap_events(decide(None, command), metadata)
    result = await store.append(
        order_stream(command.order_id),
        0,
        events,
        command_id=command_id,
        request_hash=submission_fingerprint(command, stated_expiry),
    )
    return SubmitOutcome(order_id_of(result.stream_id), created=not result.duplicate)
