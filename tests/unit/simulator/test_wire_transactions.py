"""The chain's side of real transactions: verification, blockhashes, minimums, funds,
deduplication, in Solana's own errors."""

from __future__ import annotations

import pytest
from solders.transaction import VersionedTransaction

from simulator.core import Simulator
from simulator.errors import PREFLIGHT_FAILURE, SIGNATURE_FAILURE, RpcError
from simulator.rpc import Rpc
from simulator.universe import SOL, USDC
from simulator.wallets import STARTING_FUNDS
from tests.support.solana_tx import CERTAIN, WALLET, b64, poll_until, pool_addresses, swap_tx


def _cpmm(sim: Simulator) -> str:
    return next(p for p in pool_addresses(sim, "SOL/USDC") if sim.keys[p].kind == "cpmm")


def _out(sim: Simulator, pool: str, amount: int) -> int:
    return sim.catalog.by_address(pool).pool.quote(amount, True, sim.chain.unix_time()).amount_out


def test_a_tampered_signature_is_refused_with_signature_failure() -> None:
    sim = Simulator(CERTAIN)
    raw = bytearray(swap_tx(sim, [(_cpmm(sim), 10**9, 0)], SOL.mint))
    raw[10] ^= 0x01  # inside the first signature
    with pytest.raises(RpcError) as refused:
        sim.send_transaction(bytes(raw))
    assert refused.value.code == SIGNATURE_FAILURE
    assert sim.ledger.records == {}


def test_an_unknown_blockhash_is_refused_with_blockhash_not_found() -> None:
    sim = Simulator(CERTAIN)
    other = Simulator(CERTAIN.__class__(seed=99))
    raw = swap_tx(sim, [(_cpmm(sim), 10**9, 0)], SOL.mint, blockhash=other.chain.blockhash)
    with pytest.raises(RpcError) as refused:
        sim.send_transaction(raw)
    assert refused.value.code == PREFLIGHT_FAILURE
    assert isinstance(refused.value.data, dict)
    assert refused.value.data["err"] == "BlockhashNotFound"


def test_a_blockhash_older_than_150_blocks_is_not_found() -> None:
    sim = Simulator(CERTAIN)
    old = sim.chain.blockhash
    sim.advance_slots(151)
    with pytest.raises(RpcError) as refused:
        sim.send_transaction(swap_tx(sim, [(_cpmm(sim), 10**9, 0)], SOL.mint, blockhash=old))
    assert isinstance(refused.value.data, dict)
    assert refused.value.data["err"] == "BlockhashNotFound"


def test_a_swap_under_its_minimum_fails_on_chain_with_the_venue_code() -> None:
    sim = Simulator(CERTAIN)
    pool = _cpmm(sim)
    reserves = (
        sim.catalog.by_address(pool).pool.vaults.x,
        sim.catalog.by_address(pool).pool.vaults.y,
    )
    raw = swap_tx(sim, [(pool, 10**9, _out(sim, pool, 10**9) + 1)], SOL.mint)
    signature = sim.send_transaction(raw, skip_preflight=True)
    status = poll_until(sim, signature, "confirmed")
    assert status["err"] == {"InstructionError": [2, {"Custom": 6005}]}  # CPMM ExceededSlippage
    vaults = sim.catalog.by_address(pool).pool.vaults
    assert (vaults.x, vaults.y) == reserves
    assert sim.wallets.lamports(str(WALLET.pubkey())) < 1_000 * 10**9  # the fee was charged


def test_preflight_refuses_the_same_swap_with_the_same_error() -> None:
    sim = Simulator(CERTAIN)
    pool = _cpmm(sim)
    with pytest.raises(RpcError) as refused:
        sim.send_transaction(swap_tx(sim, [(pool, 10**9, _out(sim, pool, 10**9) + 1)], SOL.mint))
    assert refused.value.code == PREFLIGHT_FAILURE
    assert refused.value.message.startswith("Transaction simulation failed")
    assert isinstance(refused.value.data, dict)
    assert refused.value.data["err"] == {"InstructionError": [2, {"Custom": 6005}]}
    assert sim.ledger.records == {}


