"""The confirmation watcher: follows every sent signature with one status request per
round for all of them, instead of one message and one request per order and look.

Each round it reads the orders waiting to settle (`inflight_orders` rows in step
settle_attempt, written by the dispatcher from `TransactionSent`) and asks the chain
about their signatures in requests of at most `MAX_SIGNATURES`. A confirmed one is read
in full (`getTransaction`, one batch for all); one in no block is handed to
`UnseenSignatures`, which sends it again now and then and ends it only on proof that it
can never land. Those that ended are reloaded together and handed to
`commands.settle_attempt`, which decides from the reloaded state and appends at its
version, so an outcome acted on twice decides nothing the second time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from structlog.contextvars import bound_contextvars

from commands.chain_types import LandedTransaction, SignatureStatus
from commands.order_steps import load_orders
from commands.settle_attempt import SETTLED, Outcome, settle_attempt
from commands.step_context import StepContext
from db.inflight import Watched
from db.retry import Gate, Outage, WhenQuiet, every_interval
from domain.order_state import OrderState
from workers.process_manager.unseen_signatures import (
    MAX_SIGNATURES,
    UnseenSignatures,
    statuses_of,
)

log = logging.getLogger(__name__)

SETTLING_AT_ONCE = 16  # outcomes recorded at once (each a reload and an append; pool-sized)
RESEND_EVERY_S = 2.0  # a signature in no block is sent again this often, at most
__all__ = ["MAX_SIGNATURES", "RESEND_EVERY_S", "ConfirmationWatcher"]

# The orders waiting to settle, read afresh each round.
WatchedSource = Callable[[], Awaitable[list[Watched]]]


class ConfirmationWatcher:
    def __init__(
        self,
        ctx: StepContext,
        source: WatchedSource,
        interval_s: float,
        resend_every_s: float = RESEND_EVERY_S,
        idle: tuple[float, asyncio.Event] | None = None,
    ) -> None:
        self._ctx = ctx
        self._source = source
        self._interval_s = interval_s
        # (idle_s, bell): with nothing to watch it looks every idle_s, or when the
        # dispatcher rings the bell after it committed a sent signature.
        self._idle = idle
        self.watching = 0  # signatures the last round followed
        self._settling = asyncio.Semaphore(SETTLING_AT_ONCE)
        self._unseen = UnseenSignatures(ctx, resend_every_s)

    async def watch_once(self) -> int:
        """One round: ask about every watched signature; how many were acted on."""
        everything = await self._source()
        self.watching = len(everything)
        answered = await statuses_of(self._ctx.rpc, [item.signature for item in everything])
        # A signature whose status request was refused is looked at again next round.
        watched = [item for item in everything if item.signature in answered]
        statuses = [answered[item.signature] for item in watched]
        unanswered = frozenset(i.signature for i in everything if i.signature not in answered)
        due = await self._landed_outcomes(watched, statuses)
        unseen = [item for item, status in zip(watched, statuses, strict=True) if status is None]
        due += await self._unseen.look(unseen, unanswered)
        states = (
            await load_orders(self._ctx.store, [item.order_id for item, _ in due]) if due else {}
        )
        await asyncio.gather(
            *(
                self._settle(item, outcome, states[item.order_id])
                for item, outcome in due
                if item.order_id in states
            )
        )
        return len(due)

    async def _landed_outcomes(
        self, watched: list[Watched], statuses: list[SignatureStatus | None]
    ) -> list[tuple[Watched, Outcome]]:
        """The confirmed ones, read in full (one `getTransaction` batch for all)."""
        confirmed = [
            item
            for item, status in zip(watched, statuses, strict=True)
            if status is not None and status.confirmation_status in SETTLED
        ]
        landed = await self._landed([item.signature for item in confirmed])
        return [(item, outcome) for item, outcome in zip(confirmed, landed, strict=True) if outcome]

    async def _landed(self, signatures: list[str]) -> list[LandedTransaction | None]:
        if not signatures:
            return []
        chunks = [
            signatures[start : start + MAX_SIGNATURES]
            for start in range(0, len(signatures), MAX_SIGNATURES)
        ]
        answers = await asyncio.gather(
            *(self._ctx.rpc.landed_transactions(c) for c in chunks), return_exceptions=True
        )
        landed: list[LandedTransaction | None] = []
        for chunk, answer in zip(chunks, answers, strict=True):
            if isinstance(answer, BaseException):
                if not isinstance(answer, Exception):
                    raise answer  # cancelled
                # Not read this round (a 429 on one request): looked at again next round.
                log.warning("getTransaction not answered", extra={"error": str(answer)})
                landed.extend([None] * len(chunk))
            else:
                landed.extend(answer)
        return landed

    async def _settle(self, item: Watched, outcome: Outcome, state: OrderState) -> None:
        step = {"step": "settle_attempt", "order_id": item.order_id, "attempt": item.attempt}
        async with self._settling:
            with bound_contextvars(**step):
                try:
                    await settle_attempt(
                        self._ctx, item.order_id, item.attempt, item.signature, outcome, state
                    )
                except Exception:
                    # Not lost: the row stays until the dispatcher sees an outcome, so
                    # the next round looks again.
                    log.exception("settling failed")

    async def run(self, stop: asyncio.Event, active: Gate) -> None:
        """A round every interval while `active` (the dispatcher holds its lock; a round
        under way when it is lost is cancelled). Any failed round (store, Redis or the
        RPC node) backs off and the next one looks again: a round only reads and
        appends idempotently."""
        outage = Outage("confirmation watcher", log)
        quiet = None
        if self._idle is not None:
            idle_s, bell = self._idle
            quiet = WhenQuiet(idle_s, bell, lambda: self.watching == 0)
        await every_interval(
            outage,
            stop,
            self._interval_s,
            self.watch_once,
            active,
            retry_on=(Exception,),
            when_quiet=quiet,
        )
