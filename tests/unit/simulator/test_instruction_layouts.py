"""The wallet's swap instructions decode on the chain's side as what they encode, and
CPMM's layout is the program's IDL."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from solders.pubkey import Pubkey
from solders.token.associated import get_associated_token_address
from solders.transaction import VersionedTransaction

from simulator.core import Simulator
from simulator.cpmm import CONFIG_025
from simulator.cpmm_program import CpmmProgram, ProgramError, ProgramPool
from simulator.cpmm_program.layout import PROGRAM_ID as CPMM_PROGRAM_ID
from simulator.program_layouts import LAYOUTS, decode_swap_data
from simulator.swap_decoder import Decoder
from simulator.tx_intake import deserialize
from simulator.universe import SOL, USDC
from tests.support.solana_tx import CERTAIN, WALLET, keys_of, pool_addresses, swap_tx
from workers.solana.programs import SWAP_BASE_INPUT, PoolKeys, swap_instruction

SIM = Simulator(CERTAIN)
SOL_USDC = pool_addresses(SIM, "SOL/USDC")

# raydium-cp-swap's IDL (`swap_base_input`): its accounts, in order.
CPMM_IDL_ACCOUNTS = (
    "payer",
    "authority",
    "amm_config",
    "pool_state",
    "input_token_account",
    "output_token_account",
    "input_vault",
    "output_vault",
    "input_token_program",
    "output_token_program",
    "input_token_mint",
    "output_token_mint",
    "observation_state",
)
# The IDL's discriminator of swap_base_input, and its args (amount_in, minimum_amount_out: u64).
CPMM_IDL_DISCRIMINATOR = bytes([143, 190, 90, 218, 196, 30, 51, 222])


def test_cpmm_layout_follows_the_idl() -> None:
    assert SWAP_BASE_INPUT == CPMM_IDL_DISCRIMINATOR
    assert hashlib.sha256(b"global:swap_base_input").digest()[:8] == CPMM_IDL_DISCRIMINATOR
    assert len(LAYOUTS["cpmm"]) == len(CPMM_IDL_ACCOUNTS)
    pool = next(p for p in SOL_USDC if SIM.keys[p].kind == "cpmm")
    ix = swap_instruction(keys_of(SIM, pool), WALLET.pubkey(), SOL.mint, 7, 5)
    assert bytes(ix.data) == CPMM_IDL_DISCRIMINATOR + (7).to_bytes(8, "little") + (5).to_bytes(
        8, "little"
    )
    signer = [meta.is_signer for meta in ix.accounts]
    assert signer.index(True) == CPMM_IDL_ACCOUNTS.index("payer")
    assert str(ix.accounts[3].pubkey) == pool  # pool_state
    assert str(ix.accounts[6].pubkey) == SIM.keys[pool].accounts["vaultX"]  # input_vault, SOL in


@pytest.mark.parametrize("pool", SOL_USDC)
@given(
    amount_in=st.integers(1, 2**64 - 1),
    minimum=st.integers(0, 2**64 - 1),
    x_to_y=st.booleans(),
)
def test_what_the_wallet_encodes_the_chain_decodes(
    pool: str, amount_in: int, minimum: int, x_to_y: bool
) -> None:
    mint = SOL.mint if x_to_y else USDC.mint
    raw = swap_tx(SIM, [(pool, amount_in, minimum)], mint)
    tx = deserialize(raw)
    decoded = Decoder(SIM.catalog, SIM.keys, SIM.wallets).transaction(tx, raw, 1)
    assert decoded.broken is None
    (leg,) = decoded.legs
    assert (leg.pool.info.address, leg.amount_in, leg.min_amount_out) == (pool, amount_in, minimum)
    assert leg.x_to_y == x_to_y
    assert leg.instruction_index == 2  # after SetComputeUnitLimit and SetComputeUnitPrice
    kind = SIM.keys[pool].kind
    data = bytes(VersionedTransaction.from_bytes(raw).message.instructions[2].data)
    assert decode_swap_data(kind, data) is not None


def test_the_wallets_cpmm_swap_runs_in_the_real_program() -> None:
    # The instruction the engine's wallet builds, executed by the vendored Raydium CPMM
    # program (LiteSVM): it fills as our math says, and refuses an unmet minimum with
    # the program's own ExceededSlippage.
    program = CpmmProgram()
    pool = ProgramPool.create(program, CONFIG_025, 10**12, 2 * 10**12)
    pool.program.set_unix_time(pool.open_time + 1)
    a, owner = pool.addresses, program.operator.pubkey()
    for mint in (a.mint_0, a.mint_1):  # the wallet names its associated token accounts
        address = get_associated_token_address(owner, mint)
        program.create_token_account(mint, owner, 10**9 if mint == a.mint_0 else 0, address)
    keys = PoolKeys(
        id=str(a.pool_state),
        kind="cpmm",
        program_id=str(CPMM_PROGRAM_ID),
        mint_x=str(a.mint_0),
        mint_y=str(a.mint_1),
        accounts={
            "authority": str(a.authority),
            "ammConfig": str(a.amm_config),
            "vaultX": str(a.vault_0),
            "vaultY": str(a.vault_1),
            "observation": str(a.observation),
        },
    )
    x_to_y = bytes(Pubkey.from_string(pool.info.mint_x)) == bytes(a.mint_0)
    expected = pool.quote(10**6, x_to_y, program.unix_time).amount_out
    too_much = swap_instruction(keys, owner, str(a.mint_0), 10**6, expected + 1)
    refused = program.send([too_much])
    assert isinstance(refused, ProgramError)
    assert (refused.code, refused.name) == (6005, "ExceededSlippage")
    assert not isinstance(
        program.send([swap_instruction(keys, owner, str(a.mint_0), 10**6, 1)]), ProgramError
    )
    assert program.token_balance(get_associated_token_address(owner, a.mint_1)) == expected
