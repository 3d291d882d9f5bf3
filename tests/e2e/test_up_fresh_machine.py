"""`orderengine up` with no DATABASE_URL / REDIS_URL: embedded servers, migrations,
every process; a POST is recorded; Ctrl-C stops all of it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.servers import free_port

ORDER = {"type": "market", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1.5"}


def _wait_until(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():  # type: ignore[operator]
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_up_on_a_fresh_data_dir_accepts_and_records_an_order(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"DATA_DIR": str(tmp_path / "data"), "PORT": str(port), "LOG_LEVEL": "WARNING"}
    env |= {"SIMULATOR_URL": f"http://127.0.0.1:{free_port()}"}
    up = subprocess.Popen([sys.executable, "-m", "orderengine", "up"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until(lambda: httpx.get(f"{base}/ready").status_code == 200, 90, "/ready")
        accepted = httpx.post(f"{base}/api/orders/execute", json=ORDER)
        assert accepted.status_code == 202
        order_id = accepted.json()["orderId"]
        events = httpx.get(f"{base}/api/orders/{order_id}/events").json()
        assert events[0]["type"] == "OrderSubmitted"
        assert events[0]["data"]["amountIn"] == "1.5"
    finally:
        up.send_signal(signal.SIGINT)
        code = up.wait(60)
    assert code == 0
    assert not (tmp_path / "data" / "postgres" / "postmaster.pid").exists(), "postgres stopped"
    with socket.socket(socket.AF_UNIX) as probe, pytest.raises(OSError):
        probe.connect(str(tmp_path / "data" / "redis" / "redis.sock"))
