"""`orderengine simulator` keeps its chain in the seed's own journal unless told otherwise."""

from __future__ import annotations

import pytest

from orderengine.processes import simulator_argv
from orderengine.settings import ConfigurationError, EngineSettings


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


def test_a_hostile_node_only_when_asked() -> None:
    hostile = {"SIMULATOR_HOSTILE": "drop:0.2,lag:3", "SIMULATOR_JOURNAL": "off"}
    argv = simulator_argv(EngineSettings.from_environment(hostile))
    assert argv[argv.index("--hostile") + 1] == "drop:0.2,lag:3"
    assert "--hostile" not in simulator_argv(EngineSettings.from_environment({}))


def test_the_ledger_setting_reaches_the_simulators_command_line() -> None:
    for environ, ledger in (({}, "math"), ({"SIMULATOR_LEDGER": "litesvm"}, "litesvm")):
        argv = simulator_argv(EngineSettings.from_environment(environ))
        assert argv[argv.index("--ledger") + 1] == ledger


def test_an_unknown_ledger_is_refused_naming_the_setting() -> None:
    with pytest.raises(ConfigurationError, match=r"SIMULATOR_LEDGER='real'.*math, litesvm"):
        EngineSettings.from_environment({"SIMULATOR_LEDGER": "real"})


def test_launches_come_at_the_settings_rate() -> None:
    for environ, rate in (({}, "30.0"), ({"SIMULATOR_LAUNCHES_PER_HOUR": "0"}, "0.0")):
        argv = simulator_argv(EngineSettings.from_environment(environ))
        assert argv[argv.index("--launches-per-hour") + 1] == rate
    with pytest.raises(ConfigurationError, match="SIMULATOR_LAUNCHES_PER_HOUR"):
        EngineSettings.from_environment({"SIMULATOR_LAUNCHES_PER_HOUR": "-1"})
