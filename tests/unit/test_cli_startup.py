"""`orderengine --help` (and any command line argparse refuses) answers without loading
the engine: each command imports what it runs when it runs."""

from __future__ import annotations

import subprocess
import sys

from orderengine.settings import PROJECT_ROOT

HEAVY = ("uvicorn", "litestar", "psycopg", "dramatiq", "solders", "aiohttp", "structlog")
PROBE = """
import sys
from orderengine import cli
try:
    cli.main(sys.argv[1:])
except SystemExit:
    pass
print("loaded:" + ",".join(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def loaded_by(*argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=PROJECT_ROOT,
    )
    return done.stdout.rsplit("loaded:", 1)[1].strip()


def test_help_loads_none_of_the_engine() -> None:
    assert loaded_by("--help") == ""
    assert loaded_by("history", "--help") == ""
    assert loaded_by("history", "--at", "x", "0f9c") == ""  # refused by argparse
