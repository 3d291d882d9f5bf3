"""A simulator restored from its journal is the chain it was: same slot, blockhashes,
pools, market and the fate of every signature; nothing executes twice."""

from __future__ import annotations

import tempfile
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.core import Simulator
from simulator.durable import checkpoint, open_simulator
from simulator.errors import InvalidRequest
from simulator.requests import LadderRequest, SendTransaction
from tests.unit.simulator.journaling import BUSY, assert_same_chain, close, restart
from tests.unit.simulator.orders import pool_addresses, swap

LADDER = LadderRequest(input_mint="SOL", output_mint="USDC", amounts=["1000000000"])

# One step each: send (lands or expires later), send already expired, resend, send
# refused (beyond any blockhash), same signature with other content (refused), status
# poll, slots, quote.
Step = tuple[str, int]
STEPS = st.tuples(
    st.sampled_from(["send", "expired", "resend", "refused", "conflict", "poll", "slots", "quote"]),
    st.integers(min_value=1, max_value=40),
)


def _apply(sim: Simulator, step: Step, sent: dict[str, SendTransaction]) -> None:
    kind, number = step
    pools = pool_addresses(sim, "SOL/USDC")
    label = f"order-{len(sent)}"
    earlier = list(sent.values())[number % len(sent)] if sent else None
    try:
        if kind in ("send", "expired"):
            # Even numbers get a short-lived blockhash: with p_land 0.3 some expire.
            short = sim.chain.block_height + (2 if number % 2 == 0 else 150)
            last_valid = sim.chain.block_height - 1 if kind == "expired" else short
            legs = [(pools[number % 3], number * 10**8)]
            request = swap(sim, label, legs, last_valid_block_height=last_valid)
            result = sim.send_transaction(request)
            assert result.status.state == ("expired" if kind == "expired" else "pending")
            sent[request.signature] = request
        elif kind == "resend" and earlier is not None:
            assert sim.send_transaction(earlier).duplicate
        elif kind == "conflict" and earlier is not None:
            sim.send_transaction(msgspec.structs.replace(earlier, min_amount_out="1"))
        elif kind == "refused":
            sim.send_transaction(swap(sim, label, [(pools[0], 1)], last_valid_block_height=10**12))
        elif kind == "poll":
            sim.signature_statuses(list(sent)[-200:])
        elif kind == "slots":
            sim.advance_slots(number)
        elif kind == "quote":
            sim.quote(LADDER)
    except InvalidRequest:
        assert kind in ("refused", "conflict")
    checkpoint(sim)  # the service does this after every request


@settings(max_examples=30, deadline=None)
@given(st.lists(STEPS, min_size=1, max_size=40))
def test_any_run_restores_to_the_same_chain(steps: list[Step]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "chain.journal"
        original = open_simulator(BUSY, path)
        sent: dict[str, SendTransaction] = {}
        for step in steps:
            _apply(original, step, sent)
        restored = restart(original, path)
        assert_same_chain(original, restored)
        close(restored)


def test_a_busy_run_lands_and_expires_and_restores(tmp_path: Path) -> None:
    path = tmp_path / "chain.journal"
    original = open_simulator(BUSY, path)
    sent: dict[str, SendTransaction] = {}
    for number in range(60):
        _apply(original, ("send", number + 1), sent)
        _apply(original, ("poll", 0), sent)
        _apply(original, ("slots", 3), sent)
    _apply(original, ("slots", 300), sent)
    slot = original.chain.slot
    states = {original.ledger.records[s].status(slot).state for s in sent}
    assert {"finalized", "expired"} <= states  # the run exercised both fates
    restored = restart(original, path)
    assert_same_chain(original, restored)
    close(restored)


def test_a_landed_signature_sent_again_after_a_restore_is_a_duplicate(tmp_path: Path) -> None:
    config = msgspec.structs.replace(
        BUSY, p_land=1.0, fork_prob=0.0, skip_rate=0.0, market_activity=False
    )
    path = tmp_path / "chain.journal"
    sim = open_simulator(config, path)
    pool = pool_addresses(sim, "SOL/USDC")[1]
    request = swap(sim, "once", [(pool, 5 * 10**9)])
    sim.send_transaction(request)
    sim.advance_slots(40)
    landed_slot = sim.ledger.records[request.signature].landed_slot
    restored = restart(sim, path, config)
    pools_before = restored.tokens().pools
    again = restored.send_transaction(request)
    assert again.duplicate
    assert again.status.state == "finalized"
    restored.advance_slots(40)
    assert restored.ledger.records[request.signature].landed_slot == landed_slot
    assert restored.tokens().pools == pools_before  # quiet market: nothing executed again
    close(restored)


def test_compaction_snapshots_the_chain_and_restores_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("simulator.durable.COMPACT_AFTER", 50)
    path = tmp_path / "chain.journal"
    original = open_simulator(BUSY, path)
    sent: dict[str, SendTransaction] = {}
    for number in range(30):
        _apply(original, ("send", number + 1), sent)
        _apply(original, ("slots", 7), sent)
    lines = path.read_bytes().split(b"\n")
    assert b'"snapshot":null' not in lines[0]
    assert len(lines) < 20  # a header with the snapshot, and the inputs since
    restored = restart(original, path)
    assert_same_chain(original, restored)
    close(restored)
