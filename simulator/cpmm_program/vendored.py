"""The vendored program file, refused unless it is byte for byte the one of the README."""

from __future__ import annotations

import hashlib
from importlib.resources import files
from pathlib import Path

PROGRAM_SHA256 = "4ec452fc44ad608c638a08355b8f964c92109a646f63ab481f98ee5e90c00e7b"
PROGRAM_FILE = "raydium_cp_swap.so"


class ProgramFileMismatch(Exception):
    """The program file is not the vendored build whose behaviour the oracle proves."""


def program_path() -> Path:
    """Where the vendored `.so` lives inside the `simulator` package."""
    return Path(str(files("simulator").joinpath("programs", PROGRAM_FILE)))


def read_program(path: Path | None = None) -> bytes:
    """The program's bytes, after checking their sha256 against the vendored build's."""
    path = path or program_path()
    try:
        program = path.read_bytes()
    except FileNotFoundError:
        raise ProgramFileMismatch(
            f"{path} is missing: it is committed with the repository"
            " (simulator/programs/README.md); restore it with git"
        ) from None
    digest = hashlib.sha256(program).hexdigest()
    if digest != PROGRAM_SHA256:
        raise ProgramFileMismatch(
            f"{path} has sha256 {digest}, not the vendored {PROGRAM_SHA256}"
            f" ({len(program):,} bytes): restore it with git, or vendor a new build"
            " with its provenance in simulator/programs/README.md and its new sha256 here"
        )
    return program
