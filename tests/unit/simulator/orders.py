"""Building swap requests against a Simulator, and waiting for their outcome."""

from __future__ import annotations

import hashlib

from simulator.base58 import b58encode
from simulator.config import SimulatorConfig
from simulator.core import Simulator
from simulator.requests import Leg, LegsRequest, SendTransaction
from simulator.responses import SignatureStatus

# A quiet, certain chain: every block produced, every tx lands in the next block,
# no forks, no market moving the pools between quote and landing.
CERTAIN = SimulatorConfig(seed=1, skip_rate=0.0, fork_prob=0.0, p_land=1.0, market_activity=False)


def signature(label: str) -> str:
    """A deterministic 64-byte base58 signature, as the engine derives one."""
    return b58encode(hashlib.sha512(label.encode()).digest())


def pool_addresses(sim: Simulator, pair: str) -> list[str]:
    return [p.address for p in sim.tokens().pools if p.pair == pair]


def swap(
    sim: Simulator,
    label: str,
    legs: list[tuple[str, int]],
    min_amount_out: int = 0,
    input_mint: str = "SOL",
    output_mint: str = "USDC",
    compute_unit_price: int = 0,
    last_valid_block_height: int | None = None,
) -> SendTransaction:
    if last_valid_block_height is None:
        last_valid_block_height = sim.latest_blockhash().last_valid_block_height
    return SendTransaction(
        signature=signature(label),
        input_mint=input_mint,
        output_mint=output_mint,
        legs=[Leg(pool=pool, amount_in=str(amount)) for pool, amount in legs],
        min_amount_out=str(min_amount_out),
        last_valid_block_height=last_valid_block_height,
        compute_unit_price=compute_unit_price,
    )


def quoted_out(sim: Simulator, legs: list[tuple[str, int]]) -> int:
    request = LegsRequest(
        input_mint="SOL",
        output_mint="USDC",
        legs=[Leg(pool=pool, amount_in=str(amount)) for pool, amount in legs],
    )
    return int(sim.quote_legs(request).out_amount)


def poll_until(sim: Simulator, sig: str, states: set[str], max_polls: int = 400) -> SignatureStatus:
    """Poll like an engine would; each poll may advance the chain by one slot."""
    for _ in range(max_polls):
        status = sim.signature_statuses([sig]).value[0]
        assert status is not None
        if status.state in states:
            return status
    raise AssertionError(f"{sig} never reached {states}")
