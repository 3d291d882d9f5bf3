"""`orderengine up` for a person: a short line per step and per process as it becomes
ready, then one `ready: http://...` line when the API answers and every process can
do its work, so the first request sent after it works.

Every process's JSON log lines go to `DATA_DIR/logs/<role>.log`, and also to stderr
when stderr is not a terminal (a container, a CI job, a pipe). On a terminal, the
screen gets the progress lines, plus warnings and errors as readable text.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path
from typing import IO

from orderengine.bootstrap import migrate_database, with_backing_services
from orderengine.key_commands import first_admin_key
from orderengine.logs import configure_up_logging
from orderengine.readiness import answers, clear_markers, marked_ready
from orderengine.settings import EngineSettings
from orderengine.supervisor import Child, child_environment, role_argv, supervise

log = logging.getLogger("orderengine.up")
_print_lock = threading.Lock()


def say(line: str) -> None:
    """One progress line on stdout (never a log record: no colours, no JSON)."""
    with _print_lock:
        print(line, flush=True)


def run_up(settings: EngineSettings, host: str, port: int) -> int:
    log_dir = settings.data_dir / "logs"
    on_terminal = sys.stderr.isatty()
    configure_up_logging(settings.log_level, log_dir / "up.log", echo_json=not on_terminal)
    say(f"orderengine up: data in {settings.data_dir}, logs in {log_dir}")
    given = settings
    settings = with_backing_services(settings)
    say(f"  postgres    ready ({_where(given.database_url, 'DATABASE_URL', settings.data_dir)})")
    say(f"  redis       ready ({_where(given.redis_url, 'REDIS_URL', settings.data_dir)})")
    applied = migrate_database(settings)
    done = f"{len(applied)} applied ({applied[0]} .. {applied[-1]})" if applied else "up to date"
    say(f"  migrations  {done}")
    admin_key = first_admin_key(settings)
    if admin_key is not None:
        say(f"  admin key   written to {admin_key} (owner-only); send it as Authorization: Bearer")
    listen = ["--host", host, "--port", str(port)]
    children = [
        Child("api", role_argv("api", *listen)),
        Child("simulator", role_argv("simulator")),
        Child("dispatcher", role_argv("dispatcher")),
        Child("evaluator", role_argv("evaluator")),
        Child("projector", role_argv("projector")),
        *(Child(f"worker-{n}", role_argv("worker")) for n in range(settings.worker_processes)),
    ]
    clear_markers(settings.data_dir)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - display only
    progress = Progress(children, settings, f"http://{shown}:{port}")
    logs = LogPump(log_dir, echo=not on_terminal)
    watching = threading.Thread(target=progress.watch, name="up-progress", daemon=True)
    watching.start()
    env = child_environment(settings.database_url, settings.redis_url)
    try:
        return supervise(children, env, on_start=logs.follow)
    finally:
        progress.stop.set()


def _where(given_url: str, setting: str, data_dir: Path) -> str:
    # A given URL is named by its setting only: it may hold a password.
    return f"from {setting}" if given_url else f"embedded, under {data_dir}"


class LogPump:
    """Copies each child's output, line by line, into its log file (and to stderr)."""

    def __init__(self, log_dir: Path, *, echo: bool) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        self._dir = log_dir
        self._echo = echo

    def follow(self, child: Child) -> None:
        assert child.process is not None
        assert child.process.stdout is not None
        source = child.process.stdout
        thread = threading.Thread(
            target=self._copy, args=(child.role, source), name=f"log-{child.role}", daemon=True
        )
        thread.start()

    def _copy(self, role: str, source: IO[bytes]) -> None:
        with (self._dir / f"{role}.log").open("ab") as file:
            for line in source:
                file.write(line)
                file.flush()
                if self._echo:
                    sys.stderr.buffer.write(line)
                    sys.stderr.buffer.flush()


class Progress:
    """Says each process's readiness once, then `ready:` when all are."""

    def __init__(self, children: list[Child], settings: EngineSettings, base_url: str) -> None:
        self._children = children
        self._data_dir = settings.data_dir
        self._simulator = settings.simulator_url.rstrip("/")
        self._base = base_url
        self.stop = threading.Event()

    def watch(self) -> None:
        waiting = {child.role: child for child in self._children}
        started = time.monotonic()
        while waiting and not self.stop.wait(0.2):
            for role, child in list(waiting.items()):
                if self._ready(child):
                    del waiting[role]
                    say(f"  {role:<11} ready ({time.monotonic() - started:.1f} s)")
        if not waiting:
            say(f"ready: {self._base} (API docs at {self._base}/schema)")

    def _ready(self, child: Child) -> bool:
        if child.role == "api":
            return answers(f"{self._base}/ready")
        if child.role == "simulator":
            return answers(f"{self._simulator}/health")
        process = child.process
        return process is not None and marked_ready(self._data_dir, process.pid)
