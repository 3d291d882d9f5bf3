"""The on-chain programs the simulator runs: their ids, instruction layouts and errors
(the vendored program binaries are in `simulator/programs/`).

Layouts are the programs' own, so a transaction built for mainnet decodes here:
- Raydium CPMM `swap_base_input`: Anchor discriminator `sha256("global:swap_base_input")[:8]`,
  `amount_in: u64`, `minimum_amount_out: u64`, 13 accounts (raydium-cp-swap
  `instructions/swap_base_input.rs`).
- Raydium AMM v4 `swap_base_in`: tag 9, `amount_in: u64`, `minimum_amount_out: u64`, the
  17-account form without target orders (raydium-amm `program/src/instruction.rs`).
- Meteora DLMM `swap`: discriminator `sha256("global:swap")[:8]`, `amount_in: u64`,
  `min_amount_out: u64`, 15 accounts then the bin arrays (dlmm-sdk `idls/dlmm.json`).
- Compute Budget `SetComputeUnitLimit` (tag 2, u32) and `SetComputeUnitPrice` (tag 3, u64).
- SPL Memo v2: the data is the memo, which must be UTF-8; no accounts needed
  (solana-program-library `memo/program/src/processor.rs`).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

COMPUTE_BUDGET = "ComputeBudget111111111111111111111111111111"
TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"  # noqa: S105 (an address)
SYSTEM_PROGRAM = "11111111111111111111111111111111"
CPMM_PROGRAM = "CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C"
AMM_V4_PROGRAM = "675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8"
DLMM_PROGRAM = "LBUZKhRxPF3XUpBCjp4YzTKgLccjZhTSDM9YuVaPwxo"
OPENBOOK_PROGRAM = "srmqPvymJeFKQ4zGQed1GFppgkRHL9kaELCbyksJtPX"

PROGRAM_OF_KIND = {"cpmm": CPMM_PROGRAM, "amm_v4": AMM_V4_PROGRAM, "dlmm": DLMM_PROGRAM}
KIND_OF_PROGRAM = {program: kind for kind, program in PROGRAM_OF_KIND.items()}
INSTRUCTION_NAME = {"cpmm": "SwapBaseInput", "amm_v4": "SwapBaseIn", "dlmm": "Swap"}


def anchor_discriminator(name: str) -> bytes:
    """Anchor's instruction discriminator: the first 8 bytes of sha256("global:<name>")."""
    return hashlib.sha256(f"global:{name}".encode()).digest()[:8]


SWAP_BASE_INPUT = anchor_discriminator("swap_base_input")
DLMM_SWAP = anchor_discriminator("swap")
AMM_V4_SWAP_BASE_IN = 9
_AMOUNTS = struct.Struct("<QQ")

# Compute units a swap of each venue consumes here (SIMULATOR.md §1: CPMM ≈ 140k).
UNITS_CONSUMED = {"cpmm": 140_000, "amm_v4": 60_000, "dlmm": 120_000}
COMPUTE_BUDGET_UNITS = 150
MEMO_PROGRAM = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr"
# What a short memo with no signers costs; the program's cost grows with the memo's
# length (its UTF-8 check and its log line), an approximation here.
MEMO_UNITS = 2_000

# Who may appear in which account slot, by role: the simulator checks a swap's account
# list against the one its pool expects, as the programs' account constraints do.
# "pool", "owner", "user_in", "user_out", "vault_in", "vault_out", "mint_in",
# "mint_out", "token_program" and "program" are filled per swap; the rest are the
# pool's own accounts (`simulator.pool_keys`). A trailing `w` marks a writable slot,
# `s` a signer.
LAYOUTS: dict[str, tuple[str, ...]] = {
    "cpmm": (
        "owner:s",
        "authority",
        "ammConfig",
        "pool:w",
        "user_in:w",
        "user_out:w",
        "vault_in:w",
        "vault_out:w",
        "token_program",
        "token_program",
        "mint_in",
        "mint_out",
        "observation:w",
    ),
    "amm_v4": (
        "token_program",
        "pool:w",
        "authority",
        "openOrders:w",
        "vaultX:w",
        "vaultY:w",
        "serumProgram",
        "serumMarket:w",
        "serumBids:w",
        "serumAsks:w",
        "serumEventQueue:w",
        "serumCoinVault:w",
        "serumPcVault:w",
        "serumVaultSigner",
        "user_in:w",
        "user_out:w",
        "owner:s",
    ),
    "dlmm": (
        "pool:w",
        "program",  # bin_array_bitmap_extension: none (the program id stands for None)
        "vaultX:w",
        "vaultY:w",
        "user_in:w",
        "user_out:w",
        "mintX",
        "mintY",
        "oracle:w",
        "program",  # host_fee_in: none
        "owner:s",
        "token_program",
        "token_program",
        "eventAuthority",
        "program",
    ),
}
POOL_SLOT = {
    kind: [role.split(":")[0] for role in roles].index("pool") for kind, roles in LAYOUTS.items()
}


@dataclass(frozen=True, slots=True)
class SwapData:
    amount_in: int
    minimum_amount_out: int


def decode_swap_data(kind: str, data: bytes) -> SwapData | None:
    """The amounts of a swap instruction of `kind`, or None when it is not that swap."""
    if kind == "amm_v4":
        if len(data) != 17 or data[0] != AMM_V4_SWAP_BASE_IN:
            return None
        return SwapData(*_AMOUNTS.unpack_from(data, 1))
    prefix = SWAP_BASE_INPUT if kind == "cpmm" else DLMM_SWAP
    if len(data) != 24 or data[:8] != prefix:
        return None
    return SwapData(*_AMOUNTS.unpack_from(data, 8))


def decode_compute_budget(data: bytes) -> tuple[str, int] | None:
    """("limit", units) or ("price", micro-lamports per unit); None for other requests."""
    if len(data) == 5 and data[0] == 2:
        return "limit", int.from_bytes(data[1:5], "little")
    if len(data) == 9 and data[0] == 3:
        return "price", int.from_bytes(data[1:9], "little")
    return None


# Custom error numbers by program, as clients name them (SIMULATOR.md §7).
ERROR_NAMES: dict[str, dict[int, str]] = {
    TOKEN_PROGRAM: {1: "InsufficientFunds"},
    CPMM_PROGRAM: {6000: "NotApproved", 6005: "ExceededSlippage", 6006: "ZeroTradingTokens"},
    AMM_V4_PROGRAM: {30: "ExceededSlippage"},
    DLMM_PROGRAM: {6003: "ExceededAmountSlippageTolerance", 6012: "PairInsufficientLiquidity"},
}
