"""New pools on the chain, as the engine recorded them: one `PoolLaunched` per pool.

A launch is not an order: each pool is its own stream (`pool-<address>`), written
once by the pool watcher at expected version 0 with a command id of its own
(`launch:<pool>`), so a crash, a restart or two watchers can never record a pool twice.
Amounts are atomic units; `open_time` is the chain's unix time from which the pool
trades (before it, the venue's program refuses every swap).
"""

from __future__ import annotations

import msgspec

POOL_STREAM_PREFIX = "pool-"


class PoolLaunched(msgspec.Struct, frozen=True, kw_only=True, rename="camel", tag=True):
    """A pool creation the watcher found on the chain, with what filters read."""

    pool: str
    venue: str  # "raydium"
    kind: str  # "cpmm"
    base_mint: str  # the new token
    quote_mint: str  # what it is paired with (SOL or USDC)
    creator: str
    base_reserve: int
    quote_reserve: int
    base_decimals: int
    open_time: int  # unix seconds of the chain's clock
    slot: int  # the creation's slot
    signature: str  # the creation transaction
    mint_authority: str | None  # None: renounced
    freeze_authority: str | None  # None: not freezable
    lp_burned_pct: int
    top_holder_pct: int
    seen_slot: int  # the chain's slot when the watcher read it


def pool_stream(pool: str) -> str:
    return f"{POOL_STREAM_PREFIX}{pool}"


def launch_command_id(pool: str) -> str:
    return f"launch:{pool}"


_encoder = msgspec.json.Encoder()


def encode_launch(event: PoolLaunched) -> bytes:
    """The stored data: the fields without the tag (the event type names it)."""
    fields = msgspec.to_builtins(event)
    del fields["type"]
    return _encoder.encode(fields)


def decode_launch(data: bytes | str) -> PoolLaunched:
    return msgspec.json.decode(data, type=PoolLaunched)
