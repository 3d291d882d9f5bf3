"""The engine as a user runs it, for the benchmarks that measure the whole product:
`python -m orderengine up` on a scratch data directory, until `/ready` answers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from tests.support.servers import free_port


@dataclass(frozen=True)
class RunningEngine:
    up: psutil.Process  # the supervisor; every engine process is below it
    base_url: str  # the API, http://127.0.0.1:<port>
    database_url: str  # what `up` handed its children (the embedded server's, if no URL)
    redis_url: str
    admin_key: str = ""  # the one `up` wrote to DATA_DIR/admin.key

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}


@contextmanager
def engine_up(
    scratch: Path,
    database_url: str | None = None,
    redis_url: str | None = None,
    settings: dict[str, str] | None = None,
) -> Iterator[RunningEngine]:
    """`orderengine up` with these servers (None: the embedded ones, as on a fresh
    machine) and extra settings; stopped with Ctrl-C's signal on exit."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"DATA_DIR": str(scratch / "data"), "PORT": str(port), "LOG_LEVEL": "WARNING"}
    # One admin key carries a benchmark's whole load: no per-key limits unless asked.
    env |= {"RATE_LIMIT_PER_KEY": "0", "MAX_SOCKETS_PER_KEY": "1000000"}
    env |= {"SIMULATOR_URL": f"http://127.0.0.1:{free_port()}", **(settings or {})}
    if database_url:
        env["DATABASE_URL"] = database_url
    if redis_url:
        env["REDIS_URL"] = redis_url
    # The engine's logs go to a file: a benchmark prints figures, and the last lines of
    # the log when the engine does not come up.
    log_path = scratch / "up.log"
    with log_path.open("wb") as log:
        up = subprocess.Popen(
            [sys.executable, "-m", "orderengine", "up"], env=env, stdout=log, stderr=log
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        try:
            _wait_ready(f"{base_url}/ready", up)
        except (RuntimeError, TimeoutError):
            sys.stderr.write(log_path.read_text(errors="replace")[-4000:])
            raise
        supervisor = psutil.Process(up.pid)
        admin_key = (scratch / "data" / "admin.key").read_text().strip()
        yield RunningEngine(supervisor, base_url, *_child_urls(supervisor), admin_key)
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(60)
        except subprocess.TimeoutExpired:
            up.kill()


def _wait_ready(url: str, up: subprocess.Popen[bytes], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if up.poll() is not None:
            raise RuntimeError(f"`orderengine up` exited with status {up.returncode}")
        with suppress(httpx.TransportError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    last = "no answer"
    with suppress(httpx.TransportError):
        answer = httpx.get(url, timeout=2)
        last = f"{answer.status_code} {answer.text[:500]}"
    raise TimeoutError(f"{url} not ready after {timeout_s} s: {last}")


def _child_urls(up: psutil.Process) -> tuple[str, str]:
    """The servers `up` handed its children (the embedded ones are only known there)."""
    for child in up.children():
        environ = child.environ()
        if "DATABASE_URL" in environ:
            return environ["DATABASE_URL"], environ["REDIS_URL"]
    raise RuntimeError("no child of `up` names DATABASE_URL")
