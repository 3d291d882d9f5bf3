"""The venue programs as a client sees them: ids, swap instruction layouts, error names.

The layouts are the programs' own (Raydium CPMM `swap_base_input`, AMM v4 `swap_base_in`
(tag 9), Meteora DLMM `swap`), so the same instruction is valid on mainnet. The account
order follows each program's account struct; `PoolKeys` (from the quote service, as
Raydium's API serves pool keys) supplies the pool's own accounts by role.
"""

from __future__ import annotations

import hashlib
import struct
from functools import lru_cache

import msgspec
from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey
from solders.token.associated import get_associated_token_address

TOKEN_PROGRAM = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
CPMM_PROGRAM = "CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C"
AMM_V4_PROGRAM = "675kPX9MHTjS2zt1qfr1NYHuzeLXfQM9H24wFSUt1Mp8"
DLMM_PROGRAM = "LBUZKhRxPF3XUpBCjp4YzTKgLccjZhTSDM9YuVaPwxo"

SWAP_BASE_INPUT = hashlib.sha256(b"global:swap_base_input").digest()[:8]
DLMM_SWAP = hashlib.sha256(b"global:swap").digest()[:8]
AMM_V4_SWAP_BASE_IN = 9
_AMOUNTS = struct.Struct("<QQ")

# Custom program errors by program, as the logs name the failing program.
ERROR_NAMES: dict[str, dict[int, str]] = {
    str(TOKEN_PROGRAM): {1: "InsufficientFunds"},
    CPMM_PROGRAM: {6000: "NotApproved", 6005: "ExceededSlippage", 6006: "ZeroTradingTokens"},
    AMM_V4_PROGRAM: {30: "ExceededSlippage"},
    DLMM_PROGRAM: {6003: "ExceededAmountSlippageTolerance", 6012: "PairInsufficientLiquidity"},
}


class PoolKeys(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Every account a swap on a pool names, by role (`GET /pools/keys`)."""

    id: str
    kind: str  # "cpmm" | "amm_v4" | "dlmm"
    program_id: str
    mint_x: str
    mint_y: str
    accounts: dict[str, str]
    bin_arrays: list[str] = []


@lru_cache(maxsize=1024)  # a program-address search: sha256s, the same few answers
def token_account(owner: Pubkey, mint: str) -> Pubkey:
    """The wallet's associated token account for `mint`."""
    return get_associated_token_address(owner, Pubkey.from_string(mint))


def _meta(address: str | Pubkey, writable: bool = False, signer: bool = False) -> AccountMeta:
    key = address if isinstance(address, Pubkey) else Pubkey.from_string(address)
    return AccountMeta(key, signer, writable)


class SwapLayout(msgspec.Struct, frozen=True):
    """All of a venue's swap instruction but its amounts: the same for every swap on a
    pool in one direction from one wallet."""

    program: Pubkey
    prefix: bytes  # the instruction's discriminator (Anchor) or tag (AMM v4)
    accounts: list[AccountMeta]

    def instruction(self, amount_in: int, min_amount_out: int) -> Instruction:
        return Instruction(
            self.program, self.prefix + _AMOUNTS.pack(amount_in, min_amount_out), self.accounts
        )


def swap_instruction(
    keys: PoolKeys, owner: Pubkey, input_mint: str, amount_in: int, min_amount_out: int
) -> Instruction:
    """The venue's exact-in swap of `amount_in` of `input_mint` from `owner`'s wallet."""
    return swap_layout(keys, owner, input_mint).instruction(amount_in, min_amount_out)


def swap_layout(keys: PoolKeys, owner: Pubkey, input_mint: str) -> SwapLayout:
    """The venue's exact-in swap of `input_mint` from `owner`'s wallet, amounts aside."""
    x_to_y = input_mint == keys.mint_x
    output_mint = keys.mint_y if x_to_y else keys.mint_x
    user_in, user_out = token_account(owner, input_mint), token_account(owner, output_mint)
    a = keys.accounts
    vault_in, vault_out = (a["vaultX"], a["vaultY"]) if x_to_y else (a["vaultY"], a["vaultX"])
    program = Pubkey.from_string(keys.program_id)
    if keys.kind == "cpmm":
        metas = [
            _meta(owner, signer=True),
            _meta(a["authority"]),
            _meta(a["ammConfig"]),
            _meta(keys.id, writable=True),
            _meta(user_in, writable=True),
            _meta(user_out, writable=True),
            _meta(vault_in, writable=True),
            _meta(vault_out, writable=True),
            _meta(TOKEN_PROGRAM),
            _meta(TOKEN_PROGRAM),
            _meta(input_mint),
            _meta(output_mint),
            _meta(a["observation"], writable=True),
        ]
        return SwapLayout(program, SWAP_BASE_INPUT, metas)
    if keys.kind == "amm_v4":
        serum = ["serumMarket", "serumBids", "serumAsks", "serumEventQueue"]
        metas = [
            _meta(TOKEN_PROGRAM),
            _meta(keys.id, writable=True),
            _meta(a["authority"]),
            _meta(a["openOrders"], writable=True),
            _meta(a["vaultX"], writable=True),
            _meta(a["vaultY"], writable=True),
            _meta(a["serumProgram"]),
            *(_meta(a[role], writable=True) for role in serum),
            _meta(a["serumCoinVault"], writable=True),
            _meta(a["serumPcVault"], writable=True),
            _meta(a["serumVaultSigner"]),
            _meta(user_in, writable=True),
            _meta(user_out, writable=True),
            _meta(owner, signer=True),
        ]
        return SwapLayout(program, bytes([AMM_V4_SWAP_BASE_IN]), metas)
    if keys.kind == "dlmm":
        metas = [
            _meta(keys.id, writable=True),
            _meta(program),  # bin_array_bitmap_extension: none
            _meta(a["vaultX"], writable=True),
            _meta(a["vaultY"], writable=True),
            _meta(user_in, writable=True),
            _meta(user_out, writable=True),
            _meta(keys.mint_x),
            _meta(keys.mint_y),
            _meta(a["oracle"], writable=True),
            _meta(program),  # host_fee_in: none
            _meta(owner, signer=True),
            _meta(TOKEN_PROGRAM),
            _meta(TOKEN_PROGRAM),
            _meta(a["eventAuthority"]),
            _meta(program),
            *(_meta(bin_array, writable=True) for bin_array in keys.bin_arrays),
        ]
        return SwapLayout(program, DLMM_SWAP, metas)
    raise ValueError(f"no swap layout for pool kind {keys.kind!r}")


# Where, in each venue's swap accounts, the pool and its two vaults are.
POOL_SLOTS: dict[str, tuple[int, int, int]] = {
    CPMM_PROGRAM: (3, 6, 7),
    AMM_V4_PROGRAM: (1, 4, 5),
    DLMM_PROGRAM: (0, 2, 3),
}
