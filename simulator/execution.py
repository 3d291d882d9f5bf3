"""Executing a landed swap transaction: every leg, atomically, or nothing.

Legs run on distinct pools, so each can be priced against the state the tx found
when it landed; only when every leg and the route's minimum pass are the pools
changed. A failure charges the fee but leaves every pool as it was.
"""

from __future__ import annotations

from simulator.errors import SwapError, route_slippage_error, slippage_error
from simulator.ledger import Transaction
from simulator.responses import LegResult, TxError, TxResult
from simulator.swap import Swap


class Failed(Exception):
    """The tx landed and failed; `error` is what its status reports."""

    def __init__(self, error: TxError) -> None:
        super().__init__(error.message)
        self.error = error


def _tx_error(error: SwapError, instruction_index: int | None) -> TxError:
    return TxError(
        name=error.name,
        code=error.code,
        message=error.message,
        instruction_index=instruction_index,
    )


def _price_legs(tx: Transaction, now: int, force_slippage: bool) -> list[Swap]:
    fills: list[Swap] = []
    for index, leg in enumerate(tx.legs):
        try:
            fill = leg.pool.quote(leg.amount_in, tx.x_to_y, now)
        except SwapError as error:
            raise Failed(_tx_error(error, index)) from error
        minimum = leg.min_amount_out
        if minimum is not None and fill.amount_out < minimum:
            refusal = slippage_error(leg.pool.info.kind, fill.amount_out, minimum)
            raise Failed(_tx_error(refusal, index))
        fills.append(fill)
    total = sum(fill.amount_out for fill in fills)
    if total < tx.min_amount_out or force_slippage:
        raise Failed(_route_slippage(tx, total))
    return fills


def _route_slippage(tx: Transaction, total: int) -> TxError:
    # A single-leg swap goes straight to the venue, whose program checks the
    # minimum; a split goes through a router that checks the total once.
    if len(tx.legs) == 1:
        kind = tx.legs[0].pool.info.kind
        return _tx_error(slippage_error(kind, total, tx.min_amount_out), 0)
    return _tx_error(route_slippage_error(total, tx.min_amount_out), len(tx.legs))


def failed_result(tx: Transaction, slot: int) -> TxResult:
    """What a landed-but-failed tx reports: its slot and fee, no output."""
    in_amount = str(sum(leg.amount_in for leg in tx.legs))
    return TxResult(
        slot=slot, in_amount=in_amount, out_amount="0", fee_lamports=tx.fee_lamports(), legs=[]
    )


def execute(tx: Transaction, slot: int, now: int, force_slippage: bool = False) -> TxResult:
    """Apply all legs at `now`, or raise Failed without changing any pool."""
    fills = _price_legs(tx, now, force_slippage)
    legs: list[LegResult] = []
    for leg, fill in zip(tx.legs, fills, strict=True):
        applied = leg.pool.swap(leg.amount_in, tx.x_to_y, now)
        # Distinct pools: nothing between pricing and applying changed this one.
        assert applied == fill
        legs.append(
            LegResult(
                pool=leg.pool.info.address,
                in_amount=str(fill.amount_in),
                out_amount=str(fill.amount_out),
                fee_amount=str(fill.fee_amount),
            )
        )
    return TxResult(
        slot=slot,
        in_amount=str(sum(leg.amount_in for leg in tx.legs)),
        out_amount=str(sum(fill.amount_out for fill in fills)),
        fee_lamports=tx.fee_lamports(),
        legs=legs,
    )
