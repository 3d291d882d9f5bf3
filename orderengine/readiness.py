"""How `orderengine up` knows each process is ready, not merely started.

The API and the simulator answer HTTP (`/ready`, `/health`): `up` asks them. The
worker, dispatcher and projector listen on nothing, so each leaves a marker file named
after its pid in `DATA_DIR/run` once it can do its work (the worker's threads run; the
consumer holds its lock). Stdlib only: `up` loads nothing it does not run.
"""

from __future__ import annotations

import contextlib
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Protocol

PROBE_TIMEOUT_S = 1.0


def markers_dir(data_dir: Path) -> Path:
    return data_dir / "run"


def announce_ready(data_dir: Path) -> None:
    """Leave this process's ready marker (nothing happens where DATA_DIR is read-only:
    the marker only serves `up`, which always has a writable one)."""
    with contextlib.suppress(OSError):
        directory = markers_dir(data_dir)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"ready-{os.getpid()}").touch()


class Settable(Protocol):
    """What `announce_when` waits on: an `asyncio.Event`, or a runner's `Leadership`."""

    async def wait(self) -> object: ...


async def announce_when(active: Settable, data_dir: Path) -> None:
    """`announce_ready` once `active` is set (a consumer got its lock)."""
    await active.wait()
    announce_ready(data_dir)


def marked_ready(data_dir: Path, pid: int) -> bool:
    return (markers_dir(data_dir) / f"ready-{pid}").exists()


def clear_markers(data_dir: Path) -> None:
    """Forget an earlier run's markers (pids are reused)."""
    for marker in markers_dir(data_dir).glob("ready-*"):
        with contextlib.suppress(OSError):
            marker.unlink()


def answers(url: str) -> bool:
    """Whether GET `url` answers 200 now."""
    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_S) as response:  # noqa: S310 - our own http URL
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False
