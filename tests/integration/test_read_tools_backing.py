"""The read-side tools need PostgreSQL only: with REDIS_URL empty they must not start
an embedded Redis (seconds of start-up, and a server left for nothing)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from orderengine.settings import PROJECT_ROOT


@pytest.mark.parametrize("argv", [["history", str(uuid.uuid4())], ["stopped"]])
def test_a_read_tool_starts_no_redis(own_database: str, tmp_path: Path, argv: list[str]) -> None:
    env = {**os.environ, "DATABASE_URL": own_database, "REDIS_URL": "", "DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "orderengine", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
        env=env,
    )
    assert done.returncode in (0, 1), done.stderr
    assert not (tmp_path / "redis").exists(), "an embedded Redis was started"
