"""Slots, blocks and blockhashes on a virtual clock (SIMULATOR.md §1).

Each slot produces a block unless the leader skips it; only produced blocks raise
the block height and add a blockhash, so blockhash expiry counts blocks, not slots.
"""

from __future__ import annotations

from collections import OrderedDict

from simulator.base58 import b58encode
from simulator.config import BLOCKHASH_VALIDITY, SimulatorConfig
from simulator.streams import pubkey, stream

KEPT_BLOCKHASHES = 2 * BLOCKHASH_VALIDITY


class Chain:
    """The clock of the simulated cluster."""

    def __init__(self, config: SimulatorConfig) -> None:
        self._config = config
        self._skips = stream(config.seed, "skips")
        self._hashes = stream(config.seed, "blockhashes")
        self.slot = config.start_slot
        self.block_height = config.start_block_height
        self._recent: OrderedDict[str, int] = OrderedDict()
        self.blockhash = self._new_blockhash()

    def _new_blockhash(self) -> str:
        blockhash = b58encode(pubkey(self._hashes))
        self._recent[blockhash] = self.block_height
        if len(self._recent) > KEPT_BLOCKHASHES:
            self._recent.popitem(last=False)
        return blockhash

    def unix_time(self) -> int:
        """Cluster time in whole seconds, as the Clock sysvar reports it."""
        return self.unix_time_at(self.slot)

    def unix_time_at(self, slot: int) -> int:
        """The Clock sysvar's whole seconds at `slot`."""
        elapsed_ms = (slot - self._config.start_slot) * self._config.slot_ms
        return self._config.genesis_unix + elapsed_ms // 1000

    def first_slot_at(self, unix_time: int) -> int:
        """The first slot whose clock reads `unix_time` or later."""
        elapsed_ms = (unix_time - self._config.genesis_unix) * 1000
        return self._config.start_slot + max(0, -(-elapsed_ms // self._config.slot_ms))

    def last_valid_block_height(self) -> int:
        return self.block_height + BLOCKHASH_VALIDITY

    def height_of(self, blockhash: str) -> int | None:
        """Block height at which a recent blockhash was produced, if still known."""
        return self._recent.get(blockhash)

    def next_slot(self) -> bool:
        """Move to the next slot; True when its leader produced a block."""
        self.slot += 1
        if self._skips.random() < self._config.skip_rate:
            return False
        self.block_height += 1
        self.blockhash = self._new_blockhash()
        return True
