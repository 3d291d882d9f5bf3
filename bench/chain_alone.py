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
import hashlib
import statistics
import time

from domain.signatures import b58encode
from domain.tokens import token_by_symbol
from workers.venue import SimulatorVenue
from workers.wire import LegOrder, SwapTransaction

FINAL_COMMITMENTS = ("confirmed", "finalized")
STATUS_CHUNK = 256  # the simulator's limit per status request
PRIORITY_FEE = 10_000  # micro-lamports per CU, the engine's default PRIORITY_FEE


async def _swaps(venue: SimulatorVenue, tag: str, count: int) -> list[SwapTransaction]:
    """`count` small SOL -> USDC swaps on the best pool, each with its own signature."""
    sol, usdc = token_by_symbol("SOL"), token_by_symbol("USDC")
    ladder, latest = await asyncio.gather(
        venue.ladder(sol.mint, usdc.mint, [10**7]), venue.latest_blockhash()
    )
    pool = max(ladder.pools, key=lambda p: int(p.quotes[0].out_amount or 0)).amm_key
    return [
        SwapTransaction(
            signature=b58encode(hashlib.sha512(f"chain-alone:{tag}:{i}".encode()).digest()),
            input_mint=sol.mint,
            output_mint=usdc.mint,
            legs=[LegOrder(pool=pool, amount_in=str(10**7))],
            min_amount_out="0",  # landing is measured here, not slippage
            last_valid_block_height=latest.last_valid_block_height,
            compute_unit_price=PRIORITY_FEE,
            recent_blockhash=latest.blockhash,
        )
        for i in range(count)
    ]


async def confirm_all(venue: SimulatorVenue, tag: str, count: int, poll_s: float) -> float:
    """Seconds from sending `count` swaps at once until every one is confirmed."""
    swaps = await _swaps(venue, tag, count)
    started = time.monotonic()
    await asyncio.gather(*(venue.send_transaction(swap) for swap in swaps))
    waiting = [swap.signature for swap in swaps]
    while waiting:
        await asyncio.sleep(poll_s)
        chunks = [waiting[i : i + STATUS_CHUNK] for i in range(0, len(waiting), STATUS_CHUNK)]
        answers = await asyncio.gather(*(venue.signature_statuses(c) for c in chunks))
        statuses = [status for answer in answers for status in answer.value]
        for status in statuses:
            if status is not None and status.state in ("failed", "expired"):
                raise RuntimeError(f"{status.signature} {status.state}: {status.err}")
        waiting = [
            signature
            for signature, status in zip(waiting, statuses, strict=True)
            if status is None or status.confirmation_status not in FINAL_COMMITMENTS
        ]
    return time.monotonic() - started


async def chain_alone(
    url: str, burst: int, singles: int, rounds: int, poll_s: float
) -> tuple[float, float]:
    """Print the chain's own "all at once against one alone"; returns (all confirmed
    after, median of the rounds; one transaction's median latency) in seconds."""
    venue = SimulatorVenue(url, max_connections=64)
    try:
        alone = [await confirm_all(venue, f"one-{i}", 1, poll_s) for i in range(singles)]
        single = statistics.median(alone)
        print(
            f"chain alone, one transaction at a time ({singles}): confirmed after"
            f" p50 {1000 * single:.0f} ms (min {1000 * min(alone):.0f}, max"
            f" {1000 * max(alone):.0f})",
            flush=True,
        )
        spans = [await confirm_all(venue, f"burst-{r}", burst, poll_s) for r in range(rounds)]
    finally:
        await venue.close()
    span = statistics.median(spans)
    rounds_text = ", ".join(f"{s:.2f}" for s in spans)
    print(
        f"chain alone, {burst} at once: all confirmed after {span:.2f} s (median of"
        f" {rounds_text}) = {span / single:.2f} x one transaction's p50",
        flush=True,
    )
    return span, single
