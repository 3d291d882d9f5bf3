"""Turning a SendTransaction request into a validated Transaction."""

from __future__ import annotations

from simulator.base58 import b58decode
from simulator.catalog import Catalog, parse_amount
from simulator.chain import Chain
from simulator.config import (
    BLOCKHASH_VALIDITY,
    COMPUTE_UNITS_PER_LEG,
    MAX_COMPUTE_UNITS,
)
from simulator.errors import InvalidRequest
from simulator.ledger import LegOrder, Transaction
from simulator.requests import Leg, SendTransaction

MAX_LEGS = 8
MAX_COMPUTE_UNIT_PRICE = 10**12


def check_signature(signature: str) -> None:
    """A signature is base58 of exactly 64 bytes."""
    try:
        raw = b58decode(signature)
    except ValueError as error:
        raise InvalidRequest("signature", str(error)) from error
    if len(raw) != 64:
        raise InvalidRequest("signature", f"must encode 64 bytes, got {len(raw)}")


def parse_legs(
    catalog: Catalog, legs: list[Leg], input_name: str, output_name: str
) -> tuple[bool, tuple[LegOrder, ...]]:
    """(x_to_y, legs) for legs on distinct pools of the requested pair."""
    pair, x_to_y, _, _ = catalog.direction(input_name, output_name)
    if not 1 <= len(legs) <= MAX_LEGS:
        raise InvalidRequest("legs", f"must hold 1 to {MAX_LEGS} legs")
    orders: list[LegOrder] = []
    seen: set[str] = set()
    for index, leg in enumerate(legs):
        listing = catalog.pool(leg.pool, pair, f"legs[{index}].pool")
        if leg.pool in seen:
            raise InvalidRequest(f"legs[{index}].pool", "each pool may appear in one leg only")
        seen.add(leg.pool)
        amount_in = parse_amount(leg.amount_in, f"legs[{index}].amountIn")
        minimum = None
        if leg.min_amount_out is not None:
            minimum = parse_amount(leg.min_amount_out, f"legs[{index}].minAmountOut", 0)
        orders.append(LegOrder(listing.pool, amount_in, minimum))
    return x_to_y, tuple(orders)


def admit(request: SendTransaction, catalog: Catalog, chain: Chain) -> Transaction:
    """Validate a send request against the universe and the chain's clock."""
    check_signature(request.signature)
    x_to_y, legs = parse_legs(catalog, request.legs, request.input_mint, request.output_mint)
    limit = request.compute_unit_limit
    if limit is None:
        limit = min(MAX_COMPUTE_UNITS, COMPUTE_UNITS_PER_LEG * len(legs))
    if not 1 <= limit <= MAX_COMPUTE_UNITS:
        raise InvalidRequest("computeUnitLimit", f"must be between 1 and {MAX_COMPUTE_UNITS}")
    if not 0 <= request.compute_unit_price <= MAX_COMPUTE_UNIT_PRICE:
        raise InvalidRequest("computeUnitPrice", f"must be between 0 and {MAX_COMPUTE_UNIT_PRICE}")
    _check_block_height(request, chain)
    return Transaction(
        signature=request.signature,
        input_mint=catalog.token(request.input_mint, "inputMint").mint,
        output_mint=catalog.token(request.output_mint, "outputMint").mint,
        x_to_y=x_to_y,
        legs=legs,
        min_amount_out=parse_amount(request.min_amount_out, "minAmountOut", 0),
        last_valid_block_height=request.last_valid_block_height,
        compute_unit_price=request.compute_unit_price,
        compute_unit_limit=limit,
    )


def _check_block_height(request: SendTransaction, chain: Chain) -> None:
    last_valid = request.last_valid_block_height
    if last_valid > chain.last_valid_block_height():
        raise InvalidRequest(
            "lastValidBlockHeight",
            f"{last_valid} is beyond any issued blockhash "
            f"(latest gives {chain.last_valid_block_height()})",
        )
    if request.recent_blockhash is None:
        return
    height = chain.height_of(request.recent_blockhash)
    if height is not None and height + BLOCKHASH_VALIDITY != last_valid:
        raise InvalidRequest(
            "lastValidBlockHeight",
            f"recentBlockhash was issued with lastValidBlockHeight {height + BLOCKHASH_VALIDITY}",
        )


def blockhash_unknown(request: SendTransaction, chain: Chain) -> bool:
    """A named blockhash the cluster no longer (or never) knew: the tx cannot land."""
    return (
        request.recent_blockhash is not None and chain.height_of(request.recent_blockhash) is None
    )
