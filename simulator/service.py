"""The simulator as a service: Solana JSON-RPC and the quote service (simulator.server).

Run: `orderengine simulator --host 127.0.0.1 --port 8900 --seed 0 --time-scale 1`
(or `python -m simulator ...`). Time: with --time-scale > 0 a slot passes every
slot_ms * time_scale of wall clock. With --time-scale 0 nothing sleeps: a slot passes
when a status poll asks about a transaction whose status the caller already saw in the
current slot (see core.Simulator), or on `simulator_advanceSlots`.

With --ledger litesvm the Raydium CPMM pools execute in the vendored program (LiteSVM),
the other venues in our math (simulator.ledger_modes); the default, math, runs all in ours.

With --journal PATH the chain survives SIGKILL (simulator.durable); a journal made
with other settings is refused, exit status 2. Without it the chain is in memory only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Self, get_args

import msgspec
from aiohttp import web

from simulator.config import LedgerMode, SimulatorConfig
from simulator.core import Simulator
from simulator.durable import open_simulator
from simulator.hostile import Hostile, HostileConfig, HostileError
from simulator.journal import JournalRefused
from simulator.server import Interceptor, Server, let_through

logger = logging.getLogger("simulator.service")
MAX_CATCH_UP_SLOTS = 50


class RunningService:
    """A listening service; `close()` stops the clock and every connection."""

    def __init__(
        self,
        simulator: Simulator,
        seconds_per_slot: float,
        interceptor: Interceptor = let_through,
        hostile: HostileConfig | None = None,
    ) -> None:
        self.simulator = simulator
        self.server = Server(simulator, seconds_per_slot > 0, interceptor, Hostile(hostile))
        self._seconds_per_slot = seconds_per_slot
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._clock: asyncio.Task[None] | None = None

    async def start(self, host: str, port: int) -> Self:
        self._runner = web.AppRunner(self.server.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, host, port, reuse_address=True)
        await self._site.start()
        if self._seconds_per_slot > 0:
            self._clock = asyncio.create_task(self._run_clock())
        return self

    @property
    def port(self) -> int:
        assert self._runner is not None
        address = self._runner.addresses[0]
        return int(address[1])

    async def _run_clock(self) -> None:
        # Catch up on slots missed while the loop was busy, a bounded number at once.
        loop = asyncio.get_running_loop()
        period = self._seconds_per_slot
        next_at = loop.time() + period
        while True:
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            due = int((loop.time() - next_at) // period) + 1
            self.simulator.advance_slots(min(due, MAX_CATCH_UP_SLOTS))
            next_at += due * period

    async def serve_forever(self) -> None:
        await asyncio.Event().wait()

    async def close(self) -> None:
        if self._clock is not None:
            self._clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock
        if self._runner is not None:
            await self._runner.cleanup()
        self.simulator.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()


async def start(
    config: SimulatorConfig,
    host: str = "127.0.0.1",
    port: int = 0,
    journal: Path | None = None,
    interceptor: Interceptor = let_through,
    hostile: HostileConfig | None = None,
) -> RunningService:
    """Start serving a Simulator; port 0 picks a free port (see `.port`). With a
    `journal` the chain is restored from that file and survives a kill; with `hostile`
    it answers as that hostile node (`simulator.hostile`)."""
    wall_clock = config.time_scale > 0
    # The poll-driven clock is for time_scale 0 only; with a wall clock it would
    # make slots pass faster the more clients poll.
    config = msgspec.structs.replace(config, advance_on_poll=not wall_clock)
    seconds_per_slot = config.slot_ms / 1000 * config.time_scale
    simulator = Simulator(config) if journal is None else open_simulator(config, journal)
    running = RunningService(simulator, seconds_per_slot, interceptor, hostile)
    try:
        return await running.start(host, port)
    except BaseException:
        await running.close()  # lets go of the journal too
        raise


async def serve(
    config: SimulatorConfig,
    host: str = "127.0.0.1",
    port: int = 8900,
    journal: Path | None = None,
    hostile: HostileConfig | None = None,
) -> None:
    """Serve until cancelled."""
    async with await start(config, host, port, journal, hostile=hostile) as running:
        logger.info(
            "event=simulator_listening host=%s port=%d seed=%d time_scale=%s hostile=%s",
            host,
            running.port,
            config.seed,
            config.time_scale,
            running.server.hostile.config.spec() or "off",
        )
        await running.serve_forever()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `orderengine simulator`."""
    parser = argparse.ArgumentParser(
        prog="orderengine simulator", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-scale", type=float, default=1.0, help="0 runs without sleeping")
    parser.add_argument("--slot-ms", type=int, default=400)
    parser.add_argument("--congestion", choices=["normal", "congested", "storm"], default="normal")
    parser.add_argument(
        "--ledger", choices=get_args(LedgerMode), default="math", help="where CPMM pools execute"
    )
    parser.add_argument(
        "--launches-per-hour",
        type=float,
        default=0.0,
        help="new pools launched on the seeded schedule (simulator.launches); 0: none",
    )
    parser.add_argument("--journal", type=Path, help="keep the chain in this file (survives kill)")
    parser.add_argument(
        "--hostile",
        default="",
        metavar="SPEC",
        help="answer as a hostile RPC node, e.g. drop:0.2,rate_limit:0.1 (simulator/hostile.py)",
    )
    args = parser.parse_args(argv)
    if args.time_scale < 0:
        parser.error("--time-scale must be >= 0")
    if not 0 <= args.launches_per_hour <= 9_000:
        parser.error("--launches-per-hour must be between 0 and 9000 (one a slot)")
    try:
        hostile = HostileConfig.parse(args.hostile)
    except HostileError as error:
        parser.error(f"--hostile {error}")
    config = SimulatorConfig(
        seed=args.seed,
        time_scale=args.time_scale,
        slot_ms=args.slot_ms,
        congestion=args.congestion,
        ledger=args.ledger,
        launches_per_hour=args.launches_per_hour,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(config, args.host, args.port, args.journal, hostile))
    except JournalRefused as error:
        print(f"simulator: {error}", file=sys.stderr)
        return 2
    return 0
