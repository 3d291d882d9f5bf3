"""The simulator as an HTTP/1.1 JSON service (stdlib asyncio + msgspec, no framework).

Run: `orderengine simulator --host 127.0.0.1 --port 8900 --seed 0 --time-scale 1`
(or `python -m simulator ...`). JSON bodies use camelCase; amounts are decimal
strings of atomic units (integers are accepted in requests); tokens are named by
mint or symbol. Errors are `{"error", "field", "message"}` with a 4xx status.

    GET  /health              200 {"status": "ok", "slot", "blockHeight"}
    GET  /tokens              200 {tokens: [{symbol, mint, decimals}],
                                   pairs: [{symbol, baseMint, quoteMint, referencePrice, pools}],
                                   pools: [{address, venue, label, kind, pair, baseMint,
                                            quoteMint, feeRate, spotPrice, reserveBase?,
                                            reserveQuote?, binStep?, activeId?}], contextSlot}
    POST /quote               {inputMint, outputMint, amounts: [..], slippageBps?=50, pools?}
                              200 {inputMint, outputMint, swapMode, slippageBps, contextSlot,
                                   timeTaken, pools: [{ammKey, label, venue, feeMint, feeRate,
                                   spotPrice, quotes: [{inAmount, outAmount, feeAmount,
                                   priceImpactPct, otherAmountThreshold, error}]}]}
    POST /quote/legs          {inputMint, outputMint, legs: [{pool, amountIn}], slippageBps?}
                              200 Jupiter /quote shape (inAmount, outAmount,
                                  otherAmountThreshold, priceImpactPct, routePlan
                                  [{swapInfo, percent, bps}], contextSlot, timeTaken);
                              422 when a leg exceeds the pool's liquidity
    GET  /blockhash           200 {blockhash, lastValidBlockHeight, blockHeight, slot}
    GET  /block-height        200 {blockHeight, slot}
    POST /transactions        {signature, inputMint, outputMint, legs: [{pool, amountIn,
                               minAmountOut?}], minAmountOut, lastValidBlockHeight,
                               computeUnitPrice?=0, computeUnitLimit?, recentBlockhash?}
                              202 {signature, duplicate: false, status}; a known signature
                              with the same content: 200 {duplicate: true, status} and
                              nothing is re-sent; with other content: 409
    POST /signature-statuses  {signatures: [..]} 200 {context: {slot}, value: [null |
                              {signature, state, slot, confirmations, confirmationStatus,
                               err: {name, code, message, instructionIndex} | null,
                               result: {slot, inAmount, outAmount, feeLamports,
                                        legs: [{pool, inAmount, outAmount, feeAmount}]}
                                       | null}]}
    POST /slots/advance       {slots?=1} 200 {slot, blockHeight}   (tests and benchmarks)

Time: with --time-scale > 0 a slot passes every slot_ms * time_scale of wall clock.
With --time-scale 0 nothing sleeps: a slot passes when a status poll asks about a
transaction whose status the caller already saw in the current slot (see
core.Simulator), or on POST /slots/advance.

With --journal PATH the chain survives SIGKILL (simulator.durable); a journal made
with other settings is refused, exit status 2. Without it the chain is in memory only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Self

import msgspec

from simulator.config import SimulatorConfig
from simulator.core import Simulator
from simulator.durable import checkpoint, open_simulator
from simulator.httpserver import MAX_HEAD_BYTES, Request, Response, serve_connection
from simulator.journal import JournalRefused
from simulator.routes import App, error_page

logger = logging.getLogger("simulator.service")
MAX_CATCH_UP_SLOTS = 50


class RunningService:
    """A listening service; `close()` stops the clock and every connection."""

    def __init__(self, simulator: Simulator, seconds_per_slot: float) -> None:
        self.simulator = simulator
        self.app = App(simulator)
        self._seconds_per_slot = seconds_per_slot
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self._clock: asyncio.Task[None] | None = None

    async def start(self, host: str, port: int) -> Self:
        self._server = await asyncio.start_server(
            self._connection, host, port, limit=MAX_HEAD_BYTES
        )
        if self._seconds_per_slot > 0:
            self._clock = asyncio.create_task(self._run_clock())
        return self

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            await serve_connection(reader, writer, self._answer, error_page)
        finally:
            self._writers.discard(writer)

    def _answer(self, request: Request) -> Response:
        response = self.app.handle(request)
        try:
            checkpoint(self.simulator)  # before the answer leaves: then it survives a kill
        except OSError:
            # A restart could forget what this answer reports: stop, as a node whose
            # disk failed stops, rather than tell clients about a chain it may lose.
            logger.critical("event=journal_write_failed", exc_info=True)
            os._exit(1)
        return response

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
        assert self._server is not None
        await self._server.serve_forever()

    async def close(self) -> None:
        if self._clock is not None:
            self._clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        if self._server is not None:
            await self._server.wait_closed()
        if self.simulator.journal is not None:
            self.simulator.journal.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()


async def start(
    config: SimulatorConfig, host: str = "127.0.0.1", port: int = 0, journal: Path | None = None
) -> RunningService:
    """Start serving a Simulator; port 0 picks a free port (see `.port`). With a
    `journal` the chain is restored from that file and survives a kill."""
    wall_clock = config.time_scale > 0
    # The poll-driven clock is for time_scale 0 only; with a wall clock it would
    # make slots pass faster the more clients poll.
    config = msgspec.structs.replace(config, advance_on_poll=not wall_clock)
    seconds_per_slot = config.slot_ms / 1000 * config.time_scale
    simulator = Simulator(config) if journal is None else open_simulator(config, journal)
    running = RunningService(simulator, seconds_per_slot)
    try:
        return await running.start(host, port)
    except BaseException:
        await running.close()  # lets go of the journal too
        raise


async def serve(
    config: SimulatorConfig, host: str = "127.0.0.1", port: int = 8900, journal: Path | None = None
) -> None:
    """Serve until cancelled."""
    async with await start(config, host, port, journal) as running:
        logger.info(
            "event=simulator_listening host=%s port=%d seed=%d time_scale=%s",
            host,
            running.port,
            config.seed,
            config.time_scale,
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
    parser.add_argument("--journal", type=Path, help="keep the chain in this file (survives kill)")
    args = parser.parse_args(argv)
    if args.time_scale < 0:
        parser.error("--time-scale must be >= 0")
    config = SimulatorConfig(
        seed=args.seed,
        time_scale=args.time_scale,
        slot_ms=args.slot_ms,
        congestion=args.congestion,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(config, args.host, args.port, args.journal))
    except JournalRefused as error:
        print(f"simulator: {error}", file=sys.stderr)
        return 2
    return 0