def test_a_resent_landed_transaction_never_executes_again() -> None:
    sim = Simulator(CERTAIN)
    pool = _cpmm(sim)
    raw = swap_tx(sim, [(pool, 10**9, 0)], SOL.mint)
    signature = sim.send_transaction(raw)
    poll_until(sim, signature, "finalized")
    held = sim.wallets.balance(str(WALLET.pubkey()), USDC.mint)
    assert sim.send_transaction(raw, skip_preflight=True) == signature
    with pytest.raises(RpcError) as refused:
        sim.send_transaction(raw)
    assert isinstance(refused.value.data, dict)
    assert refused.value.data["err"] == "AlreadyProcessed"
    sim.advance_slots(5)
    assert sim.wallets.balance(str(WALLET.pubkey()), USDC.mint) == held
    assert len(sim.ledger.records) == 1


def test_selling_more_than_the_wallet_holds_fails_with_insufficient_funds() -> None:
    sim = Simulator(CERTAIN)
    pool = _cpmm(sim)
    vaults = sim.catalog.by_address(pool).pool.vaults
    before = (vaults.x, vaults.y)
    too_much = STARTING_FUNDS[SOL.mint] + 1
    signature = sim.send_transaction(swap_tx(sim, [(pool, too_much, 0)], SOL.mint), True)
    status = poll_until(sim, signature, "confirmed")
    assert status["err"] == {"InstructionError": [2, {"Custom": 1}]}
    assert (vaults.x, vaults.y) == before
    assert sim.wallets.balance(str(WALLET.pubkey()), SOL.mint) == STARTING_FUNDS[SOL.mint]


def test_get_transaction_shows_the_fill_in_the_token_balances() -> None:
    sim = Simulator(CERTAIN)
    rpc = Rpc(sim)
    pool = _cpmm(sim)
    expected = _out(sim, pool, 10**9)
    signature = sim.send_transaction(swap_tx(sim, [(pool, 10**9, 0)], SOL.mint))
    poll_until(sim, signature, "confirmed")
    config = {"commitment": "confirmed", "maxSupportedTransactionVersion": 0}
    result = rpc.call("getTransaction", [signature, config])
    assert isinstance(result, dict)
    meta = result["meta"]
    assert meta["err"] is None
    assert meta["fee"] == 5_000 + 0  # no priority fee asked
    keys = result["transaction"]["message"]["accountKeys"]
    pre = {
        keys[b["accountIndex"]]: int(b["uiTokenAmount"]["amount"]) for b in meta["preTokenBalances"]
    }
    post = {
        keys[b["accountIndex"]]: int(b["uiTokenAmount"]["amount"])
        for b in meta["postTokenBalances"]
    }
    vault_y = sim.keys[pool].accounts["vaultY"]
    assert pre[vault_y] - post[vault_y] == expected
    assert any("SwapBaseInput" in line for line in meta["logMessages"])


def test_signature_statuses_have_solanas_shape() -> None:
    sim = Simulator(CERTAIN)
    rpc = Rpc(sim)
    raw = swap_tx(sim, [(_cpmm(sim), 10**9, 0)], SOL.mint)
    signature = str(VersionedTransaction.from_bytes(raw).signatures[0])
    assert rpc.call("sendTransaction", [b64(raw), {"encoding": "base64"}]) == signature
    answer = rpc.call("getSignatureStatuses", [[signature, "1" * 64]])
    assert isinstance(answer, dict)
    assert answer["value"][1] is None  # never seen
    status = poll_until(sim, signature, "confirmed")
    assert set(status) == {"slot", "confirmations", "err", "status", "confirmationStatus"}
    assert status["status"] == {"Ok": None}
    with pytest.raises(RpcError) as refused:
        rpc.call("getSignatureStatuses", [[signature] * 257])
    assert refused.value.code == -32602
