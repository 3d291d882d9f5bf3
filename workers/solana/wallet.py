"""The engine's wallet: its keypair, and the transactions it builds and signs.

`WALLET_KEYPAIR` names a Solana CLI keypair file (a JSON array of 64 bytes); empty, the
key is derived from the simulator's seed, for the embedded and development runs, so the
same seed gives the same signatures. The key is never logged or printed.

A transaction is a v0 message: `SetComputeUnitLimit`, `SetComputeUnitPrice` (the
priority fee), one swap instruction per route leg, then an SPL Memo naming the order
(so two orders alike are two transactions), signed with ed25519, so its signature is
known before it is sent and the same inputs give the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price
from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from commands.chain_types import Blockhash, SignedTransaction, SwapRequest
from commands.ports import TransactionTooLarge
from workers.solana.programs import PoolKeys, SwapLayout, swap_layout

UNITS_PER_SWAP = 200_000
MAX_UNITS = 1_400_000
PACKET_DATA_SIZE = 1_232  # bytes: the most a transaction may be (one packet)
# SPL Memo v2: no accounts needed, data must be UTF-8 (spl-memo `processor.rs`).
MEMO_PROGRAM = Pubkey.from_string("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr")

KeysSource = Callable[[list[str]], Awaitable[list[PoolKeys]]]


class WalletRefused(ValueError):
    """WALLET_KEYPAIR names no usable keypair file; the message names the file only."""


def load_keypair(path: str, seed: int) -> Keypair:
    """The keypair in the Solana CLI file at `path`; empty: one derived from `seed`."""
    if not path:
        return Keypair.from_seed(hashlib.sha256(f"orderengine-dev-wallet:{seed}".encode()).digest())
    try:
        raw = json.loads(Path(path).read_text())
    except OSError as error:
        raise WalletRefused(f"WALLET_KEYPAIR={path}: cannot read it ({error.strerror})") from None
    except ValueError:
        raise WalletRefused(f"WALLET_KEYPAIR={path}: not JSON") from None
    if not (
        isinstance(raw, list) and len(raw) == 64 and all(isinstance(b, int) for b in raw)
    ) or not all(0 <= b < 256 for b in raw):
        raise WalletRefused(f"WALLET_KEYPAIR={path}: expected a JSON array of 64 bytes")
    try:
        return Keypair.from_bytes(bytes(raw))
    except ValueError:
        # Not the message: solders' may quote the bytes it refused.
        raise WalletRefused(f"WALLET_KEYPAIR={path}: not an ed25519 keypair") from None


class Wallet:
    """Builds and signs swaps (`commands.ports.TransactionBuilder`); pool keys come from
    `keys` (the quote service) once per pool."""

    def __init__(self, keypair: Keypair, keys: KeysSource) -> None:
        self._keypair = keypair
        self._fetch_keys = keys
        self._keys: dict[str, PoolKeys] = {}
        self._layouts: dict[tuple[str, str], SwapLayout] = {}  # by (pool, input mint)

    @property
    def address(self) -> str:
        return str(self._keypair.pubkey())

    def _layout(self, pool: str, input_mint: str) -> SwapLayout:
        layout = self._layouts.get((pool, input_mint))
        if layout is None:
            layout = swap_layout(self._keys[pool], self._keypair.pubkey(), input_mint)
            self._layouts[(pool, input_mint)] = layout
        return layout

    async def build(self, swap: SwapRequest, blockhash: Blockhash) -> SignedTransaction:
        missing = [leg.pool for leg in swap.legs if leg.pool not in self._keys]
        if missing:
            for keys in await self._fetch_keys(missing):
                self._keys[keys.id] = keys
        owner = self._keypair.pubkey()
        units = min(MAX_UNITS, UNITS_PER_SWAP * len(swap.legs))
        instructions = [
            set_compute_unit_limit(units),
            set_compute_unit_price(swap.compute_unit_price),
            *(
                self._layout(leg.pool, swap.input_mint).instruction(
                    leg.amount_in, leg.min_amount_out
                )
                for leg in swap.legs
            ),
            Instruction(MEMO_PROGRAM, swap.memo.encode(), []),
        ]
        message = MessageV0.try_compile(
            owner, instructions, [], Hash.from_string(blockhash.blockhash)
        )
        tx = VersionedTransaction(message, [self._keypair])
        wire = bytes(tx)
        if len(wire) > PACKET_DATA_SIZE:
            # A node refuses it outright; without lookup tables (not built yet) the
            # caller must route over fewer pools.
            raise TransactionTooLarge(len(wire), PACKET_DATA_SIZE)
        return SignedTransaction(
            signature=str(tx.signatures[0]), transaction=base64.b64encode(wire).decode()
        )
