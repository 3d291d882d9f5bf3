"""The simulator process killed with SIGKILL comes back on the same chain: what it
answered survives, and a landed signature sent again is a duplicate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.support.simulator_process import simulator_process
from tests.unit.simulator.orders import signature


def _order(http: httpx.Client, label: str) -> dict[str, Any]:
    pools = [p["address"] for p in http.get("/tokens").json()["pools"] if p["pair"] == "SOL/USDC"]
    blockhash = http.get("/blockhash").json()
    return {
        "signature": signature(label),
        "inputMint": "SOL",
        "outputMint": "USDC",
        "legs": [{"pool": pools[1], "amountIn": "2000000000"}],
        "minAmountOut": "0",
        "lastValidBlockHeight": blockhash["lastValidBlockHeight"],
        "recentBlockhash": blockhash["blockhash"],
        "computeUnitPrice": 10_000,
    }


def _statuses(http: httpx.Client, signatures: list[str]) -> list[Any]:
    answer = http.post("/signature-statuses", json={"signatures": signatures})
    return list(answer.json()["value"])


def test_a_killed_simulator_keeps_what_it_answered(tmp_path: Path) -> None:
    with simulator_process(tmp_path, seed=3) as simulator:
        with httpx.Client(base_url=simulator.url, timeout=5) as http:
            orders = [_order(http, f"restart-{n}") for n in range(5)]
            for order in orders:
                assert http.post("/transactions", json=order).status_code == 202
            signatures = [order["signature"] for order in orders]
            while any(s["state"] in ("pending", "processed") for s in _statuses(http, signatures)):
                pass  # each poll of a seen signature moves the chain one slot
            before = _statuses(http, signatures)
            height = http.get("/block-height").json()
        simulator.kill()
        simulator.start()
        simulator.wait_healthy()
        with httpx.Client(base_url=simulator.url, timeout=5) as http:
            assert http.get("/block-height").json() == height
            assert _statuses(http, signatures) == before
            again = http.post("/transactions", json=orders[0])
            assert again.status_code == 200
            assert again.json()["duplicate"] is True
    assert any(s["state"] in ("confirmed", "finalized") for s in before)
    assert "event=journal_replayed" in (tmp_path / "simulator.log").read_text()
