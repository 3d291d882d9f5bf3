"""`orderengine`: one command line for every process and tool of the engine."""

# Each command imports what it runs when it runs (uvicorn, psycopg, dramatiq, solders
# cost seconds together): `orderengine --help` and a mistyped option answer at once.

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys

from orderengine.heap import map_large_buffers
from orderengine.settings import ConfigurationError, EngineSettings

log = logging.getLogger("orderengine")


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    map_large_buffers()
    try:
        settings = EngineSettings.from_environment()
        from orderengine.logs import configure_logging

        configure_logging(settings.log_level, settings.log_format)
        status = args.run(args, settings)
    except ConfigurationError as error:
        # As argparse refuses a bad option: status 2, which `up` does not restart.
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    sys.exit(status or 0)


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

    evaluator = commands.add_parser(
        "evaluator", help="run the trigger evaluator: fire and expire limit orders"
    )
    evaluator.set_defaults(run=_evaluator)

    simulator = commands.add_parser("simulator", help="run the simulated chain and venues")
    for option in (
        "--host",
        "--port",
        "--seed",
        "--time-scale",
        "--slot-ms",
        "--congestion",
        "--hostile",
        "--ledger",
    ):
        simulator.add_argument(option, help="default: from SIMULATOR_URL / SIMULATOR_* settings")
    simulator.add_argument("--journal", help="default: SIMULATOR_JOURNAL; `off`: in memory")
    simulator.set_defaults(run=_simulator)

    projector = commands.add_parser("projector", help="run the read-model projector")
    projector.set_defaults(run=_projector)

    replay = commands.add_parser("replay", help="rebuild the read model from the log, swap it in")
    replay.add_argument("--verify", action="store_true", help="print differences from the live")
    replay.add_argument("--batch-size", type=int, default=5_000, help="events per read")
    replay.set_defaults(run=_replay)

    history = commands.add_parser("history", help="an order's timeline: quotes, route, attempts")
    history.add_argument("order_id", metavar="ORDER_ID")
    history.add_argument("--at", type=int, metavar="VERSION", help="stop after this version")
    history.set_defaults(run=_history)

    keys = commands.add_parser("keys", help="API keys: create, list, revoke")
    key_actions = keys.add_subparsers(required=True, metavar="ACTION", dest="action")
    create = key_actions.add_parser("create", help="make a key and print it (once)")
    create.add_argument("name", metavar="NAME")
    create.add_argument("--admin", action="store_true", help="sees and cancels every order")
    key_actions.add_parser("list", help="every key: name, kind, id, active or revoked")
    revoke = key_actions.add_parser("revoke", help="refuse the key from now on")
    revoke.add_argument("name", metavar="NAME")
    keys.set_defaults(run=_keys)

    stopped = commands.add_parser(
        "stopped", help="orders the dispatcher stopped following (an undecodable event)"
    )
    stopped.set_defaults(run=_stopped)
    return parser


def _add_listen_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="listen address (default: HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="listen port (default: PORT or 8000)")


def _up(args: argparse.Namespace, settings: EngineSettings) -> int:
    from orderengine.up import run_up

    return run_up(settings, args.host or settings.host, args.port or settings.port)


def _api(args: argparse.Namespace, settings: EngineSettings) -> int:
    import uvicorn

    from orderengine.bootstrap import migrate_database, shared_metrics_dir, with_backing_services

    if not settings.database_url or not settings.redis_url:
        settings = with_backing_services(settings)
        migrate_database(settings)
        # The uvicorn factory reads its settings from the environment in every API
        # process: hand it the servers resolved here, so none resolves them again.
        os.environ.update(DATABASE_URL=settings.database_url, REDIS_URL=settings.redis_url)
    if settings.api_processes > 1 or settings.prometheus_multiproc_dir:
        # A scrape reaches any one process: each must count into files all of them read.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(shared_metrics_dir(settings))
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
    from orderengine.bootstrap import migrate_database, with_backing_services

    settings = with_backing_services(settings)
    applied = migrate_database(settings)
    print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))
    return 0


def _worker(_: argparse.Namespace, settings: EngineSettings) -> int:
    from orderengine.processes import run_worker

    return run_worker(_with_services(settings))


def _dispatcher(_: argparse.Namespace, settings: EngineSettings) -> int:
    from orderengine.processes import run_dispatcher

    return run_dispatcher(_with_services(settings))


def _projector(_: argparse.Namespace, settings: EngineSettings) -> int:
    from orderengine.read_commands import run_projector

    return run_projector(_with_services(settings))


def _replay(args: argparse.Namespace, settings: EngineSettings) -> int:
    from orderengine.read_commands import run_replay

    return run_replay(
        _with_services(settings, redis=False), verify=args.verify, batch_size=args.batch_size
    )


def _history(args: argparse.Namespace, settings: EngineSettings) -> int:
    from orderengine.read_commands import run_history

    return run_history(_with_services(settings, redis=False), args.order_id, args.at)


def _evaluator(_: argparse.Namespace, settings: EngineSettings) -> int:
    from orderengine.evaluator_process import run_evaluator

    return run_evaluator(_with_services(settings))


def _keys(args: argparse.Namespace, settings: EngineSettings) -> int:
    from db.migrate import migrate
    from orderengine.key_commands import run_keys

    settings = _with_services(settings, redis=False)
    migrate(settings.database_url)  # the table exists before a key is asked for
    name = getattr(args, "name", None)
    return run_keys(settings, args.action, name, admin=getattr(args, "admin", False))


def _stopped(_: argparse.Namespace, settings: EngineSettings) -> int:
    from orderengine.stopped_orders import run_stopped

    return run_stopped(_with_services(settings, redis=False))


def _simulator(args: argparse.Namespace, settings: EngineSettings) -> int:
    from orderengine.processes import simulator_argv
    from simulator.service import main as simulator_main

    given = {
        "--host": args.host,
        "--port": args.port,
        "--seed": args.seed,
        "--time-scale": args.time_scale,
        "--slot-ms": args.slot_ms,
        "--congestion": args.congestion,
        "--hostile": args.hostile,
        "--ledger": args.ledger,
    }
    overrides = [text for option, value in given.items() if value for text in (option, value)]
    if args.journal:
        settings = dataclasses.replace(settings, simulator_journal=args.journal)
    # The default journal is the seed's own, so a seed given here picks its file.
    return simulator_main([*simulator_argv(settings, args.seed), *overrides])


def _with_services(settings: EngineSettings, *, redis: bool = True) -> EngineSettings:
    """Embedded PostgreSQL (and Redis, unless the command does without) for any URL
    left empty, migrated."""
    if settings.database_url and (settings.redis_url or not redis):
        return settings
    from orderengine.bootstrap import migrate_database, with_backing_services

    settings = with_backing_services(settings, redis=redis)
    migrate_database(settings)
    return settings
