"""The chain's clock and the life of a transaction on it: blocks, blockhash validity,
landing, commitment, forks, write locks and fees, as Solana's JSON-RPC shows them."""

import msgspec
import pytest

from simulator.config import SimulatorConfig
from simulator.core import Simulator
from simulator.rpc import Rpc
from simulator.service import main
from simulator.universe import SOL
from tests.support.solana_tx import (
    CERTAIN,
    WALLET,
    poll_until,
    pool_addresses,
    rpc_call,
    status_of,
    swap_tx,
)

PAYER = str(WALLET.pubkey())


def _pool(sim: Simulator, index: int = 0) -> str:
    return pool_addresses(sim, "SOL/USDC")[index]


def _send(sim: Simulator, amount: int = 10**9, price: int = 0, limit: int | None = None) -> str:
    raw = swap_tx(
        sim, [(_pool(sim), amount, 0)], SOL.mint, compute_unit_price=price, compute_unit_limit=limit
    )
    return sim.send_transaction(raw)


def test_blockhash_is_valid_for_150_blocks() -> None:
    sim = Simulator(CERTAIN)
    rpc = Rpc(sim)
    latest = rpc_call(rpc, "getLatestBlockhash")
    height = rpc_call(rpc, "getBlockHeight")
    assert isinstance(latest, dict)
    assert isinstance(height, int)
    assert latest["value"]["lastValidBlockHeight"] == height + 150
    sim.advance_slots(3)
    later = rpc_call(rpc, "getLatestBlockhash")
    assert isinstance(later, dict)
    assert rpc_call(rpc, "getBlockHeight") == height + 3
    assert later["value"]["blockhash"] != latest["value"]["blockhash"]
    valid = rpc_call(rpc, "isBlockhashValid", latest["value"]["blockhash"])
    assert isinstance(valid, dict)
    assert valid["value"] is True


def test_skipped_slots_do_not_raise_block_height() -> None:
    sim = Simulator(msgspec.structs.replace(CERTAIN, skip_rate=1.0))
    rpc = Rpc(sim)
    slot, height = rpc_call(rpc, "getSlot"), rpc_call(rpc, "getBlockHeight")
    assert isinstance(slot, int)
    assert sim.advance_slots(10) == slot + 10
    assert rpc_call(rpc, "getBlockHeight") == height


def test_a_tx_that_never_lands_expires_after_its_last_valid_block_height() -> None:
    sim = Simulator(msgspec.structs.replace(CERTAIN, p_land=0.0))
    lamports = sim.wallets.lamports(PAYER)
    signature = _send(sim)
    sim.advance_slots(150)  # block height == lastValidBlockHeight: it may still land
    assert status_of(sim, signature) is None
    assert sim.ledger.fate(signature) == "waiting"
    sim.advance_slots(1)
    assert status_of(sim, signature) is None  # Solana has no "expired" status: null
    assert sim.ledger.fate(signature) == "expired"
    assert sim.wallets.lamports(PAYER) == lamports, "no fee for a tx that never landed"


def test_commitment_goes_processed_confirmed_finalized() -> None:
    sim = Simulator(CERTAIN)
    signature = _send(sim)
    sim.advance_slots(1)
    processed = status_of(sim, signature)
    assert processed is not None
    landed = processed["slot"]
    assert isinstance(landed, int)
    confirmed = poll_until(sim, signature, "confirmed")
    assert confirmed["slot"] == landed
    confirmations = confirmed["confirmations"]
    assert isinstance(confirmations, int)
    assert 1 <= confirmations <= 32
    sim.advance_slots(landed + 32 - sim.chain.slot)
    final = status_of(sim, signature)
    assert final is not None
    assert (final["confirmationStatus"], final["confirmations"]) == ("finalized", None)


def test_a_fork_returns_a_processed_tx_to_pending_without_touching_pools() -> None:
    sim = Simulator(msgspec.structs.replace(CERTAIN, fork_prob=1.0))
    pool = sim.catalog.by_address(_pool(sim, 1)).pool
    reserves = pool.vaults.x, pool.vaults.y
    raw = swap_tx(sim, [(_pool(sim, 1), 10**9, 0)], SOL.mint)
    signature = sim.send_transaction(raw)
    seen_slots: set[object] = set()
    for _ in range(12):
        sim.advance_slots(1)
        status = status_of(sim, signature)
        assert status is None or status["confirmationStatus"] == "processed"
        if status is not None:
            seen_slots.add(status["slot"])
    assert len(seen_slots) > 1  # dropped, then "landed" again on another dead fork
    assert (pool.vaults.x, pool.vaults.y) == reserves
    assert sim.ledger.fate(signature) == "waiting"


def test_account_in_use_keeps_a_tx_out_of_blocks_until_it_expires() -> None:
    sim = Simulator(msgspec.structs.replace(CERTAIN, p_account_in_use=1.0))
    signature = _send(sim)
    sim.advance_slots(151)
    assert status_of(sim, signature) is None
    assert sim.ledger.fate(signature) == "expired"


def test_the_fee_is_base_plus_the_rounded_up_priority_fee() -> None:
    sim = Simulator(CERTAIN)
    lamports = sim.wallets.lamports(PAYER)
    signature = _send(sim, price=1, limit=200_001)
    poll_until(sim, signature, "confirmed")
    config = {"commitment": "confirmed", "maxSupportedTransactionVersion": 0}
    answer = rpc_call(Rpc(sim), "getTransaction", signature, config)
    assert isinstance(answer, dict)
    assert answer["meta"]["fee"] == 5_000 + 1  # ceil(1 * 200_001 / 1e6)
    assert sim.wallets.lamports(PAYER) == lamports - 5_001


def test_polling_advances_one_slot_per_round_of_pollers() -> None:
    sim = Simulator(msgspec.structs.replace(CERTAIN, p_land=0.0))
    first = _send(sim)
    second = _send(sim, amount=2 * 10**9)
    start = sim.chain.slot
    sim.signature_statuses([first])  # already seen in this slot: advance
    sim.signature_statuses([second])  # second sees the new slot: no advance
    assert sim.chain.slot == start + 1
    sim.signature_statuses([first])
    assert sim.chain.slot == start + 2


def test_no_advance_on_poll_when_disabled() -> None:
    sim = Simulator(msgspec.structs.replace(CERTAIN, advance_on_poll=False))
    signature = _send(sim)
    start = sim.chain.slot
    for _ in range(5):
        sim.signature_statuses([signature])
    assert sim.chain.slot == start


def test_landing_probability_by_congestion_and_fee() -> None:
    storm = SimulatorConfig(congestion="storm")
    assert storm.landing_probability(0) == pytest.approx(0.05 * 0.3)
    assert storm.landing_probability(2_000_000) == pytest.approx(0.05)
    normal = SimulatorConfig()
    assert normal.landing_probability(5_000) == pytest.approx(0.7 * (0.3 + 0.7 * 0.5))
    assert SimulatorConfig(p_land=0.0).landing_probability(10**9) == 0.0


def test_command_line_help_exits_cleanly() -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0


def test_polling_an_expired_signature_still_moves_the_clock() -> None:
    # Its sender sees null, as for one not landed yet, and waits for the block height to
    # pass its lastValidBlockHeight by a margin: slots must keep coming while it asks.
    sim = Simulator(msgspec.structs.replace(CERTAIN, p_land=0.0))
    signature = _send(sim)
    for _ in range(200):
        sim.signature_statuses([signature])
    assert sim.ledger.fate(signature) == "expired"
    assert sim.chain.block_height > sim.ledger.records[signature].tx.last_valid_block_height + 32
