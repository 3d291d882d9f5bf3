"""The confirmation watcher: follows every sent signature with one status request per
round for all of them, instead of one message and one request per order and look.

Each round it reads the orders waiting to settle (`inflight_orders` rows in step
follow_order, written by the dispatcher from `TransactionSent`), asks the chain about
their signatures in requests of at most `MAX_SIGNATURES`, and acts only on those whose
status ended (confirmed, failed, expired) or that the chain does not know: it reloads
those orders together and hands each to `follow_step.settle`, which decides from the
reloaded state and appends at its version, so a status acted on twice decides
nothing the second time. A pending or processed
status (its block may still be dropped) is simply looked at again next round.
An attempt still ends only when its signature provably cannot land any more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from db.inflight import Watched
from domain.order_state import OrderState
from workers.context import StepContext
from workers.follow_step import PENDING, settle
from workers.wire import SignatureStatus

log = logging.getLogger("workers.watcher")

MAX_SIGNATURES = 256  # per status request, the venue's limit
SETTLING_AT_ONCE = 16  # outcomes recorded at once (each a reload and an append; pool-sized)

# The orders waiting to settle, read afresh each round.
WatchedSource = Callable[[], Awaitable[list[Watched]]]


class ConfirmationWatcher:
    def __init__(self, ctx: StepContext, source: WatchedSource, interval_s: float) -> None:
        self._ctx = ctx
        self._source = source
        self._interval_s = interval_s
        self._settling = asyncio.Semaphore(SETTLING_AT_ONCE)

    async def watch_once(self) -> int:
        """One round: ask about every watched signature; how many were acted on."""
        watched = await self._source()
        if not watched:
            return 0
        statuses = await self._statuses([item.signature for item in watched])
        due = [
            (item, status)
            for item, status in zip(watched, statuses, strict=True)
            if status is None or status.state not in PENDING
        ]
        states = await self._ctx.load_orders([item.order_id for item, _ in due]) if due else {}
        await asyncio.gather(
            *(
                self._settle(item, status, states[item.order_id])
                for item, status in due
                if item.order_id in states
            )
        )
        return len(due)

    async def _statuses(self, signatures: list[str]) -> list[SignatureStatus | None]:
        chunks = [
            signatures[start : start + MAX_SIGNATURES]
            for start in range(0, len(signatures), MAX_SIGNATURES)
        ]
        answers = await asyncio.gather(*(self._ctx.venue.signature_statuses(c) for c in chunks))
        return [status for answer in answers for status in answer.value]

    async def _settle(
        self, item: Watched, status: SignatureStatus | None, state: OrderState
    ) -> None:
        async with self._settling:
            try:
                await settle(self._ctx, item.order_id, item.attempt, item.signature, status, state)
            except Exception:
                # Not lost: the row stays until the dispatcher sees an outcome, so the
                # next round looks again.
                log.exception("settling failed", extra={"order_id": item.order_id})

    async def run(self, stop: asyncio.Event, active: asyncio.Event) -> None:
        """A round every interval while `active` (the dispatcher holds its lock)."""
        while not stop.is_set():
            if active.is_set():
                try:
                    await self.watch_once()
                except Exception:
                    log.exception("watch round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval_s)
