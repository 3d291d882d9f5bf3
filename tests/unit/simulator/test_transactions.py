"""Swap transactions on the chain: exact fills, atomic failures with each venue's own
code, re-sends that never execute twice, and what a node refuses outright."""

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from solders.instruction import Instruction
from solders.pubkey import Pubkey

from simulator.core import Simulator
from simulator.cpmm import CpmmPool
from simulator.errors import INVALID_PARAMS, PREFLIGHT_FAILURE, RpcError
from simulator.rpc import Rpc
from simulator.universe import SOL
from simulator.wallets import STARTING_LAMPORTS
from tests.support.solana_tx import (
    CERTAIN,
    WALLET,
    b64,
    keys_of,
    poll_until,
    pool_addresses,
    rpc_call,
    swap_tx,
)
from workers.solana.landed import TransactionResult, landed
from workers.solana.programs import swap_instruction

VERSIONED = "solana_sdk::transaction::versioned::VersionedTransaction"
CONFIRMED = {"commitment": "confirmed", "maxSupportedTransactionVersion": 0}


def _pools(sim: Simulator) -> dict[str, str]:
    """SOL/USDC's pools by kind: amm_v4, cpmm, dlmm."""
    return {sim.keys[pool].kind: pool for pool in pool_addresses(sim, "SOL/USDC")}


def _out(sim: Simulator, pool: str, amount: int) -> int:
    return sim.catalog.by_address(pool).pool.quote(amount, True, sim.chain.unix_time()).amount_out


def _reserves(sim: Simulator) -> list[tuple[int, int]]:
    return [(listing.pool.vaults.x, listing.pool.vaults.y) for listing in sim.catalog.listings]


def _fill(sim: Simulator, signature: str) -> TransactionResult:
    answer = rpc_call(Rpc(sim), "getTransaction", signature, CONFIRMED)
    return msgspec.convert(answer, TransactionResult)


def test_a_landed_split_pays_exactly_the_quoted_amounts() -> None:
    sim = Simulator(CERTAIN)
    pools = _pools(sim)
    legs = [(pools["amm_v4"], 300 * 10**9), (pools["dlmm"], 200 * 10**9)]
    expected = [_out(sim, pool, amount) for pool, amount in legs]
    raw = swap_tx(sim, [(p, a, out) for (p, a), out in zip(legs, expected, strict=True)], SOL.mint)
    signature = sim.send_transaction(raw)
    assert poll_until(sim, signature, "confirmed")["err"] is None
    outcome = landed(_fill(sim, signature), WALLET.pubkey(), None)
    assert outcome.failure is None
    assert [(leg.pool, leg.amount_in, leg.amount_out) for leg in outcome.legs] == [
        (pool, amount, out) for (pool, amount), out in zip(legs, expected, strict=True)
    ]
    assert outcome.amount_out == sum(expected)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=8))
def test_resends_interleaved_with_slots_never_execute_twice(gaps: list[int]) -> None:
    sim = Simulator(msgspec.structs.replace(CERTAIN, p_land=0.5, fork_prob=0.3))
    pool = sim.catalog.by_address(_pools(sim)["cpmm"]).pool
    before = pool.vaults.x
    raw = swap_tx(sim, [(pool.info.address, 10**9, 0)], SOL.mint)
    signature = ""
    for gap in gaps:
        signature = sim.send_transaction(raw, skip_preflight=True)
        sim.advance_slots(gap)
    sim.advance_slots(200)
    assert len(sim.ledger.records) == 1
    if sim.ledger.fate(signature) == "executed":
        assert pool.vaults.x - before == 10**9  # the input vault took the SOL in, once
    else:
        assert sim.ledger.fate(signature) == "expired"
        assert pool.vaults.x == before


@pytest.mark.parametrize(
    ("kind", "code"),
    [("amm_v4", 30), ("cpmm", 6005), ("dlmm", 6003)],  # SIMULATOR.md §7, each venue's own
)
def test_a_swap_under_its_minimum_fails_with_its_venues_code(kind: str, code: int) -> None:
    sim = Simulator(CERTAIN)
    pool = _pools(sim)[kind]
    before = _reserves(sim)
    raw = swap_tx(sim, [(pool, 10**9, _out(sim, pool, 10**9) + 1)], SOL.mint)
    signature = sim.send_transaction(raw, skip_preflight=True)
    status = poll_until(sim, signature, "confirmed")
    assert status["err"] == {"InstructionError": [2, {"Custom": code}]}
    meta = _fill(sim, signature).meta
    assert meta.fee == 5_000  # a landed failure still pays
    assert _reserves(sim) == before


def test_one_leg_below_its_own_minimum_fails_every_leg() -> None:
    sim = Simulator(CERTAIN)
    pools = _pools(sim)
    before = _reserves(sim)
    legs = [(pools["amm_v4"], 10**9, 0), (pools["dlmm"], 10**9, 10**12)]
    signature = sim.send_transaction(swap_tx(sim, legs, SOL.mint), skip_preflight=True)
    status = poll_until(sim, signature, "confirmed")
    assert status["err"] == {"InstructionError": [3, {"Custom": 6003}]}
    assert _reserves(sim) == before


def test_the_forced_slippage_knob_fails_every_landing_tx() -> None:
    sim = Simulator(msgspec.structs.replace(CERTAIN, p_slippage=1.0))
    raw = swap_tx(sim, [(_pools(sim)["amm_v4"], 10**9, 0)], SOL.mint)
    signature = sim.send_transaction(raw, skip_preflight=True)
    assert poll_until(sim, signature, "confirmed")["err"] == {
        "InstructionError": [2, {"Custom": 30}]
    }


