"""`orderengine up`: run every process of the engine and keep them running.

Each child is an `orderengine <role>` process; one that dies is restarted with
back-off, and Ctrl-C (or SIGTERM) stops them all. A child that exits with status 2
was refused its configuration (argparse's usage error, or a simulator journal made
with other settings): starting it again cannot help, so everything stops, status 2.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("orderengine.up")
MAX_BACKOFF_S = 10.0
CONFIGURATION_REFUSED = 2


@dataclass
class Child:
    role: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = field(default=0.0)


def supervise(
    children: list[Child],
    env: dict[str, str],
    on_start: Callable[[Child], None] | None = None,
) -> int:
    """Run `children` until SIGINT/SIGTERM, restarting any that dies. With `on_start`,
    each child's stdout and stderr are one pipe (`child.process.stdout`), handed to
    `on_start` after every start, which must read it."""
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for child in children:
        _start(child, env, on_start)
    status = 0
    while not stopping:
        for child in children:
            assert child.process is not None
            code = child.process.poll()
            if code == CONFIGURATION_REFUSED:
                log.error("configuration refused; stopping", extra={"role": child.role})
                stopping, status = True, CONFIGURATION_REFUSED
            elif code is not None and not stopping:
                _restart(child, env, code, on_start)
        time.sleep(0.2)
    _stop_all(children)
    return status


def _start(
    child: Child, env: dict[str, str], on_start: Callable[[Child], None] | None = None
) -> None:
    if on_start is None:
        child.process = subprocess.Popen(child.argv, env=env)
    else:
        pipe = subprocess.PIPE
        child.process = subprocess.Popen(child.argv, env=env, stdout=pipe, stderr=subprocess.STDOUT)
    child.started_at = time.monotonic()
    log.info("started", extra={"role": child.role, "pid": child.process.pid})
    if on_start is not None:
        on_start(child)


def _restart(
    child: Child, env: dict[str, str], code: int, on_start: Callable[[Child], None] | None
) -> None:
    # A child that ran for a while gets restarted at once; a crash loop backs off.
    ran_for = time.monotonic() - child.started_at
    child.restarts = 0 if ran_for > 30 else child.restarts + 1
    delay = min(MAX_BACKOFF_S, 0.5 * 2**child.restarts) if child.restarts else 0.0
    log.warning("exited; restarting", extra={"role": child.role, "code": code, "delay_s": delay})
    time.sleep(delay)
    _start(child, env, on_start)


def _stop_all(children: list[Child]) -> None:
    for child in children:
        if child.process and child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for child in children:
        if child.process is None:
            continue
        try:
            child.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.process.kill()
    log.info("all processes stopped")


def role_argv(role: str, *args: str) -> list[str]:
    """The command line of `orderengine <role>` with this interpreter."""
    return [sys.executable, "-m", "orderengine", role, *args]


def child_environment(database_url: str, redis_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
