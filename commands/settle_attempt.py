"""`settle_attempt`: act on what the chain says about a sent signature; record the outcome
(confirmed, or the attempt failed) or say to look again.

It never waits: a pending signature returns `True` and the caller (the confirmation
watcher, `workers.process_manager.confirmation_watcher`) looks again on its next round.
An attempt ends only on proof that it can never land (DESIGN.md), so the next attempt
can never execute alongside it: the chain shows it failed, or a status read made *after*
seeing a block height past its lastValidBlockHeight still finds nothing (`Expired`).
Solana answers null both for "not in a block yet" and for "expired, never landed", and a
node behind the chain (or whose status index lags) shows a landed signature as null for
a few slots, so the height must be past by `ExecutionPolicy.expiry_margin_blocks`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import msgspec

from commands.chain_types import LandedTransaction, ProgramFailure
from commands.order_steps import command_id, decide_all, load_order, record
from commands.step_context import StepContext
from commands.transactions import send_unacknowledged
from domain.commands import ConfirmOrder, FailAttempt, OrderCommand
from domain.events import RouteLeg
from domain.order_state import OrderState
from domain.status import OrderStatus

log = logging.getLogger(__name__)

EXPIRED_CODE = "BlockhashNotFound"
SETTLED = ("confirmed", "finalized")
# Failures another attempt would only repeat, paying another fee: the wallet holds less
# than the swap's input until someone funds it.
NOT_RETRIED = frozenset({"InsufficientFunds"})


class Expired(msgspec.Struct, frozen=True):
    """Proof that a signature can never land: it was in no block at a status read made
    after the chain was seen at `block_height`, past its lastValidBlockHeight by the
    margin (`expired_after`)."""

    block_height: int


Outcome = LandedTransaction | Expired


async def look_and_settle(ctx: StepContext, order_id: str, attempt: int) -> bool:
    """Look once: True when the signature is still pending and should be looked at again.
    A signature in no block and not yet past its blockhash is sent again (same bytes)."""
    state = await _following(ctx, order_id, attempt)
    if state is None:
        return False
    assert state.signature is not None
    assert state.last_valid_block_height is not None
    height = await ctx.rpc.block_height()  # before the status read: see `Expired`
    status = (await ctx.rpc.signature_statuses([state.signature]))[0]
    if status is None:
        if height > expired_after(ctx, state):
            return await settle_attempt(ctx, order_id, attempt, state.signature, Expired(height))
        await send_unacknowledged(ctx.rpc, state)
        return True
    if status.confirmation_status not in SETTLED:
        return True
    landed = (await ctx.rpc.landed_transactions([state.signature]))[0]
    if landed is None:
        return True
    return await settle_attempt(ctx, order_id, attempt, state.signature, landed, state)


async def settle_attempt(
    ctx: StepContext,
    order_id: str,
    attempt: int,
    signature: str,
    outcome: Outcome,
    loaded: OrderState | None = None,
) -> bool:
    """Record `outcome` for attempt `attempt`'s `signature`; False once nothing is left
    to follow. An outcome already recorded (a second look) decides nothing."""
    if loaded is None:
        state = await _following(ctx, order_id, attempt)
    else:
        state = loaded if _waits_for(loaded, attempt) else None
    if state is None or state.signature != signature:
        return False
    if isinstance(outcome, Expired):
        if outcome.block_height <= expired_after(ctx, state):
            return True  # not proof: the blockhash may still be valid, or the node lag
        reason = "blockhash expired: the transaction did not land before lastValidBlockHeight"
        command: OrderCommand = _fail(ctx, state, reason, EXPIRED_CODE)
    elif outcome.failure is not None:
        failed = outcome.failure.name
        command = _fail(ctx, state, _reason(outcome.failure), failed, failed not in NOT_RETRIED)
    else:
        command = ConfirmOrder(
            attempt=state.attempts,
            slot=outcome.slot,
            amount_out=outcome.amount_out,
            legs=_executed_legs(state, outcome),
            network_fee_lamports=outcome.fee_lamports,
            observed_at=datetime.now(UTC),  # a limit order's fill after its expiresAt is marked
        )
    name = "confirm" if isinstance(command, ConfirmOrder) else "fail"
    events = decide_all(state, [command])
    await record(ctx.store, state, events, command_id(name, order_id, attempt))
    return False


def expired_after(ctx: StepContext, state: OrderState) -> int:
    """The block height a status read must follow for a null to prove `state`'s
    signature expired: its lastValidBlockHeight and the policy's margin."""
    assert state.last_valid_block_height is not None
    return state.last_valid_block_height + ctx.policy.expiry_margin_blocks


async def _following(ctx: StepContext, order_id: str, attempt: int) -> OrderState | None:
    """The order, if it still waits for attempt `attempt`'s signature."""
    state = await load_order(ctx.store, order_id)
    return state if state is not None and _waits_for(state, attempt) else None


def _waits_for(state: OrderState, attempt: int) -> bool:
    # The transaction may land before TransactionSent is recorded (a crash in between).
    following = (OrderStatus.SUBMITTED, OrderStatus.BUILDING)
    return state.status in following and state.attempts == attempt and state.signature is not None


def _reason(failure: ProgramFailure) -> str:
    index = failure.instruction_index
    where = f" (instruction {index})" if index is not None else ""
    code = f" {failure.code:#x}" if failure.code is not None else ""
    if "Slippage" in failure.name:
        return f"slippage exceeded: {failure.name}{code}{where}"
    if failure.name == "InsufficientFunds":
        return f"insufficient funds: the wallet holds less than the swap's input{where}"
    return f"transaction failed on chain: {failure.name}{code}{where}"


def _fail(
    ctx: StepContext, state: OrderState, reason: str, code: str, retryable: bool = True
) -> FailAttempt:
    return FailAttempt(
        attempt=state.attempts,
        reason=reason,
        code=code,
        retryable=retryable,
        max_attempts=ctx.policy.max_attempts,
        retry_after_ms=ctx.policy.retry_after_ms(state.attempts),
    )


def _executed_legs(state: OrderState, landed: LandedTransaction) -> tuple[RouteLeg, ...]:
    planned = {leg.pool: leg for leg in state.legs}
    return tuple(
        RouteLeg(
            pool=leg.pool,
            venue=planned[leg.pool].venue,
            label=planned[leg.pool].label,
            amount_in=leg.amount_in,
            amount_out=leg.amount_out,
        )
        for leg in landed.legs
        if leg.pool in planned
    )
