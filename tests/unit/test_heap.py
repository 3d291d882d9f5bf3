"""Large transient buffers do not ratchet a process's RSS up (orderengine.heap).

The workload is a journaled simulator compacting in process (as it does where the OS
cannot fork; elsewhere a child takes the snapshot): each compaction pickles the chain
(megabytes) and encodes it as base64, two transient buffers. With glibc's dynamic mmap
threshold the second compaction's buffers came from the heap and their pages stayed
resident: RSS rose by about the size of both at every other compaction and never came
back. Measured in a fresh process, as each engine
process starts, since a process's allocator state is its history."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

# A steady ~7,000 transactions in memory (40 a slot over the 150-block window, as at
# 100 orders/s): a snapshot of ~14 MB, its base64 ~19 MB.
CHURN = textwrap.dedent(
    """
    import json, pickle, sys, tempfile
    from pathlib import Path
    from orderengine.heap import map_large_buffers
    from simulator.config import SimulatorConfig
    from simulator.durable import checkpoint, open_simulator
    from simulator.universe import SOL, USDC
    from tests.support.solana_tx import pool_addresses, swap_tx

    def rss_mb():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024

    mapped = sys.argv[1] == "mapped" and map_large_buffers()
    sim = open_simulator(SimulatorConfig(seed=3, time_scale=0), Path(tempfile.mkdtemp()) / "j")
    pools = pool_addresses(sim, "SOL/USDC")
    sent = 0

    def churn(count):
        global sent
        for _ in range(count):
            sent += 1
            mint, amount = (SOL.mint, 10**7 + sent) if sent % 2 else (USDC.mint, 10**6 + sent)
            raw = swap_tx(sim, [(pools[sent % 3], amount, 0)], mint)
            sim.send_transaction(raw, skip_preflight=True)
            if sent % 40 == 0:
                sim.advance_slots(1)
                checkpoint(sim)

    churn(8_000)  # 200 slots: the 150-block window full, the oldest archived
    after = []
    for _ in range(6):
        sim.journal.compact(sim.config, lambda: pickle.dumps(sim), background=False)
        after.append(rss_mb())
        churn(2_000)  # 50 slots: archivings between, the window as full as before
    print(json.dumps({"mapped": mapped, "after_compactions": after}))
    """
)


def _rss_after_compactions(mode: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", CHURN, mode], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_compactions_leave_rss_where_the_first_left_it() -> None:
    result = _rss_after_compactions("mapped")
    assert result["mapped"], "mallopt(M_MMAP_THRESHOLD) was refused"
    after = result["after_compactions"]
    assert isinstance(after, list)
    # Unmapped, every other compaction left RSS 40-60 MB higher (104, 146, 107, 148, 108,
    # 164 MB); mapped, it moves with the records in memory (104-108 MB).
    assert max(after) - min(after) < 15, after
