"""Following a signature: act on its status; record the outcome or say to look again.

It never waits: a pending signature returns `True` and the caller (the confirmation
watcher, `workers.watcher`) looks again on its next round. An attempt ends only when
its signature provably cannot land any more: it failed on chain, or it expired
(block height past its lastValidBlockHeight), so the next attempt can never execute
alongside it.
"""

from __future__ import annotations

import logging

from commands.order_steps import command_id, decide_all, load_order, record
from domain.commands import ConfirmOrder, FailAttempt, OrderCommand
from domain.events import RouteLeg
from domain.order_state import OrderState
from domain.status import OrderStatus
from workers.context import StepContext
from workers.execute_step import send_signed
from workers.wire import SignatureStatus, TxError

log = logging.getLogger("workers.follow")

SETTLED = ("confirmed", "finalized")
PENDING = ("pending", "processed")  # processed: its block may still be dropped
EXPIRED_CODE = "BlockhashNotFound"


async def follow_order(ctx: StepContext, order_id: str, attempt: int) -> bool:
    """Look once: True when the signature is still pending and should be looked at again."""
    state = await _following(ctx, order_id, attempt)
    if state is None:
        return False
    assert state.signature is not None
    status = (await ctx.venue.signature_statuses([state.signature])).value[0]
    return await settle(ctx, order_id, attempt, state.signature, status)


async def settle(
    ctx: StepContext,
    order_id: str,
    attempt: int,
    signature: str,
    status: SignatureStatus | None,
    loaded: OrderState | None = None,
) -> bool:
    """Act on `status`, already fetched for attempt `attempt`'s `signature`: True when
    it is still pending. A pending status costs no read of the order (nor does one
    `loaded` by the caller); an outcome already recorded (a second look at the same
    status) decides nothing."""
    if status is not None and status.state in PENDING:
        return True
    if loaded is None:
        state = await _following(ctx, order_id, attempt)
    else:
        state = loaded if _waits_for(loaded, attempt) else None
    if state is None or state.signature != signature:
        return False
    if status is None:
        return await _unknown_signature(ctx, state)
    command = _outcome(ctx, state, status)
    if command is None:
        return True
    name = "confirm" if isinstance(command, ConfirmOrder) else "fail"
    await record(
        ctx.store, state, decide_all(state, [command]), command_id(name, order_id, attempt)
    )
    return False


async def _following(ctx: StepContext, order_id: str, attempt: int) -> OrderState | None:
    """The order, if it still waits for attempt `attempt`'s signature."""
    state = await load_order(ctx.store, order_id)
    return state if state is not None and _waits_for(state, attempt) else None


def _waits_for(state: OrderState, attempt: int) -> bool:
    return state.status == OrderStatus.SUBMITTED and state.attempts == attempt


def _outcome(ctx: StepContext, state: OrderState, status: SignatureStatus) -> OrderCommand | None:
    if status.state == "expired":
        reason = "blockhash expired: the transaction did not land before lastValidBlockHeight"
        return _fail(ctx, state, reason, EXPIRED_CODE)
    if status.state == "failed" and status.err is not None:
        return _fail(ctx, state, _reason(status.err), status.err.name)
    if status.state in SETTLED and status.err is None and status.result is not None:
        result = status.result
        return ConfirmOrder(
            attempt=state.attempts,
            slot=result.slot,
            amount_out=int(result.out_amount),
            legs=_executed_legs(state, status),
            network_fee_lamports=result.fee_lamports,
        )
    return None  # pending, or processed on a block that may still be dropped


async def _unknown_signature(ctx: StepContext, state: OrderState) -> bool:
    """The chain never saw it (the venue restarted?): expired if its blockhash is past,
    else send the same signed transaction again."""
    assert state.last_valid_block_height is not None
    height = await ctx.venue.block_height()
    if height.block_height > state.last_valid_block_height:
        reason = "blockhash expired: the chain never saw the transaction"
        command = _fail(ctx, state, reason, EXPIRED_CODE)
        events = decide_all(state, [command])
        await record(ctx.store, state, events, command_id("fail", state.order_id, state.attempts))
        return False
    log.warning("signature unknown; sending again", extra={"order_id": state.order_id})
    await send_signed(ctx.venue, state)
    return True


def _reason(err: TxError) -> str:
    if "Slippage" in err.name:
        return f"slippage exceeded: {err.message}"
    return f"transaction failed on chain: {err.message}"


def _fail(ctx: StepContext, state: OrderState, reason: str, code: str) -> FailAttempt:
    return FailAttempt(
        attempt=state.attempts,
        reason=reason,
        code=code,
        retryable=True,
        max_attempts=ctx.policy.max_attempts,
        retry_after_ms=ctx.policy.retry_after_ms(state.attempts),
    )


def _executed_legs(state: OrderState, status: SignatureStatus) -> tuple[RouteLeg, ...]:
    assert status.result is not None
    planned = {leg.pool: leg for leg in state.legs}
    return tuple(
        RouteLeg(
            pool=leg.pool,
            venue=planned[leg.pool].venue,
            label=planned[leg.pool].label,
            amount_in=int(leg.in_amount),
            amount_out=int(leg.out_amount),
        )
        for leg in status.result.legs
    )
