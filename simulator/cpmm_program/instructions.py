"""The two CPMM instructions the simulator sends, in the program's own account order.

Orders from raydium-cp-swap `instructions/initialize.rs` (`Initialize`, 20 accounts) and
`instructions/swap_base_input.rs` (`Swap`, 13 accounts, which `swap_base_output` shares);
Anchor reads accounts by position, so a swapped pair fails with a constraint error rather
than doing the wrong thing.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey
from solders.system_program import ID as SYSTEM_PROGRAM_ID
from solders.sysvar import RENT
from solders.token import ID as TOKEN_PROGRAM_ID

from simulator.cpmm_program.layout import (
    ASSOCIATED_TOKEN_PROGRAM_ID,
    CREATE_POOL_FEE_RECEIVER,
    PROGRAM_ID,
    PoolAddresses,
    discriminator,
)

_INITIALIZE = discriminator("global", "initialize")
_SWAP_BASE_INPUT = discriminator("global", "swap_base_input")
_SWAP_BASE_OUTPUT = discriminator("global", "swap_base_output")


def _writable(address: Pubkey) -> AccountMeta:
    return AccountMeta(address, is_signer=False, is_writable=True)


def _readonly(address: Pubkey) -> AccountMeta:
    return AccountMeta(address, is_signer=False, is_writable=False)


@dataclass(frozen=True, slots=True)
class CreatorAccounts:
    """The pool creator and the token accounts `initialize` debits and credits."""

    creator: Pubkey
    token_0: Pubkey
    token_1: Pubkey
    lp_token: Pubkey  # the creator's associated token account of the LP mint


def initialize(
    pool: PoolAddresses, creator: CreatorAccounts, amounts: tuple[int, int], open_time: int
) -> Instruction:
    """`initialize(init_amount_0, init_amount_1, open_time)` on SPL Token mints."""
    data = _INITIALIZE + struct.pack("<QQQ", *amounts, open_time)
    accounts = [
        AccountMeta(creator.creator, is_signer=True, is_writable=True),
        _readonly(pool.amm_config),
        _readonly(pool.authority),
        _writable(pool.pool_state),
        _readonly(pool.mint_0),
        _readonly(pool.mint_1),
        _writable(pool.lp_mint),
        _writable(creator.token_0),
        _writable(creator.token_1),
        _writable(creator.lp_token),
        _writable(pool.vault_0),
        _writable(pool.vault_1),
        _writable(CREATE_POOL_FEE_RECEIVER),
        _writable(pool.observation),
        _readonly(TOKEN_PROGRAM_ID),  # token_program (the LP mint's)
        _readonly(TOKEN_PROGRAM_ID),  # token_0_program
        _readonly(TOKEN_PROGRAM_ID),  # token_1_program
        _readonly(ASSOCIATED_TOKEN_PROGRAM_ID),
        _readonly(SYSTEM_PROGRAM_ID),
        _readonly(RENT),
    ]
    return Instruction(PROGRAM_ID, data, accounts)


@dataclass(frozen=True, slots=True)
class TraderAccounts:
    """Who signs a swap, and the token accounts it pays from and receives into."""

    payer: Pubkey
    token_0: Pubkey
    token_1: Pubkey


def swap_base_input(
    pool: PoolAddresses,
    trader: TraderAccounts,
    zero_for_one: bool,
    amount_in: int,
    minimum_amount_out: int,
) -> Instruction:
    """`swap_base_input(amount_in, minimum_amount_out)`; token 0 in when `zero_for_one`."""
    data = _SWAP_BASE_INPUT + struct.pack("<QQ", amount_in, minimum_amount_out)
    return Instruction(PROGRAM_ID, data, _swap_accounts(pool, trader, zero_for_one))


def swap_base_output(
    pool: PoolAddresses,
    trader: TraderAccounts,
    zero_for_one: bool,
    max_amount_in: int,
    amount_out: int,
) -> Instruction:
    """`swap_base_output(max_amount_in, amount_out)`; token 0 in when `zero_for_one`."""
    data = _SWAP_BASE_OUTPUT + struct.pack("<QQ", max_amount_in, amount_out)
    return Instruction(PROGRAM_ID, data, _swap_accounts(pool, trader, zero_for_one))


def _swap_accounts(
    pool: PoolAddresses, trader: TraderAccounts, zero_for_one: bool
) -> list[AccountMeta]:
    side_in, side_out = (0, 1) if zero_for_one else (1, 0)
    users = (trader.token_0, trader.token_1)
    vaults = (pool.vault_0, pool.vault_1)
    mints = (pool.mint_0, pool.mint_1)
    return [
        AccountMeta(trader.payer, is_signer=True, is_writable=False),
        _readonly(pool.authority),
        _readonly(pool.amm_config),
        _writable(pool.pool_state),
        _writable(users[side_in]),
        _writable(users[side_out]),
        _writable(vaults[side_in]),
        _writable(vaults[side_out]),
        _readonly(TOKEN_PROGRAM_ID),  # input_token_program
        _readonly(TOKEN_PROGRAM_ID),  # output_token_program
        _readonly(mints[side_in]),
        _readonly(mints[side_out]),
        _writable(pool.observation),
    ]
