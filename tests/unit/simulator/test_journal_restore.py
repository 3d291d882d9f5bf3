"""A simulator restored from its journal is the chain it was: same slot, blockhashes,
pools, market and the fate of every signature; nothing executes twice."""

from __future__ import annotations

import tempfile
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.config import LedgerMode
from simulator.core import Simulator
from simulator.durable import checkpoint, open_simulator
from simulator.errors import RpcError
from simulator.quote_api import QuoteApi
from simulator.requests import LadderRequest
from simulator.universe import SOL
from tests.support.solana_tx import pool_addresses, signature_of, swap_tx
from tests.unit.simulator.journaling import BUSY, assert_same_chain, close, restart

LADDER = LadderRequest(input_mint="SOL", output_mint="USDC", amounts=["1000000000"])

# One step each: send (lands or expires later), send on a blockhash past its window
# (dropped), resend (the same bytes), refused (a tampered signature), status poll,
# slots, quote.
Step = tuple[str, int]
STEPS = st.tuples(
    st.sampled_from(["send", "expired", "resend", "refused", "poll", "slots", "quote"]),
    st.integers(min_value=1, max_value=40),
)


class Sent:
    """What a test client sent, and every blockhash it saw (to sign with old ones)."""

    def __init__(self) -> None:
        self.raw: dict[str, bytes] = {}
        self.blockhashes: list[tuple[int, str]] = []  # (block height, blockhash)

    def old_blockhash(self, sim: Simulator, age: int) -> str | None:
        """A blockhash about `age` blocks old, if the client saw one."""
        seen = [h for height, h in self.blockhashes if sim.chain.block_height - height >= age]
        return seen[-1] if seen else None


def _apply(sim: Simulator, step: Step, sent: Sent) -> None:
    kind, number = step
    pools = pool_addresses(sim, "SOL/USDC")
    sent.blockhashes.append((sim.chain.block_height, sim.chain.blockhash))
    earlier = list(sent.raw.values())[number % len(sent.raw)] if sent.raw else None
    amount = (number + len(sent.raw) * 41) * 10**7  # distinct: each send its own signature
    if kind in ("send", "expired"):
        # Some sign with a blockhash near the end of its window: with p_land 0.3 those
        # expire; "expired" signs with one past it, which a leader drops.
        age = 151 if kind == "expired" else (148 if number % 2 == 0 else 0)
        blockhash = sent.old_blockhash(sim, age) if age else None
        if age and blockhash is None:
            return
        raw = swap_tx(sim, [(pools[number % 3], amount, 0)], SOL.mint, blockhash=blockhash)
        signature = sim.send_transaction(raw, skip_preflight=True)
        assert signature == signature_of(raw)
        if kind == "send":
            sent.raw[signature] = raw
        else:
            assert sim.ledger.get(signature) is None
    elif kind == "resend" and earlier is not None:
        records = len(sim.ledger.records)
        sim.send_transaction(earlier, skip_preflight=True)
        assert len(sim.ledger.records) == records
    elif kind == "refused":
        tampered = bytearray(swap_tx(sim, [(pools[0], amount, 0)], SOL.mint))
        tampered[5] ^= 0x01
        with pytest.raises(RpcError):
            sim.send_transaction(bytes(tampered))
    elif kind == "poll":
        sim.signature_statuses(list(sent.raw)[-200:])
    elif kind == "slots":
        sim.advance_slots(number)
    elif kind == "quote":
        QuoteApi(sim).ladder(LADDER)
    checkpoint(sim)  # the service does this after every request


@settings(max_examples=30, deadline=None)
@given(st.lists(STEPS, min_size=1, max_size=40))
def test_any_run_restores_to_the_same_chain(steps: list[Step]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "chain.journal"
        original = open_simulator(BUSY, path)
        sent = Sent()
        for step in steps:
            _apply(original, step, sent)
        restored = restart(original, path)
        assert_same_chain(original, restored)
        close(restored)


def test_a_busy_run_lands_and_expires_and_restores(tmp_path: Path) -> None:
    path = tmp_path / "chain.journal"
    original = open_simulator(BUSY, path)
    sent = Sent()
    for number in range(60):
        _apply(original, ("send", number + 1), sent)
        _apply(original, ("poll", 0), sent)
        _apply(original, ("slots", 3), sent)
    _apply(original, ("slots", 300), sent)
    fates = {original.ledger.fate(signature) for signature in sent.raw}
    assert {"executed", "expired"} <= fates  # the run exercised both fates
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
    raw = swap_tx(sim, [(pool, 5 * 10**9, 0)], SOL.mint)
    signature = sim.send_transaction(raw)
    sim.advance_slots(40)
    landed_slot = sim.ledger.records[signature].landed_slot
    assert sim.ledger.fate(signature) == "executed"
    restored = restart(sim, path, config)
    pools_before = QuoteApi(restored).tokens().pools
    with pytest.raises(RpcError) as refused:
        restored.send_transaction(raw)
    assert isinstance(refused.value.data, dict)
    assert refused.value.data["err"] == "AlreadyProcessed"
    assert restored.send_transaction(raw, skip_preflight=True) == signature
    restored.advance_slots(40)
    assert restored.ledger.records[signature].landed_slot == landed_slot
    assert QuoteApi(restored).tokens().pools == pools_before  # quiet: nothing ran again
    close(restored)


@pytest.mark.parametrize("ledger", ["math", "litesvm"])
def test_compaction_snapshots_the_chain_and_restores_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ledger: LedgerMode
) -> None:
    # With SIMULATOR_LEDGER=litesvm the snapshot carries the CPMM program's accounts.
    monkeypatch.setattr("simulator.durable.COMPACT_AFTER", 50)
    config = msgspec.structs.replace(BUSY, ledger=ledger)
    path = tmp_path / "chain.journal"
    original = open_simulator(config, path)
    sent = Sent()
    for number in range(30):
        _apply(original, ("send", number + 1), sent)
        _apply(original, ("slots", 7), sent)
    assert original.journal is not None
    original.journal.finish_compaction(wait=True)  # the child's snapshot, if one is running
    lines = path.read_bytes().split(b"\n")
    assert b'"snapshot":null' not in lines[0]
    assert len(lines) < 20  # a header with the snapshot, and the inputs since
    restored = restart(original, path, config)
    assert_same_chain(original, restored)
    close(restored)
