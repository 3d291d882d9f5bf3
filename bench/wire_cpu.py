"""What the wire costs in CPU: per request, the engine's HTTP client, aiohttp's
`ClientSession` (`workers.solana.http`), beside the hand-written keep-alive client it
replaced (`bench.keepalive_client`), and the simulator's aiohttp server, in one run;
per transaction, the wallet's build and ed25519 signature.

    python -m bench.wire_cpu [--requests 3000] [--rounds 3]

The simulator runs as its own process; each client sends the same JSON-RPC
`getBlockHeight` (a small answer) and `POST /quote/ladder` (a few kB) requests, one at
a time and 16 at once. Client CPU is this process's CPU time per request; server CPU
the simulator process's (from /proc), per request. Rounds alternate the clients, and
the medians are printed, so a busy neighbour on a shared machine weighs on both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import msgspec

from bench.engine_runs import process_cpu_s
from bench.keepalive_client import KeepAliveClient
from commands.chain_types import SwapLeg, SwapRequest
from simulator.universe import SOL, USDC
from tests.support.simulator_process import simulator_process
from workers.solana.connect import connect
from workers.solana.http import HttpClient, Transport
from workers.solana.wallet import load_keypair

_BLOCK_HEIGHT = msgspec.json.encode({"jsonrpc": "2.0", "id": 1, "method": "getBlockHeight"})
_LADDER = msgspec.json.encode(
    {
        "inputMint": "SOL",
        "outputMint": "USDC",
        "amounts": [str(10**9 * k) for k in range(1, 11)],
    }
)
REQUESTS = {"getBlockHeight": ("/", _BLOCK_HEIGHT), "quote ladder": ("/quote/ladder", _LADDER)}
CLIENTS: dict[str, Callable[[str], Transport]] = {
    "aiohttp": lambda url: HttpClient(url, max_connections=16),
    "hand-written": lambda url: KeepAliveClient(url, max_connections=16),
}


async def _measure(
    client: Transport, path: str, body: bytes, requests: int, at_once: int, server: int
) -> tuple[float, float]:
    """(client µs, server µs) of CPU per request."""

    async def one() -> None:
        status, _ = await client.request("POST", path, body)
        assert status == 200, status

    async def lane(count: int, send: Callable[[], Awaitable[None]]) -> None:
        for _ in range(count):
            await send()

    await asyncio.gather(*(one() for _ in range(at_once)))  # connections open, code warm
    client_before, server_before = time.process_time(), process_cpu_s(server)
    await asyncio.gather(*(lane(requests // at_once, one) for _ in range(at_once)))
    client_cpu = time.process_time() - client_before
    server_cpu = process_cpu_s(server) - server_before
    done = requests // at_once * at_once
    return 1e6 * client_cpu / done, 1e6 * server_cpu / done


async def run(url: str, pid: int, requests: int, rounds: int) -> None:
    for name, (path, body) in REQUESTS.items():
        for at_once in (1, 16):
            seen: dict[str, list[tuple[float, float]]] = {client: [] for client in CLIENTS}
            for round_number in range(rounds):
                order = list(CLIENTS) if round_number % 2 == 0 else list(reversed(CLIENTS))
                for client_name in order:
                    client = CLIENTS[client_name](url)
                    try:
                        seen[client_name].append(
                            await _measure(client, path, body, requests, at_once, pid)
                        )
                    finally:
                        await client.close()
            for client_name, figures in seen.items():
                client_us = statistics.median(f[0] for f in figures)
                server_us = statistics.median(f[1] for f in figures)
                print(
                    f"{name:<15} {at_once:>2} at once  {client_name:<13} client"
                    f" {client_us:6.0f} µs/request   aiohttp server {server_us:6.0f} µs/request",
                    flush=True,
                )


async def signing(url: str, count: int) -> None:
    """CPU per transaction the wallet builds and signs, over one pool and over two."""
    chain = connect(url, url, load_keypair("", seed=1))
    try:
        ladder = await chain.quotes.ladder(SOL.mint, USDC.mint, [10**9])
        latest = await chain.rpc.latest_blockhash()
        for legs in (1, 2):
            pools = ladder.pools[:legs]
            swaps = [
                SwapRequest(
                    input_mint=SOL.mint,
                    output_mint=USDC.mint,
                    legs=tuple(
                        SwapLeg(
                            pool=pool.amm_key,
                            venue=pool.venue,
                            amount_in=10**9 + n,
                            min_amount_out=1,
                        )
                        for pool in pools
                    ),
                    compute_unit_price=10_000,
                    memo=f"bench.wire_cpu:{n}",
                )
                for n in range(count)
            ]
            await chain.wallet.build(swaps[0], latest)  # pool keys fetched, code warm
            started = time.process_time()
            for swap in swaps:
                await chain.wallet.build(swap, latest)
            per_tx = 1e6 * (time.process_time() - started) / count
            print(f"build and sign a {legs}-leg swap: {per_tx:.0f} µs CPU per transaction")
    finally:
        await chain.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.wire_cpu", description=__doc__)
    parser.add_argument("--requests", type=int, default=3_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="oe-bench-cpu-") as scratch,
        simulator_process(Path(scratch), seed=1, journaled=False) as simulator,
    ):
        assert simulator.process is not None
        asyncio.run(run(simulator.url, simulator.process.pid, args.requests, args.rounds))
        asyncio.run(signing(simulator.url, args.requests))


if __name__ == "__main__":
    main()
