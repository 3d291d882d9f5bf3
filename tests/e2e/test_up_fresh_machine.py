"""`orderengine up` with no DATABASE_URL / REDIS_URL: embedded servers, migrations,
every process; a POST is recorded; Ctrl-C stops all of it."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from tests.support.servers import free_port

ORDER = {"type": "market", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1.5"}


def _lines_until_ready(up: subprocess.Popen[str], seconds: float) -> list[str]:
    """`up`'s progress lines, through its `ready:` line."""
    assert up.stdout is not None
    found: list[str] = []
    done = threading.Event()

    def read() -> None:
        assert up.stdout is not None
        for line in up.stdout:
            found.append(line.rstrip("\n"))
            if line.startswith("ready:"):
                done.set()
                return

    threading.Thread(target=read, daemon=True).start()
    assert done.wait(seconds), f"no ready line in {seconds} s: {found}"
    return found


@pytest.mark.slow
def test_up_on_a_fresh_data_dir_accepts_and_records_an_order(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"DATA_DIR": str(tmp_path / "data"), "PORT": str(port), "LOG_LEVEL": "WARNING"}
    env |= {"SIMULATOR_URL": f"http://127.0.0.1:{free_port()}"}
    with (tmp_path / "stderr.txt").open("w") as stderr:  # not a terminal: JSON log lines
        up = subprocess.Popen(
            [sys.executable, "-m", "orderengine", "up"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        lines = _lines_until_ready(up, 120)
        # Said only once every process is ready: the first request right after it works.
        assert lines[-1] == f"ready: {base} (API docs at {base}/schema)"
        roles = {"api", "simulator", "dispatcher", "evaluator", "projector", "worker-0", "worker-1"}
        said = {line.split()[0] for line in lines if line.startswith("  ") and " ready" in line}
        assert roles <= said, lines
        assert not any("\x1b[" in line or line.startswith("{") for line in lines), lines
        key_file = tmp_path / "data" / "admin.key"
        assert f"  admin key   written to {key_file}" in "\n".join(lines), lines
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        auth = {"Authorization": f"Bearer {key_file.read_text().strip()}"}
        refused = httpx.post(f"{base}/api/orders/execute", json=ORDER)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")
        accepted = httpx.post(f"{base}/api/orders/execute", json=ORDER, headers=auth)
        assert accepted.status_code == 202
        order_id = accepted.json()["orderId"]
        events = httpx.get(f"{base}/api/orders/{order_id}/events", headers=auth).json()
        assert events[0]["type"] == "OrderSubmitted"
        assert events[0]["data"]["amountIn"] == "1.5"
    finally:
        up.send_signal(signal.SIGINT)
        code = up.wait(60)
        assert up.stdout is not None
        up.stdout.close()
    assert code == 0
    assert {f"{role}.log" for role in ("up", "api", "worker-0")} <= {
        path.name for path in (tmp_path / "data" / "logs").iterdir()
    }
    warnings = (tmp_path / "stderr.txt").read_text().splitlines()
    assert all(line.startswith("{") for line in warnings), warnings  # JSON, off a terminal
    assert not (tmp_path / "data" / "postgres" / "postmaster.pid").exists(), "postgres stopped"
    with socket.socket(socket.AF_UNIX) as probe, pytest.raises(OSError):
        probe.connect(str(tmp_path / "data" / "redis" / "redis.sock"))
