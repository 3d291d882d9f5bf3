"""Every account a swap on a pool names, and the wallets' associated token accounts.

Where a program derives an account (a PDA), it is derived here the same way, from the
program's own seeds; the accounts a program only stores (AMM v4's OpenBook market) are
hashed from the pool address, so a seed always gives the same keys and drawing them
shifts no random stream. The quote service hands these out (`GET /pools/keys`), as
Raydium's API hands out pool keys, so a client builds the instruction from them.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import msgspec
from solders.pubkey import Pubkey
from solders.token.associated import get_associated_token_address

from simulator.program_layouts import OPENBOOK_PROGRAM, PROGRAM_OF_KIND
from simulator.swap import PoolInfo

# Raydium AMM v4's one authority (the PDA of its nonce seed "amm authority").
AMM_V4_AUTHORITY = "5Q544fKrFoe6tsEbD7S8EmxGTJYAKtTVhAW5Q5pge4j1"
DLMM_BIN_ARRAY_SIZE = 70  # bins per bin array account


class PoolKeys(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A pool's accounts by role (the role names of `simulator.programs.LAYOUTS`)."""

    id: str
    kind: str
    program_id: str
    mint_x: str
    mint_y: str
    accounts: dict[str, str]
    bin_arrays: list[str] = []


def _pda(seeds: list[bytes], program: str) -> str:
    address, _ = Pubkey.find_program_address(seeds, Pubkey.from_string(program))
    return str(address)


def _stored(pool: str, role: str) -> str:
    return str(Pubkey(hashlib.sha256(f"{pool}:{role}".encode()).digest()))


def pool_keys(info: PoolInfo, bin_ids: range | None = None, config_index: int = 0) -> PoolKeys:
    """The keys of the pool `info`; for DLMM, the bin arrays covering `bin_ids`; for
    CPMM, `config_index` is its fee tier (the `AmmConfig` account's index)."""
    program = PROGRAM_OF_KIND[info.kind]
    pool = Pubkey.from_string(info.address)
    mint_x, mint_y = Pubkey.from_string(info.mint_x), Pubkey.from_string(info.mint_y)
    accounts: dict[str, str]
    bin_arrays: list[str] = []
    if info.kind == "cpmm":
        accounts = {
            "authority": _pda([b"vault_and_lp_mint_auth_seed"], program),
            "ammConfig": _pda([b"amm_config", config_index.to_bytes(2, "big")], program),
            "vaultX": _pda([b"pool_vault", bytes(pool), bytes(mint_x)], program),
            "vaultY": _pda([b"pool_vault", bytes(pool), bytes(mint_y)], program),
            "observation": _pda([b"observation", bytes(pool)], program),
        }
    elif info.kind == "amm_v4":
        accounts = {
            "authority": AMM_V4_AUTHORITY,
            "openOrders": _stored(info.address, "openOrders"),
            "vaultX": _stored(info.address, "coinVault"),
            "vaultY": _stored(info.address, "pcVault"),
            "serumProgram": OPENBOOK_PROGRAM,
            **{
                role: _stored(info.address, role)
                for role in (
                    "serumMarket",
                    "serumBids",
                    "serumAsks",
                    "serumEventQueue",
                    "serumCoinVault",
                    "serumPcVault",
                    "serumVaultSigner",
                )
            },
        }
    else:
        accounts = {
            "vaultX": _pda([bytes(pool), bytes(mint_x)], program),
            "vaultY": _pda([bytes(pool), bytes(mint_y)], program),
            "oracle": _pda([b"oracle", bytes(pool)], program),
            "eventAuthority": _pda([b"__event_authority"], program),
        }
        if bin_ids is not None:
            first = bin_ids.start // DLMM_BIN_ARRAY_SIZE
            last = (bin_ids.stop - 1) // DLMM_BIN_ARRAY_SIZE
            bin_arrays = [
                _pda([b"bin_array", bytes(pool), index.to_bytes(8, "little", signed=True)], program)
                for index in range(first, last + 1)
            ]
    return PoolKeys(
        id=info.address,
        kind=info.kind,
        program_id=program,
        mint_x=info.mint_x,
        mint_y=info.mint_y,
        accounts=accounts,
        bin_arrays=bin_arrays,
    )


@lru_cache(maxsize=65_536)
def token_account(owner: str, mint: str) -> str:
    """The associated token account of `owner` for `mint` (what wallets trade from)."""
    return str(get_associated_token_address(Pubkey.from_string(owner), Pubkey.from_string(mint)))
