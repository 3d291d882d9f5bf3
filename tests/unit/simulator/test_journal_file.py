"""The journal file: a torn tail is cut, other settings or a second process are
refused, a replay that diverges is refused, and a wall clock catches up downtime."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from simulator.durable import MAX_DOWNTIME_SLOTS, open_simulator
from simulator.journal import JournalRefused
from simulator.service import main
from simulator.universe import SOL
from tests.support.solana_tx import pool_addresses, swap_tx
from tests.unit.simulator.journaling import BUSY, assert_same_chain, chain_state, close, restart


def _journal_with_sends(path: Path, sends: int = 3) -> tuple[object, ...]:
    """A journal of a few sends and slots; the chain state it records."""
    sim = open_simulator(BUSY, path)
    pool = pool_addresses(sim, "SOL/USDC")[0]
    for number in range(sends):
        sim.send_transaction(swap_tx(sim, [(pool, (number + 1) * 10**9, 0)], SOL.mint), True)
        sim.advance_slots(4)
    sim.signature_statuses([])
    restarted = restart(sim, path)
    state = chain_state(restarted)
    close(restarted)
    return state


@pytest.mark.parametrize(
    "tail", [b'{"send":"AbCd', b'{"advance":3,"at":1\n'], ids=["no newline", "garbled"]
)
def test_a_torn_last_line_is_cut_and_the_rest_replays(tmp_path: Path, tail: bytes) -> None:
    path = tmp_path / "chain.journal"
    state = _journal_with_sends(path)
    whole = path.read_bytes()
    path.write_bytes(whole + tail)
    restored = open_simulator(BUSY, path)
    assert chain_state(restored) == state
    close(restored)
    assert path.read_bytes() == whole


def test_an_unreadable_line_before_the_last_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "chain.journal"
    _journal_with_sends(path)
    lines = path.read_bytes().split(b"\n")
    lines[1] = b"not json"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(JournalRefused, match=r"chain\.journal:2 cannot be read"):
        open_simulator(BUSY, path)


def test_other_settings_are_refused_naming_them_and_the_file(tmp_path: Path) -> None:
    path = tmp_path / "chain.journal"
    _journal_with_sends(path)
    other = msgspec.structs.replace(BUSY, seed=22, congestion="storm")
    with pytest.raises(JournalRefused) as refused:
        open_simulator(other, path)
    message = str(refused.value)
    assert str(path) in message
    assert "seed 21 -> 22" in message
    assert "congestion 'normal' -> 'storm'" in message
    assert "delete the file" in message


def test_pacing_settings_may_change(tmp_path: Path) -> None:
    path = tmp_path / "chain.journal"
    state = _journal_with_sends(path)
    paced = msgspec.structs.replace(BUSY, advance_on_poll=False)
    restored = open_simulator(paced, path)
    assert chain_state(restored) == state
    assert restored.config.advance_on_poll is False
    close(restored)


def test_a_second_process_on_the_same_journal_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "chain.journal"
    first = open_simulator(BUSY, path)
    with pytest.raises(JournalRefused, match="in use by another simulator process"):
        open_simulator(BUSY, path)
    close(first)
    close(open_simulator(BUSY, path))


def test_a_replay_that_ends_on_another_blockhash_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "chain.journal"
    _journal_with_sends(path)
    text = path.read_text()
    recorded = msgspec.json.decode(text.splitlines()[2])["blockhash"]
    path.write_text(text.replace(recorded, "1" * 44))
    with pytest.raises(JournalRefused, match=r":3 does not replay .*other simulator code"):
        open_simulator(BUSY, path)


def test_a_wall_clock_chain_catches_up_the_slots_it_was_down(tmp_path: Path) -> None:
    path = tmp_path / "chain.journal"
    wall = msgspec.structs.replace(BUSY, time_scale=1.0)  # 0.4 s a slot
    now = [1_000.0]
    sim = open_simulator(wall, path, clock=lambda: now[0])
    sim.advance_slots(10)
    sim.signature_statuses([])
    slot = sim.chain.slot
    close(sim)
    now[0] += 40.0  # down for 100 slots
    restored = open_simulator(wall, path, clock=lambda: now[0])
    assert restored.chain.slot == slot + 100
    close(restored)
    now[0] += 365 * 86_400.0  # down for a year: a bounded catch-up
    restored = open_simulator(wall, path, clock=lambda: now[0])
    assert restored.chain.slot == slot + 100 + MAX_DOWNTIME_SLOTS
    close(restored)


def test_an_instant_chain_does_not_catch_up(tmp_path: Path) -> None:
    path = tmp_path / "chain.journal"
    now = [1_000.0]
    sim = open_simulator(BUSY, path, clock=lambda: now[0])
    slot = sim.chain.slot
    close(sim)
    now[0] += 3_600.0
    restored = open_simulator(BUSY, path, clock=lambda: now[0])
    assert restored.chain.slot == slot
    assert_same_chain(sim, restored)
    close(restored)


def test_the_command_line_refuses_other_settings_with_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "chain.journal"
    close(open_simulator(msgspec.structs.replace(BUSY, p_land=None), path))
    argv = ["--port", "0", "--seed", "22", "--time-scale", "0", "--journal", str(path)]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert "seed 21 -> 22" in error
    assert str(path) in error
