"""Driving a journaled Simulator like the service does, and comparing two chains."""

from __future__ import annotations

from pathlib import Path

import msgspec

from simulator.config import SimulatorConfig
from simulator.core import Simulator
from simulator.durable import checkpoint, open_simulator

# Market, forks, skips all on; a landing chance low enough that some txs expire.
BUSY = SimulatorConfig(seed=21, p_land=0.3)


def chain_state(sim: Simulator) -> tuple[object, ...]:
    """Everything a client can learn from the chain, at its current slot."""
    slot = sim.chain.slot
    statuses = {
        signature: msgspec.json.encode(record.status(slot))
        for signature, record in sim.ledger.records.items()
    }
    return (
        slot,
        sim.chain.block_height,
        sim.chain.blockhash,
        msgspec.json.encode(sim.tokens()),
        statuses,
        sorted(sim.ledger.pending),
        sorted(sim.ledger.forked),
    )


def assert_same_chain(original: Simulator, restored: Simulator) -> None:
    """Equal now, and equal after more slots: every random stream is where it was."""
    assert chain_state(restored) == chain_state(original)
    original.advance_slots(60)
    restored.advance_slots(60)
    assert chain_state(restored) == chain_state(original)


def restart(sim: Simulator, path: Path, config: SimulatorConfig = BUSY) -> Simulator:
    """The service's answer was written (checkpoint), then the process went away."""
    checkpoint(sim)
    assert sim.journal is not None
    sim.journal.close()
    sim.journal = None
    return open_simulator(config, path)


def close(*sims: Simulator) -> None:
    """Let go of the journals (the file and its lock), as the service does on stop."""
    for sim in sims:
        if sim.journal is not None:
            sim.journal.close()
            sim.journal = None
