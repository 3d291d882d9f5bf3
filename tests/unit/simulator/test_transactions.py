import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.core import Simulator
from simulator.cpmm import CpmmPool
from simulator.errors import InvalidRequest
from simulator.requests import Leg
from tests.unit.simulator.orders import (
    CERTAIN,
    poll_until,
    pool_addresses,
    quoted_out,
    signature,
    swap,
)


def _reserves(sim: Simulator) -> list[tuple[str | None, str | None, int | None]]:
    return [(p.reserve_base, p.reserve_quote, p.active_id) for p in sim.tokens().pools]


def test_landed_split_pays_exactly_the_quoted_amounts() -> None:
    sim = Simulator(CERTAIN)
    amm, cpmm, dlmm = pool_addresses(sim, "SOL/USDC")
    legs = [(amm, 300 * 10**9), (dlmm, 200 * 10**9), (cpmm, 100 * 10**9)]
    expected = quoted_out(sim, legs)
    sig = sim.send_transaction(swap(sim, "split", legs, min_amount_out=expected)).signature
    status = poll_until(sim, sig, {"confirmed", "failed"})
    assert status.err is None
    assert status.result is not None
    assert int(status.result.out_amount) == expected
    assert [leg.pool for leg in status.result.legs] == [amm, dlmm, cpmm]
    assert sum(int(leg.out_amount) for leg in status.result.legs) == expected


def test_same_signature_twice_executes_once() -> None:
    sim = Simulator(CERTAIN)
    pool = pool_addresses(sim, "SOL/USDC")[1]
    request = swap(sim, "once", [(pool, 10 * 10**9)])
    first = sim.send_transaction(request)
    again = sim.send_transaction(request)
    assert (first.duplicate, again.duplicate) == (False, True)
    poll_until(sim, request.signature, {"confirmed"})
    after_first = _reserves(sim)
    resend = sim.send_transaction(request)
    assert resend.duplicate
    assert resend.status.state == "confirmed"
    sim.advance_slots(5)
    assert _reserves(sim) == after_first


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=8))
def test_resends_interleaved_with_slots_never_execute_twice(gaps: list[int]) -> None:
    sim = Simulator(msgspec.structs.replace(CERTAIN, p_land=0.5, fork_prob=0.3))
    pool = pool_addresses(sim, "SOL/USDC")[1]
    request = swap(sim, "resend", [(pool, 10**9)])
    reserve_before = int(sim.tokens().pools[1].reserve_base or 0)
    for gap in gaps:
        sim.send_transaction(request)
        sim.advance_slots(gap)
    sim.advance_slots(200)
    status = sim.signature_statuses([request.signature]).value[0]
    assert status is not None
    reserve_after = int(sim.tokens().pools[1].reserve_base or 0)
    if status.state == "finalized":
        # 1 SOL in, minus the protocol and fund shares of the 0.25 % fee, once.
        assert reserve_after - reserve_before == 10**9 - 400_000
    else:
        assert status.state == "expired"
        assert reserve_after == reserve_before


def test_signature_reused_for_another_transaction_is_a_conflict() -> None:
    sim = Simulator(CERTAIN)
    pool = pool_addresses(sim, "SOL/USDC")[0]
    sim.send_transaction(swap(sim, "reuse", [(pool, 10**9)]))
    with pytest.raises(InvalidRequest) as caught:
        sim.send_transaction(swap(sim, "reuse", [(pool, 2 * 10**9)]))
    assert (caught.value.field, caught.value.status) == ("signature", 409)


def test_single_leg_slippage_fails_with_the_venue_code_and_keeps_pools() -> None:
    sim = Simulator(CERTAIN)
    cpmm = pool_addresses(sim, "SOL/USDC")[1]
    out = quoted_out(sim, [(cpmm, 10**9)])
    before = _reserves(sim)
    request = swap(sim, "too-tight", [(cpmm, 10**9)], min_amount_out=out + 1)
    sim.send_transaction(request)
    status = poll_until(sim, request.signature, {"failed"})
    assert status.err is not None
    assert (status.err.code, status.err.name) == (6005, "ExceededSlippage")
    assert status.err.instruction_index == 0
    assert status.result is not None
    assert status.result.fee_lamports == 5_000  # a landed failure still pays
    assert status.result.out_amount == "0"
    assert _reserves(sim) == before


