import msgspec
import pytest

from simulator.config import SimulatorConfig
from simulator.core import Simulator
from simulator.errors import InvalidRequest
from simulator.service import main
from tests.unit.simulator.orders import CERTAIN, poll_until, pool_addresses, signature, swap


def test_blockhash_is_valid_for_150_blocks() -> None:
    sim = Simulator(CERTAIN)
    view = sim.latest_blockhash()
    assert view.last_valid_block_height == view.block_height + 150
    sim.advance_slots(3)
    later = sim.latest_blockhash()
    assert later.block_height == view.block_height + 3
    assert later.blockhash != view.blockhash


def test_skipped_slots_do_not_raise_block_height() -> None:
    sim = Simulator(msgspec.structs.replace(CERTAIN, skip_rate=1.0))
    before = sim.block_height()
    after = sim.advance_slots(10)
    assert after.slot == before.slot + 10
    assert after.block_height == before.block_height


def test_tx_that_never_lands_expires_after_last_valid_block_height() -> None:
    sim = Simulator(msgspec.structs.replace(CERTAIN, p_land=0.0))
    pool = pool_addresses(sim, "SOL/USDC")[0]
    sent = sim.send_transaction(swap(sim, "never", [(pool, 10**9)]))
    assert sent.status.state == "pending"
    sim.advance_slots(150)  # block height == lastValidBlockHeight: may still land
    waiting = sim.signature_statuses([sent.signature]).value[0]
    assert waiting is not None
    assert waiting.state == "pending"
    sim.advance_slots(1)
    status = sim.signature_statuses([sent.signature]).value[0]
    assert status is not None
    assert status.state == "expired"
    assert status.err is not None
    assert (status.err.name, status.err.code) == ("BlockhashNotFound", -1005)
    assert status.result is None  # no fee for a tx that never landed


def test_stale_or_future_block_heights() -> None:
    sim = Simulator(CERTAIN)
    pool = pool_addresses(sim, "SOL/USDC")[0]
    height = sim.block_height().block_height
    stale = sim.send_transaction(
        swap(sim, "stale", [(pool, 10**9)], last_valid_block_height=height - 1)
    )
    assert stale.status.state == "expired"
    with pytest.raises(InvalidRequest) as caught:
        sim.send_transaction(
            swap(sim, "future", [(pool, 10**9)], last_valid_block_height=height + 151)
        )
    assert caught.value.field == "lastValidBlockHeight"


def test_unknown_recent_blockhash_cannot_land() -> None:
    sim = Simulator(CERTAIN)
    pool = pool_addresses(sim, "SOL/USDC")[0]
    request = swap(sim, "unknown-hash", [(pool, 10**9)])
    request = msgspec.structs.replace(request, recent_blockhash=signature("nope")[:44])
    assert sim.send_transaction(request).status.state == "expired"


def test_commitment_processed_confirmed_finalized() -> None:
    sim = Simulator(CERTAIN)
    pool = pool_addresses(sim, "SOL/USDC")[0]
    sig = sim.send_transaction(swap(sim, "commit", [(pool, 10**9)])).signature
    sim.advance_slots(1)
    status = sim.signature_statuses([sig]).value[0]
    assert status is not None
    landed = status.slot
    assert landed == sim.block_height().slot or status.confirmation_status == "confirmed"
    confirmed = poll_until(sim, sig, {"confirmed"})
    assert confirmed.slot == landed
    assert confirmed.confirmations is not None
    assert 1 <= confirmed.confirmations <= 32
    assert landed is not None
    sim.advance_slots(landed + 32 - sim.block_height().slot)
    final = sim.signature_statuses([sig]).value[0]
    assert final is not None
    assert (final.state, final.confirmations) == ("finalized", None)


def test_fork_returns_processed_tx_to_pending_without_touching_pools() -> None:
    sim = Simulator(msgspec.structs.replace(CERTAIN, fork_prob=1.0))
    pool = pool_addresses(sim, "SOL/USDC")[1]
    reserves = sim.tokens().pools[1].reserve_base
    sig = sim.send_transaction(swap(sim, "forked", [(pool, 10**9)])).signature
    seen_slots: set[int] = set()
    for _ in range(12):
        sim.advance_slots(1)
        status = sim.signature_statuses([sig]).value[0]
        assert status is not None
        assert status.state in {"pending", "processed"}
        assert status.result is None
        if status.slot is not None:
            seen_slots.add(status.slot)
    assert len(seen_slots) > 1  # dropped, then "landed" again on another dead fork
    assert sim.tokens().pools[1].reserve_base == reserves


def test_account_in_use_keeps_tx_out_of_blocks() -> None:
    sim = Simulator(msgspec.structs.replace(CERTAIN, p_account_in_use=1.0))
    pool = pool_addresses(sim, "SOL/USDC")[0]
    sig = sim.send_transaction(swap(sim, "locked", [(pool, 10**9)])).signature
    sim.advance_slots(151)
    status = sim.signature_statuses([sig]).value[0]
    assert status is not None
    assert status.state == "expired"


def test_fee_is_base_plus_rounded_up_priority_fee() -> None:
    sim = Simulator(CERTAIN)
    pool = pool_addresses(sim, "SOL/USDC")[0]
    request = swap(sim, "fee", [(pool, 10**9)], compute_unit_price=1)
    request = msgspec.structs.replace(request, compute_unit_limit=200_001)
    sig = sim.send_transaction(request).signature
    status = poll_until(sim, sig, {"confirmed"})
    assert status.result is not None
    assert status.result.fee_lamports == 5_000 + 1  # ceil(1 * 200_001 / 1e6)


def test_poll_advances_one_slot_per_round_of_pollers() -> None:
    sim = Simulator(msgspec.structs.replace(CERTAIN, p_land=0.0))
    pool = pool_addresses(sim, "SOL/USDC")[0]
    first = sim.send_transaction(swap(sim, "a", [(pool, 10**9)])).signature
    second = sim.send_transaction(swap(sim, "b", [(pool, 10**9)])).signature
    start = sim.block_height().slot
    sim.signature_statuses([first])  # already seen in this slot: advance
    sim.signature_statuses([second])  # second sees the new slot: no advance
    assert sim.block_height().slot == start + 1
    sim.signature_statuses([first])
    assert sim.block_height().slot == start + 2


def test_no_advance_on_poll_when_disabled() -> None:
    sim = Simulator(SimulatorConfig(advance_on_poll=False))
    pool = pool_addresses(sim, "SOL/USDC")[0]
    sig = sim.send_transaction(swap(sim, "still", [(pool, 10**9)])).signature
    start = sim.block_height().slot
    for _ in range(5):
        sim.signature_statuses([sig])
    assert sim.block_height().slot == start


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
