"""`orderengine`: one command line for every process and tool of the engine."""

from __future__ import annotations

import argparse
import logging
import sys

import uvicorn

from orderengine.bootstrap import migrate_database, with_backing_services
from orderengine.logs import configure_logging
from orderengine.settings import EngineSettings
from orderengine.supervisor import Child, child_environment, role_argv, supervise

log = logging.getLogger("orderengine")


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    settings = EngineSettings.from_environment()
    configure_logging(settings.log_level)
    sys.exit(args.run(args, settings) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orderengine", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    up = commands.add_parser("up", help="start everything: databases, migrations, all processes")
    _add_listen_options(up)
    up.set_defaults(run=_up)

    api = commands.add_parser("api", help="run the HTTP/WebSocket API")
    _add_listen_options(api)
    api.set_defaults(run=_api)

    migrate = commands.add_parser("migrate", help="apply database migrations (safe to repeat)")
    migrate.set_defaults(run=_migrate)
    return parser


def _add_listen_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="listen address (default: HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="listen port (default: PORT or 8000)")


def _up(args: argparse.Namespace, settings: EngineSettings) -> int:
    settings = with_backing_services(settings)
    applied = migrate_database(settings)
    log.info("migrations applied", extra={"applied": ",".join(applied) or "none"})
    listen = ["--host", args.host or settings.host, "--port", str(args.port or settings.port)]
    children = [Child("api", role_argv("api", *listen))]
    env = child_environment(settings.database_url, settings.redis_url)
    log.info("engine up", extra={"api": f"http://{listen[1]}:{listen[3]}"})
    return supervise(children, env)


def _api(args: argparse.Namespace, settings: EngineSettings) -> int:
    if not settings.database_url or not settings.redis_url:
        settings = with_backing_services(settings)
        migrate_database(settings)
    uvicorn.run(
        "orderengine.bootstrap:create_api_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=settings.api_processes if settings.api_processes > 1 else None,
        log_config=None,
        access_log=False,
        env_file=None,
        loop="uvloop",
        http="httptools",
        server_header=False,
    )
    return 0


def _migrate(_: argparse.Namespace, settings: EngineSettings) -> int:
    settings = with_backing_services(settings)
    applied = migrate_database(settings)
    print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))
    return 0
