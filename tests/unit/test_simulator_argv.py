"""`orderengine simulator` keeps its chain in the seed's own journal unless told otherwise."""

from __future__ import annotations

from orderengine.execution import simulator_argv
from orderengine.settings import EngineSettings


def _journal(environ: dict[str, str], seed: str | None = None) -> str | None:
    argv = simulator_argv(EngineSettings.from_environment(environ), seed)
    return argv[argv.index("--journal") + 1] if "--journal" in argv else None


def test_the_default_journal_is_the_seeds_own_under_the_data_dir() -> None:
    assert _journal({"DATA_DIR": "/srv/oe", "SIMULATOR_SEED": "4"}) == (
        "/srv/oe/simulator/seed-4.journal"
    )
    assert _journal({"DATA_DIR": "/srv/oe"}, seed="9") == "/srv/oe/simulator/seed-9.journal"


def test_a_named_journal_or_none() -> None:
    assert _journal({"SIMULATOR_JOURNAL": "/tmp/chain.journal"}) == "/tmp/chain.journal"
    assert _journal({"SIMULATOR_JOURNAL": "off"}) is None
