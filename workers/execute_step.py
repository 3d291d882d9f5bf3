"""The execute step: sign (recorded before anything is sent), send, record the send.

The signature is fixed by the order and the attempt, and recorded with its blockhash
and last valid block height before the transaction leaves. A crash anywhere after
that re-sends the same signed transaction, which the chain deduplicates. The route
step normally signs and sends itself (`send_and_mark`); this step is what the
sweeper re-sends when that was cut short.
"""

from __future__ import annotations

import logging

from commands.order_steps import command_id, decide_all, load_order, record
from domain.commands import FailAttempt, MarkSent, SignTransaction
from domain.order_state import OrderState
from domain.signatures import transaction_signature
from domain.status import OrderStatus
from domain.tokens import token_by_symbol
from workers.context import StepContext
from workers.ports import Venue, VenueRejected
from workers.wire import Blockhash, LegOrder, SwapTransaction

log = logging.getLogger("workers.execute")


async def execute_order(ctx: StepContext, order_id: str, attempt: int) -> None:
    """Sign and send attempt `attempt`'s transaction; a no-op when already sent."""
    state = await load_order(ctx.store, order_id)
    if state is None or state.status != OrderStatus.BUILDING or state.attempts != attempt:
        log.info("execute: nothing to do", extra={"order_id": order_id, "attempt": attempt})
        return
    if state.signature is None:
        signed = await _sign(ctx, state, attempt)
        if signed is None:
            return
        state = signed
    await send_and_mark(ctx, state, attempt)


async def send_and_mark(ctx: StepContext, state: OrderState, attempt: int) -> None:
    """Send the signed transaction recorded in `state` and record that it left."""
    try:
        await send_signed(ctx.venue, state)
    except VenueRejected as error:
        # The venue did not take it, so this signature can never land: the attempt is over.
        await _fail(ctx, state, attempt, f"transaction rejected: {error.message}")
        return
    await record(
        ctx.store,
        state,
        decide_all(state, [MarkSent(attempt=attempt)]),
        command_id("sent", state.order_id, attempt),
    )


async def _sign(ctx: StepContext, state: OrderState, attempt: int) -> OrderState | None:
    latest = await ctx.venue.latest_blockhash()
    events = decide_all(state, [sign_command(ctx, state.order_id, attempt, latest)])
    return await record(ctx.store, state, events, command_id("sign", state.order_id, attempt))


def sign_command(
    ctx: StepContext, order_id: str, attempt: int, latest: Blockhash
) -> SignTransaction:
    """Signing attempt `attempt` with the `latest` blockhash: its signature is fixed."""
    return SignTransaction(
        attempt=attempt,
        signature=transaction_signature(order_id, attempt),
        blockhash=latest.blockhash,
        last_valid_block_height=latest.last_valid_block_height,
        compute_unit_price=ctx.policy.compute_unit_price,
    )


async def send_signed(venue: Venue, state: OrderState) -> None:
    """Send the transaction recorded in `state` (again, if need be: same signature)."""
    assert state.signature is not None
    assert state.last_valid_block_height is not None
    assert state.min_amount_out is not None
    transaction = SwapTransaction(
        signature=state.signature,
        input_mint=token_by_symbol(state.token_in).mint,
        output_mint=token_by_symbol(state.token_out).mint,
        legs=[LegOrder(pool=leg.pool, amount_in=str(leg.amount_in)) for leg in state.legs],
        min_amount_out=str(state.min_amount_out),
        last_valid_block_height=state.last_valid_block_height,
        compute_unit_price=state.compute_unit_price,
        recent_blockhash=state.blockhash,
    )
    result = await venue.send_transaction(transaction)
    log.info(
        "sent",
        extra={"order_id": state.order_id, "signature": state.signature, "dup": result.duplicate},
    )


async def _fail(ctx: StepContext, state: OrderState, attempt: int, reason: str) -> None:
    command = FailAttempt(
        attempt=attempt,
        reason=reason,
        code="TransactionRejected",
        retryable=True,
        max_attempts=ctx.policy.max_attempts,
        retry_after_ms=ctx.policy.retry_after_ms(attempt),
    )
    events = decide_all(state, [command])
    await record(ctx.store, state, events, command_id("fail", state.order_id, attempt))
