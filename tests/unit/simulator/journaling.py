"""Driving a journaled Simulator like the service does, and comparing two chains."""

from __future__ import annotations

from pathlib import Path

import msgspec

from simulator.config import SimulatorConfig
from simulator.core import Simulator
from simulator.durable import checkpoint, open_simulator
from simulator.quote_api import QuoteApi
from simulator.tx_views import signature_status
from tests.support.solana_tx import WALLET

# Market, forks, skips all on; a landing chance low enough that some txs expire.
BUSY = SimulatorConfig(seed=21, p_land=0.3)


def chain_state(sim: Simulator) -> tuple[object, ...]:
    """Everything a client (and a test witness) can learn from the chain, at its slot."""
    slot = sim.chain.slot
    statuses = {
        signature: (msgspec.json.encode(signature_status(record, slot)), sim.ledger.fate(signature))
        for signature, record in sim.ledger.records.items()
    }
    owner = str(WALLET.pubkey())
    wallet = [sim.wallets.lamports(owner)] + [
        sim.wallets.balance(owner, mint) for mint in sorted(sim.wallets.decimals)
    ]
    return (
        slot,
        sim.chain.block_height,
        sim.chain.blockhash,
        msgspec.json.encode(QuoteApi(sim).tokens()),
        statuses,
        wallet,
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
    """Let go of the journals (the files and the lock), as the service does on stop."""
    for sim in sims:
        sim.close()
