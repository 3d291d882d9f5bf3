"""The simulator process killed with SIGKILL comes back on the same chain: what it
answered survives, and a landed transaction sent again never runs again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import msgspec

from simulator.universe import SOL
from tests.support.simulator_process import simulator_process
from tests.support.solana_tx import b64, build_swap, signature_of
from workers.solana.programs import PoolKeys


def _rpc(http: httpx.Client, method: str, *params: object) -> Any:
    answer = http.post("/", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    body = answer.json()
    assert "error" not in body, body
    return body["result"]


def _swaps(http: httpx.Client, count: int) -> list[bytes]:
    pools = [p["address"] for p in http.get("/tokens").json()["pools"] if p["pair"] == "SOL/USDC"]
    keys = msgspec.convert(http.get(f"/pools/keys?ids={pools[1]}").json()[0], PoolKeys)
    blockhash = _rpc(http, "getLatestBlockhash")["value"]["blockhash"]
    return [
        build_swap([(keys, (n + 2) * 10**9, 0)], SOL.mint, blockhash, compute_unit_price=10_000)
        for n in range(count)
    ]


def test_a_killed_simulator_keeps_what_it_answered(tmp_path: Path) -> None:
    send = {"encoding": "base64", "skipPreflight": True}
    with simulator_process(tmp_path, seed=3) as simulator:
        with httpx.Client(base_url=simulator.url, timeout=5) as http:
            swaps = _swaps(http, 5)
            signatures = [_rpc(http, "sendTransaction", b64(raw), send) for raw in swaps]
            assert signatures == [signature_of(raw) for raw in swaps]
            while "waiting" in _rpc(http, "simulator_signatureFates", signatures):
                _rpc(http, "getSignatureStatuses", signatures)  # each poll moves a slot
            before = _rpc(http, "getSignatureStatuses", signatures)["value"]
            height = _rpc(http, "getBlockHeight")
        simulator.kill()
        simulator.start()
        simulator.wait_healthy()
        with httpx.Client(base_url=simulator.url, timeout=5) as http:
            assert _rpc(http, "getBlockHeight") == height
            assert _rpc(http, "getSignatureStatuses", signatures)["value"] == before
            fates = _rpc(http, "simulator_signatureFates", signatures)
            assert _rpc(http, "sendTransaction", b64(swaps[0]), send) == signatures[0]
            _rpc(http, "simulator_advanceSlots", {"slots": 5})
            assert _rpc(http, "simulator_signatureFates", signatures) == fates
    assert "executed" in fates
    assert "event=journal_replayed" in (tmp_path / "simulator.log").read_text()
