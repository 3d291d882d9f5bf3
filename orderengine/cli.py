"""`orderengine`: one command line for every process and tool of the engine."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys

import uvicorn

from orderengine.bootstrap import migrate_database, with_backing_services
from orderengine.execution import run_dispatcher, run_worker, simulator_argv
from orderengine.logs import configure_logging
from orderengine.read_commands import run_history, run_projector, run_replay
from orderengine.settings import EngineSettings
from orderengine.supervisor import Child, child_environment, role_argv, supervise
from simulator.service import main as simulator_main

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

    worker = commands.add_parser("worker", help="run one worker process (the step actors)")
    worker.set_defaults(run=_worker)

    dispatcher = commands.add_parser("dispatcher", help="run the dispatcher and its sweeper")
    dispatcher.set_defaults(run=_dispatcher)

    simulator = commands.add_parser("simulator", help="run the simulated chain and venues")
    for option in ("--host", "--port", "--seed", "--time-scale", "--slot-ms", "--congestion"):
        simulator.add_argument(option, help="default: from SIMULATOR_URL / SIMULATOR_* settings")
    simulator.add_argument("--journal", help="default: SIMULATOR_JOURNAL; `off`: in memory")
    simulator.set_defaults(run=_simulator)

    projector = commands.add_parser("projector", help="run the read-model projector")
    projector.set_defaults(run=lambda _, settings: run_projector(_with_services(settings)))

    replay = commands.add_parser("replay", help="rebuild the read model from the log, swap it in")
    replay.add_argument("--verify", action="store_true", help="print differences from the live")
    replay.add_argument("--batch-size", type=int, default=5_000, help="events per read")
    replay.set_defaults(
        run=lambda args, settings: run_replay(
            _with_services(settings), verify=args.verify, batch_size=args.batch_size
        )
    )

    history = commands.add_parser("history", help="an order's timeline: quotes, route, attempts")
    history.add_argument("order_id", metavar="ORDER_ID")
    history.add_argument("--at", type=int, metavar="VERSION", help="stop after this version")
    history.set_defaults(
        run=lambda args, settings: run_history(_with_services(settings), args.order_id, args.at)
    )
    return parser


def _add_listen_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="listen address (default: HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="listen port (default: PORT or 8000)")


def _up(args: argparse.Namespace, settings: EngineSettings) -> int:
    settings = with_backing_services(settings)
    applied = migrate_database(settings)
    log.info("migrations applied", extra={"applied": ",".join(applied) or "none"})
    listen = ["--host", args.host or settings.host, "--port", str(args.port or settings.port)]
    children = [
        Child("api", role_argv("api", *listen)),
        Child("simulator", role_argv("simulator")),
        Child("dispatcher", role_argv("dispatcher")),
        Child("projector", role_argv("projector")),
        *(Child(f"worker-{n}", role_argv("worker")) for n in range(settings.worker_processes)),
    ]
    env = child_environment(settings.database_url, settings.redis_url)
    log.info("engine up", extra={"api": f"http://{listen[1]}:{listen[3]}"})
    return supervise(children, env)


def _api(args: argparse.Namespace, settings: EngineSettings) -> int:
    if not settings.database_url or not settings.redis_url:
        settings = with_backing_services(settings)
        migrate_database(settings)
        # The uvicorn factory reads its settings from the environment in every API
        # process: hand it the servers resolved here, so none resolves them again.
        os.environ.update(DATABASE_URL=settings.database_url, REDIS_URL=settings.redis_url)
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


def _worker(_: argparse.Namespace, settings: EngineSettings) -> int:
    return run_worker(_with_services(settings))


def _dispatcher(_: argparse.Namespace, settings: EngineSettings) -> int:
    return run_dispatcher(_with_services(settings))


def _simulator(args: argparse.Namespace, settings: EngineSettings) -> int:
    given = {
        "--host": args.host,
        "--port": args.port,
        "--seed": args.seed,
        "--time-scale": args.time_scale,
        "--slot-ms": args.slot_ms,
        "--congestion": args.congestion,
    }
    overrides = [text for option, value in given.items() if value for text in (option, value)]
    if args.journal:
        settings = dataclasses.replace(settings, simulator_journal=args.journal)
    # The default journal is the seed's own, so a seed given here picks its file.
    return simulator_main([*simulator_argv(settings, args.seed), *overrides])


def _with_services(settings: EngineSettings) -> EngineSettings:
    if settings.database_url and settings.redis_url:
        return settings
    settings = with_backing_services(settings)
    migrate_database(settings)
    return settings
