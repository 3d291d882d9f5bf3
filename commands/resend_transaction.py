"""`resend_transaction`: finish an attempt whose send was cut short.

`route_and_send` normally signs and sends in one go. When that was interrupted (a
crash after the route was recorded, a lost message), the sweeper asks for this step:
it signs if nothing was signed yet, then sends the recorded transaction again, which
the chain deduplicates by signature.
"""

from __future__ import annotations

import logging

from commands.order_steps import command_id, decide_all, load_order, record
from commands.step_context import StepContext
from commands.transactions import send_and_mark, sign_command
from domain.order_state import OrderState
from domain.status import OrderStatus

log = logging.getLogger(__name__)


async def resend_transaction(ctx: StepContext, order_id: str, attempt: int) -> None:
    """Sign (if need be) and send attempt `attempt`'s transaction; a no-op when sent."""
    state = await load_order(ctx.store, order_id)
    if state is None or state.status != OrderStatus.BUILDING or state.attempts != attempt:
        log.info("resend: nothing to do", extra={"order_id": order_id, "attempt": attempt})
        return
    if state.signature is None:
        signed = await _sign(ctx, state, attempt)
        if signed is None:
            return
        state = signed
    await send_and_mark(ctx, state, attempt)


async def _sign(ctx: StepContext, state: OrderState, attempt: int) -> OrderState | None:
    latest = await ctx.rpc.latest_blockhash()
    signed = await sign_command(ctx, state, attempt, state.legs, latest)
    events = decide_all(state, [signed])
    return await record(ctx.store, state, events, command_id("sign", state.order_id, attempt))
