#!/usr/bin/env python3
"""Set up and run the engine on a machine that has nothing but Python 3.11+.

    python3 dev.py up        # install (first time), migrate, run every process
    python3 dev.py test      # install (first time), lint, type-check, layering, tests
    python3 dev.py <args>    # any `orderengine` sub-command, e.g. `python3 dev.py migrate`

It creates `.venv/`, installs the pinned `uv` into it, and installs the locked
dependencies (`uv.lock`) with `uv sync --frozen`, so every machine runs the same
versions. Only the standard library is used here on purpose.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
UV_VERSION = "0.13.9"

# What `python3 dev.py test` runs, in order; CI runs exactly this through .ci/run.
CHECKS: list[list[str]] = [
    ["ruff", "check", "."],
    ["ruff", "format", "--check", "."],
    ["mypy"],
    ["lint-imports"],
    ["pytest"],
]


def ensure_environment() -> None:
    if not (BIN / "python").exists():
        print("dev.py: creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if not (BIN / "uv").exists():
        run([str(BIN / "python"), "-m", "pip", "install", "--quiet", f"uv=={UV_VERSION}"])
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(VENV)}
    run([str(BIN / "uv"), "sync", "--frozen", "--quiet", "--python", str(BIN / "python")], env=env)


def run(argv: list[str], env: dict[str, str] | None = None) -> None:
    completed = subprocess.run(argv, cwd=ROOT, env=env, check=False)
    if completed.returncode != 0:
        sys.exit(completed.returncode)


def main() -> None:
    args = sys.argv[1:] or ["up"]
    ensure_environment()
    if args[0] == "test":
        extra = args[1:]
        for check in CHECKS:
            argv = [str(BIN / check[0]), *check[1:]]
            if check[0] == "pytest":
                argv += extra
            print(f"dev.py: {' '.join(check)}", flush=True)
            run(argv)
        return
    os.execv(str(BIN / "orderengine"), [str(BIN / "orderengine"), *args])


if __name__ == "__main__":
    main()
