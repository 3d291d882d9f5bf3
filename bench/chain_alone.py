"""The chain alone, with no engine: swaps sent straight to the simulator and polled for
their status as the engine's watcher polls, so the engine's own figures can be set
against the floor the chain puts under them.

A transaction waits for the next block, lands in each block with p = 0.7 (normal
congestion, priority fee at p75), may land on a fork that is dropped, and confirms
1-2 slots after landing (SIMULATOR.md §7). One transaction's latency is therefore
random, and the last of 1,000 sent at once is far out in that distribution's tail:
this module measures both, so that "N at once against one alone" has a baseline.
"""

from __future__ import annotations

import asyncio
import time

from bench.e2e_result import ChainAlone
from commands.chain_types import SignedTransaction, SwapLeg, SwapRequest
from domain.tokens import token_by_symbol
from orderengine.progress import progress_bar
from workers.solana.connect import SolanaClients, connect
from workers.solana.wallet import load_keypair

FINAL_COMMITMENTS = ("confirmed", "finalized")
STATUS_CHUNK = 256  # Solana's limit per getSignatureStatuses
PRIORITY_FEE = 10_000  # micro-lamports per CU, the engine's default PRIORITY_FEE
AMOUNT_IN = 10**7  # lamports; each swap adds its index, so each has its own signature


async def _swaps(chain: SolanaClients, count: int) -> list[SignedTransaction]:
    """`count` small SOL -> USDC swaps on the best pool, signed as the engine signs."""
    sol, usdc = token_by_symbol("SOL"), token_by_symbol("USDC")
    ladder, latest = await asyncio.gather(
        chain.quotes.ladder(sol.mint, usdc.mint, [AMOUNT_IN]), chain.rpc.latest_blockhash()
    )
    pool = max(ladder.pools, key=lambda p: int(p.quotes[0].out_amount or 0))
    return [
        await chain.wallet.build(
            SwapRequest(
                input_mint=sol.mint,
                output_mint=usdc.mint,
                legs=(
                    SwapLeg(
                        pool=pool.amm_key,
                        venue=pool.venue,
                        amount_in=AMOUNT_IN + i,
                        min_amount_out=0,  # landing is measured here, not slippage
                    ),
                ),
                compute_unit_price=PRIORITY_FEE,
                memo=f"bench.chain_alone:{i}",
            ),
            latest,
        )
        for i in range(count)
    ]


async def confirm_all(chain: SolanaClients, count: int, poll_s: float) -> float:
    """Seconds from sending `count` swaps at once until every one is confirmed."""
    swaps = await _swaps(chain, count)
    started = time.monotonic()
    await asyncio.gather(*(chain.rpc.send_transaction(swap.transaction) for swap in swaps))
    waiting = [swap.signature for swap in swaps]
    while waiting:
        await asyncio.sleep(poll_s)
        chunks = [waiting[i : i + STATUS_CHUNK] for i in range(0, len(waiting), STATUS_CHUNK)]
        answers = await asyncio.gather(*(chain.rpc.signature_statuses(c) for c in chunks))
        statuses = [status for answer in answers for status in answer]
        for signature, status in zip(waiting, statuses, strict=True):
            if status is not None and status.failed:
                raise RuntimeError(f"{signature} failed on chain")
        waiting = [
            signature
            for signature, status in zip(waiting, statuses, strict=True)
            if status is None or status.confirmation_status not in FINAL_COMMITMENTS
        ]
    return time.monotonic() - started


async def chain_alone(url: str, burst: int, singles: int, rounds: int, poll_s: float) -> ChainAlone:
    """The chain's own "all at once against one alone": `singles` swaps sent one at a
    time, then `rounds` bursts of `burst` swaps."""
    # Its own wallet: the engine's is busy elsewhere, and a blockhash shared with it
    # could give the same transaction twice.
    chain = connect(url, url, load_keypair("", seed=-1), max_connections=64)
    try:
        alone = [await confirm_all(chain, 1, poll_s) for _ in range(singles)]
        with progress_bar(f"chain alone, {burst} at once", "bursts") as progress:
            spans = []
            for r in range(rounds):
                spans.append(await confirm_all(chain, burst, poll_s))
                progress(r + 1, rounds)
    finally:
        await chain.close()
    return ChainAlone(burst, alone, spans)