def test_a_pool_not_open_yet_fails_the_landed_tx_with_not_approved() -> None:
    sim = Simulator(CERTAIN)
    pool = sim.catalog.by_address(_pools(sim)["cpmm"]).pool
    assert isinstance(pool, CpmmPool)
    pool.open_time = 2**40  # a sniper's pool that opens far in the future
    raw = swap_tx(sim, [(pool.info.address, 10**9, 0)], SOL.mint)
    signature = sim.send_transaction(raw, skip_preflight=True)
    assert poll_until(sim, signature, "confirmed")["err"] == {
        "InstructionError": [2, {"Custom": 6000}]
    }
    assert sim.wallets.lamports(str(WALLET.pubkey())) == STARTING_LAMPORTS - 5_000


def test_a_swap_naming_another_pool_fails_on_chain_with_invalid_account_data() -> None:
    sim = Simulator(CERTAIN)
    pools = _pools(sim)
    keys = msgspec.structs.replace(keys_of(sim, pools["cpmm"]), id=pools["dlmm"])
    wrong = swap_instruction(keys, WALLET.pubkey(), SOL.mint, 10**9, 0)
    raw = swap_tx(sim, [], SOL.mint, compute_unit_limit=200_000, extra=[wrong])
    with pytest.raises(RpcError) as refused:
        sim.send_transaction(raw)
    assert isinstance(refused.value.data, dict)
    assert refused.value.data["err"] == {"InstructionError": [2, "InvalidAccountData"]}
    signature = sim.send_transaction(raw, skip_preflight=True)  # it lands, and fails there
    status = poll_until(sim, signature, "confirmed")
    assert status["err"] == {"InstructionError": [2, "InvalidAccountData"]}
    assert sim.wallets.lamports(str(WALLET.pubkey())) == STARTING_LAMPORTS - 5_000


@pytest.mark.parametrize(
    ("encoded", "message"),
    [
        ("not base64!", "invalid base64 encoding"),
        (b64(b"\x01" * 80), "failed to deserialize"),
        ("A" * 1_648, "too large: 1648 bytes (max: encoded/raw 1644/1232)"),
    ],
)
def test_what_is_not_a_transaction_is_invalid_params(encoded: str, message: str) -> None:
    sim = Simulator(CERTAIN)
    with pytest.raises(RpcError) as refused:
        rpc_call(Rpc(sim), "sendTransaction", encoded, {"encoding": "base64"})
    assert refused.value.code == INVALID_PARAMS
    assert message in refused.value.message
    assert sim.ledger.records == {}


def test_a_transaction_over_1232_bytes_is_refused_as_too_large() -> None:
    sim = Simulator(CERTAIN)
    pools = list(_pools(sim).values())
    raw = swap_tx(sim, [(pool, 10**9, 0) for pool in pools], SOL.mint)  # three legs
    assert len(raw) > 1_232
    with pytest.raises(RpcError) as refused:
        rpc_call(Rpc(sim), "sendTransaction", b64(raw), {"encoding": "base64"})
    assert refused.value.code == INVALID_PARAMS
    encoded = f"base64 encoded {VERSIONED} too large: {len(b64(raw))} bytes"
    assert encoded in refused.value.message
    with pytest.raises(RpcError) as refused:
        sim.send_transaction(raw)  # its bytes, decoded
    assert refused.value.code == INVALID_PARAMS
    assert f"too large: {len(raw)} bytes (max: 1232 bytes)" in refused.value.message
    assert sim.ledger.records == {}


def test_a_program_the_cluster_does_not_run_is_refused_in_preflight() -> None:
    sim = Simulator(CERTAIN)
    stranger = Instruction(
        Pubkey.from_string("Stake11111111111111111111111111111111111111"), b"", []
    )
    raw = swap_tx(sim, [(_pools(sim)["cpmm"], 10**9, 0)], SOL.mint, extra=[stranger])
    with pytest.raises(RpcError) as refused:
        sim.send_transaction(raw)
    assert refused.value.code == PREFLIGHT_FAILURE
    assert isinstance(refused.value.data, dict)
    assert refused.value.data["err"] == "ProgramAccountNotFound"
    assert sim.ledger.records == {}


MEMO = Pubkey.from_string("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr")


def test_a_memo_rides_along_and_is_logged_as_the_memo_program_logs_it() -> None:
    sim = Simulator(CERTAIN)
    memo = Instruction(MEMO, b"oe:an-order", [])
    raw = swap_tx(sim, [(_pools(sim)["cpmm"], 10**9, 0)], SOL.mint, extra=[memo])
    signature = sim.send_transaction(raw)
    assert poll_until(sim, signature, "confirmed")["err"] is None
    logs = _fill(sim, signature).meta.log_messages or []
    assert 'Program log: Memo (len 11): "oe:an-order"' in logs


def test_a_memo_that_is_not_utf8_is_refused_in_preflight() -> None:
    sim = Simulator(CERTAIN)
    memo = Instruction(MEMO, b"\xff\xfe", [])
    raw = swap_tx(sim, [(_pools(sim)["cpmm"], 10**9, 0)], SOL.mint, extra=[memo])
    with pytest.raises(RpcError) as refused:
        sim.send_transaction(raw)
    assert refused.value.code == PREFLIGHT_FAILURE
    assert isinstance(refused.value.data, dict)
    assert refused.value.data["err"] == {"InstructionError": [3, "InvalidInstructionData"]}
    assert sim.ledger.records == {}