def test_split_slippage_fails_the_whole_route_atomically() -> None:
    sim = Simulator(CERTAIN)
    amm, _, dlmm = pool_addresses(sim, "SOL/USDC")
    legs = [(amm, 10**9), (dlmm, 10**9)]
    before = _reserves(sim)
    request = swap(sim, "route", legs, min_amount_out=quoted_out(sim, legs) + 1)
    sim.send_transaction(request)
    status = poll_until(sim, request.signature, {"failed"})
    assert status.err is not None
    assert (status.err.code, status.err.name) == (6001, "SlippageToleranceExceeded")
    assert _reserves(sim) == before


def test_one_leg_below_its_own_minimum_fails_every_leg() -> None:
    sim = Simulator(CERTAIN)
    amm, _, dlmm = pool_addresses(sim, "SOL/USDC")
    before = _reserves(sim)
    request = swap(sim, "leg-min", [(amm, 10**9), (dlmm, 10**9)])
    legs = [request.legs[0], Leg(pool=dlmm, amount_in=str(10**9), min_amount_out=str(10**12))]
    request = msgspec.structs.replace(request, legs=legs)
    sim.send_transaction(request)
    status = poll_until(sim, request.signature, {"failed"})
    assert status.err is not None
    assert (status.err.code, status.err.instruction_index) == (6003, 1)
    assert _reserves(sim) == before


def test_forced_slippage_knob_fails_every_landing_tx() -> None:
    sim = Simulator(msgspec.structs.replace(CERTAIN, p_slippage=1.0))
    amm = pool_addresses(sim, "SOL/USDC")[0]
    request = swap(sim, "forced", [(amm, 10**9)])
    sim.send_transaction(request)
    status = poll_until(sim, request.signature, {"failed"})
    assert status.err is not None
    assert (status.err.code, status.err.name) == (30, "ExceededSlippage")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"signature": "0OIl"}, "signature"),
        ({"signature": signature("x")[:40]}, "signature"),
        ({"input_mint": "DOGE"}, "inputMint"),
        ({"output_mint": "SOL"}, "outputMint"),
        ({"output_mint": "JUP"}, "outputMint"),
        ({"min_amount_out": "-1"}, "minAmountOut"),
        ({"legs": []}, "legs"),
        ({"legs": [Leg(pool="nope", amount_in="1")]}, "legs[0].pool"),
        ({"compute_unit_limit": 2_000_000}, "computeUnitLimit"),
    ],
)
def test_bad_transactions_name_the_field(change: dict[str, object], field: str) -> None:
    sim = Simulator(CERTAIN)
    pool = pool_addresses(sim, "SOL/USDC")[0]
    request = msgspec.structs.replace(swap(sim, "bad", [(pool, 10**9)]), **change)
    with pytest.raises(InvalidRequest) as caught:
        sim.send_transaction(request)
    assert caught.value.field == field


def test_legs_on_wrong_pair_duplicate_pool_or_zero_amount_are_rejected() -> None:
    sim = Simulator(CERTAIN)
    pool = pool_addresses(sim, "SOL/USDC")[0]
    with pytest.raises(InvalidRequest) as caught:
        sim.send_transaction(swap(sim, "pair", [(pool_addresses(sim, "JUP/USDC")[0], 1)]))
    assert caught.value.field == "legs[0].pool"
    with pytest.raises(InvalidRequest) as caught:
        sim.send_transaction(swap(sim, "dup", [(pool, 1), (pool, 1)]))
    assert caught.value.field == "legs[1].pool"
    with pytest.raises(InvalidRequest) as caught:
        sim.send_transaction(swap(sim, "zero", [(pool, 0)]))
    assert caught.value.field == "legs[0].amountIn"


def test_pool_not_open_fails_landed_tx_with_not_approved() -> None:
    sim = Simulator(CERTAIN)
    listing = sim.catalog.listings[1]
    assert isinstance(listing.pool, CpmmPool)
    listing.pool.open_time = 2**40  # a sniper's pool that opens far in the future
    request = swap(sim, "too-early", [(listing.pool.info.address, 10**9)])
    sim.send_transaction(request)
    status = poll_until(sim, request.signature, {"failed"})
    assert status.err is not None
    assert (status.err.code, status.err.name) == (6000, "NotApproved")
    assert status.result is not None
    assert status.result.fee_lamports == 5_000
