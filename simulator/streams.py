"""Seeded random streams, one per component of the simulation.

`random.Random(str)` hashes the string with SHA-512, independent of PYTHONHASHSEED,
so a seed gives the same draws on every run; and because each component draws from
its own stream, adding draws to one component never shifts another's.
"""

from __future__ import annotations

import random

COMPONENTS = (
    "pools",  # pool addresses
    "blockhashes",
    "skips",  # skipped slots
    "reference",  # reference price paths
    "noise",  # noise traders
    "arbitrage",
    "landing",  # landing draws and position in the block
    "failures",  # account-in-use and injected slippage
    "forks",
    "latency",  # confirmation delays
    "quotes",  # simulated quote compute time (timeTaken)
    "hostile",  # which requests a hostile node refuses, drops, delays or answers stale
    "launches",  # when new pools launch on their own, and their properties
    "launch_keys",  # a launch's mint, pool and creator keys
    "crowd",  # the competing snipers buying a new pool
)


def stream(seed: int, component: str) -> random.Random:
    """The random stream of `component` under the master `seed`."""
    if component not in COMPONENTS:
        raise ValueError(f"unknown random stream {component!r}")
    # A simulation needs reproducible draws, not unpredictable ones.
    return random.Random(f"{seed}:{component}")  # noqa: S311


def pubkey(rng: random.Random) -> bytes:
    """32 random bytes, the size of an ed25519 public key or a blockhash."""
    return rng.randbytes(32)
