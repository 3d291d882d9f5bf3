"""The byte layouts and addresses of the vendored Raydium CPMM program.

Read from raydium-cp-swap `states/config.rs`, `states/pool.rs`, `lib.rs` and the seeds of
`instructions/initialize.rs`, at the commits this build matches (programs/README.md).
Anchor prefixes an account with `sha256("account:<Type>")[:8]` and an instruction with
`sha256("global:<name>")[:8]`; `AmmConfig` is Borsh, `PoolState` is zero-copy `repr(packed)`.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from solders.pubkey import Pubkey

from simulator.cpmm import AmmConfig

PROGRAM_ID = Pubkey.from_string("CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C")
ADMIN = Pubkey.from_string("GThUX1Atko4tqhN2NaiTazWSeFWMuiUvfFnyJyUghFMJ")
CREATE_POOL_FEE_RECEIVER = Pubkey.from_string("DNXgeM9EiiaAbaWvwjHj9fQQLAX5ZsfHyvmYUNRAdNC8")
ASSOCIATED_TOKEN_PROGRAM_ID = Pubkey.from_string("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL")

AMM_CONFIG_LEN = 236  # 8 + 1 + 1 + 2 + 4 * 8 + 2 * 32 + 16 * 8
POOL_STATE_LEN = 637  # 8 + 10 * 32 + 5 + 7 * 8 + 31 * 8
# PoolState is packed: ten pubkeys, five u8s, then u64s. Offsets include the discriminator.
_POOL_FEES_AND_TIME = 8 + 10 * 32 + 5 + 8  # protocol_fees_token_0 ... open_time


def discriminator(namespace: str, name: str) -> bytes:
    """Anchor's 8-byte tag: `namespace` is "global" (instructions) or "account"."""
    return hashlib.sha256(f"{namespace}:{name}".encode()).digest()[:8]


def amm_config_address(index: int) -> tuple[Pubkey, int]:
    """The config PDA `create_amm_config` would have made for `index`, and its bump."""
    return Pubkey.find_program_address([b"amm_config", struct.pack(">H", index)], PROGRAM_ID)


def amm_config_data(config: AmmConfig, bump: int) -> bytes:
    """An `AmmConfig` account as `create_amm_config` writes it (no create-pool fee)."""
    trade, protocol, fund = config.trade_fee_rate, config.protocol_fee_rate, config.fund_fee_rate
    # The program asserts these bounds in create/update_amm_config; writing the account
    # directly skips them, so they are checked here instead.
    if not (0 <= trade < 1_000_000 and min(protocol, fund) >= 0 and protocol + fund <= 1_000_000):
        raise ValueError(
            f"fee rates {(trade, protocol, fund)} outside the program's bounds: trade < 1e6,"
            " protocol + fund <= 1e6 (parts per million)"
        )
    head = struct.pack("<BBHQQQQ", bump, 0, config.index, trade, protocol, fund, 0)
    owners = bytes(ADMIN) * 2  # protocol_owner, fund_owner: only the admin collects
    data = discriminator("account", "AmmConfig") + head + owners + bytes(16 * 8)
    assert len(data) == AMM_CONFIG_LEN
    return data


@dataclass(frozen=True, slots=True)
class PoolAddresses:
    """Every account `initialize` and `swap_base_input` name, for one pool."""

    amm_config: Pubkey
    authority: Pubkey
    pool_state: Pubkey
    mint_0: Pubkey
    mint_1: Pubkey
    lp_mint: Pubkey
    vault_0: Pubkey
    vault_1: Pubkey
    observation: Pubkey


def _pda(*seeds: bytes) -> Pubkey:
    return Pubkey.find_program_address(list(seeds), PROGRAM_ID)[0]


def pool_addresses(amm_config: Pubkey, mint_0: Pubkey, mint_1: Pubkey) -> PoolAddresses:
    """The PDAs of the canonical pool of `mint_0 < mint_1` under `amm_config`."""
    if bytes(mint_0) >= bytes(mint_1):
        raise ValueError("token_0_mint must sort below token_1_mint (initialize.rs constraint)")
    pool = _pda(b"pool", bytes(amm_config), bytes(mint_0), bytes(mint_1))
    return PoolAddresses(
        amm_config=amm_config,
        authority=_pda(b"vault_and_lp_mint_auth_seed"),
        pool_state=pool,
        mint_0=mint_0,
        mint_1=mint_1,
        lp_mint=_pda(b"pool_lp_mint", bytes(pool)),
        vault_0=_pda(b"pool_vault", bytes(pool), bytes(mint_0)),
        vault_1=_pda(b"pool_vault", bytes(pool), bytes(mint_1)),
        observation=_pda(b"observation", bytes(pool)),
    )


@dataclass(frozen=True, slots=True)
class PoolFees:
    """The fees a pool's vaults hold that are not the curve's (`PoolState` fields)."""

    protocol_fees_token_0: int
    protocol_fees_token_1: int
    fund_fees_token_0: int
    fund_fees_token_1: int
    open_time: int

    @property
    def accrued_token_0(self) -> int:
        return self.protocol_fees_token_0 + self.fund_fees_token_0

    @property
    def accrued_token_1(self) -> int:
        return self.protocol_fees_token_1 + self.fund_fees_token_1


def decode_pool_fees(data: bytes) -> PoolFees:
    """The accrued fees and `open_time` of a `PoolState` account's data."""
    if len(data) != POOL_STATE_LEN or data[:8] != discriminator("account", "PoolState"):
        raise ValueError(f"not a PoolState account ({len(data)} bytes)")
    return PoolFees(*struct.unpack_from("<5Q", data, _POOL_FEES_AND_TIME))
