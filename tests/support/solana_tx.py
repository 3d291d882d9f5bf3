"""Real signed swap transactions against a Simulator, built as the engine's wallet builds
them (`workers.solana.programs`), for tests of the chain."""

from __future__ import annotations

import base64

import msgspec
from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price
from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.transaction import VersionedTransaction

from simulator.config import SimulatorConfig
from simulator.core import Simulator
from simulator.rpc import Rpc
from simulator.tx_views import signature_status
from workers.solana.programs import PoolKeys, swap_instruction

# A quiet, certain chain: every block produced, every tx lands in the next block,
# no forks, no market moving the pools between quote and landing.
CERTAIN = SimulatorConfig(seed=1, skip_rate=0.0, fork_prob=0.0, p_land=1.0, market_activity=False)
WALLET = Keypair.from_seed(bytes(range(32)))


def pool_addresses(sim: Simulator, pair: str) -> list[str]:
    return [
        listing.pool.info.address for listing in sim.catalog.listings if listing.pair.symbol == pair
    ]


def keys_of(sim: Simulator, pool: str) -> PoolKeys:
    return msgspec.convert(msgspec.to_builtins(sim.keys[pool]), PoolKeys)


def swap_tx(
    sim: Simulator,
    legs: list[tuple[str, int, int]],
    input_mint: str,
    *,
    wallet: Keypair = WALLET,
    blockhash: str | None = None,
    compute_unit_price: int = 0,
    compute_unit_limit: int | None = None,
    extra: list[Instruction] | None = None,
) -> bytes:
    """A signed v0 transaction: compute budget, then a swap per (pool, amount in, min out)."""
    swaps = [(keys_of(sim, pool), amount_in, min_out) for pool, amount_in, min_out in legs]
    return build_swap(
        swaps,
        input_mint,
        blockhash or sim.chain.blockhash,
        wallet=wallet,
        compute_unit_price=compute_unit_price,
        compute_unit_limit=compute_unit_limit,
        extra=extra,
    )


def build_swap(
    swaps: list[tuple[PoolKeys, int, int]],
    input_mint: str,
    blockhash: str,
    *,
    wallet: Keypair = WALLET,
    compute_unit_price: int = 0,
    compute_unit_limit: int | None = None,
    extra: list[Instruction] | None = None,
) -> bytes:
    """`swap_tx` from pool keys (as `GET /pools/keys` serves them) and a blockhash."""
    instructions = [
        set_compute_unit_limit(compute_unit_limit or 200_000 * len(swaps)),
        set_compute_unit_price(compute_unit_price),
    ]
    for keys, amount_in, min_out in swaps:
        instructions.append(swap_instruction(keys, wallet.pubkey(), input_mint, amount_in, min_out))
    instructions += extra or []
    recent = Hash.from_string(blockhash)
    message = MessageV0.try_compile(wallet.pubkey(), instructions, [], recent)
    return bytes(VersionedTransaction(message, [wallet]))


def signature_of(raw: bytes) -> str:
    return str(VersionedTransaction.from_bytes(raw).signatures[0])


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def status_of(sim: Simulator, signature: str) -> dict[str, object] | None:
    return signature_status(sim.signature_statuses([signature])[0], sim.chain.slot)


def poll_until(
    sim: Simulator, signature: str, commitment: str, max_polls: int = 400
) -> dict[str, object]:
    """Poll like an engine would; each poll may advance the chain by one slot."""
    for _ in range(max_polls):
        status = status_of(sim, signature)
        if status is not None and status["confirmationStatus"] == commitment:
            return status
    raise AssertionError(f"{signature} never reached {commitment}")


def rpc_call(rpc: Rpc, method: str, *params: object) -> object:
    return rpc.call(method, list(params))
