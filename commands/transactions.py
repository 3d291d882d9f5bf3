"""Signing and sending an attempt's swap transaction, shared by the steps.

The wallet builds the transaction (a compute-budget instruction for the priority fee,
one swap instruction per route leg, each with its own minimum out) and signs it; the
signature and the wire bytes are recorded with the blockhash and its last valid block
height before anything leaves (DESIGN.md). Whatever happens after that, a send sends
those same bytes, which the chain deduplicates by signature.

A send's answer never ends the attempt: a refusal (a 429 from a rate limit in front of
the node) or no answer at all proves nothing, since an earlier send of the same bytes
may already be on its way. Only the confirmation watcher ends it, on proof
(`commands.settle_attempt`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from commands.chain_types import Blockhash, SwapLeg, SwapRequest
from commands.order_steps import command_id, decide_all, record
from commands.ports import RpcNode, VenueRejected
from commands.step_context import StepContext
from domain.commands import MarkSent, SignTransaction
from domain.events import RouteLeg
from domain.order_state import OrderState, leg_minimums, order_tokens, swap_minimum
from domain.routing import VenueUnavailable

log = logging.getLogger(__name__)


class SameTransaction(Exception):
    """Attempt n would be attempt n-1's very transaction (the same blockhash, legs and
    minimums), which the chain takes for the old one: the step must come again once a
    new block gives a new blockhash."""

    def __init__(self, order_id: str, attempt: int) -> None:
        super().__init__(f"order {order_id}: attempt {attempt} would repeat the last one")


def order_memo(order_id: str) -> str:
    """The memo that makes an order's transaction its own. Not the attempt: attempt n
    on attempt n-1's blockhash and legs must stay n-1's very transaction, which the
    chain takes for the old one (`SameTransaction`)."""
    return f"oe:{order_id}"


async def sign_command(
    ctx: StepContext,
    state: OrderState,
    attempt: int,
    legs: Sequence[RouteLeg],
    latest: Blockhash,
) -> SignTransaction:
    """Build and sign attempt `attempt`'s swap over `legs` with the `latest` blockhash.
    Each leg carries its share of the swap's minimum (`domain.order_state`), so the
    chain refuses the whole transaction when any leg returns less."""
    minimum = swap_minimum(state, sum(leg.amount_out for leg in legs))
    minimums = leg_minimums([leg.amount_out for leg in legs], minimum)
    token_in, token_out = order_tokens(state)
    # A sniper pays its own priority fee (API.md), the others the engine's.
    fee = state.sniper.priority_fee if state.sniper is not None else None
    swap = SwapRequest(
        input_mint=token_in.mint,
        output_mint=token_out.mint,
        legs=tuple(
            SwapLeg(
                pool=leg.pool,
                venue=leg.venue,
                amount_in=leg.amount_in,
                min_amount_out=leg_minimum,
            )
            for leg, leg_minimum in zip(legs, minimums, strict=True)
        ),
        compute_unit_price=ctx.policy.compute_unit_price if fee is None else fee,
        memo=order_memo(state.order_id),
    )
    signed = await ctx.wallet.build(swap, latest)
    if signed.signature == state.signature:
        raise SameTransaction(state.order_id, attempt)
    return SignTransaction(
        attempt=attempt,
        signature=signed.signature,
        blockhash=latest.blockhash,
        last_valid_block_height=latest.last_valid_block_height,
        compute_unit_price=swap.compute_unit_price,
        transaction=signed.transaction,
    )


async def send_and_mark(ctx: StepContext, state: OrderState, attempt: int) -> None:
    """Send the signed transaction recorded in `state` and record that it left, whatever
    the node answered: from then on the watcher follows its signature until it lands,
    fails on chain, or provably expires, and sends it again while the chain shows nothing."""
    await send_unacknowledged(ctx.rpc, state)
    await record(
        ctx.store,
        state,
        decide_all(state, [MarkSent(attempt=attempt)]),
        command_id("sent", state.order_id, attempt),
    )


async def send_unacknowledged(rpc: RpcNode, state: OrderState) -> None:
    """`send_signed`, where a refusal or a lost answer is only logged: it proves nothing."""
    try:
        await send_signed(rpc, state)
    except (VenueRejected, VenueUnavailable) as error:
        log.warning(
            "send not acknowledged; the signature is followed all the same",
            extra={"order_id": state.order_id, "signature": state.signature, "error": str(error)},
        )


async def send_signed(rpc: RpcNode, state: OrderState) -> None:
    """Send the transaction recorded in `state` (again, if need be: the same bytes)."""
    assert state.signature is not None
    assert state.transaction is not None, "signed before transactions were recorded"
    signature = await rpc.send_transaction(state.transaction)
    if signature != state.signature:
        raise AssertionError(f"the node reports {signature} for {state.signature}")
    log.info("sent", extra={"order_id": state.order_id, "signature": state.signature})
