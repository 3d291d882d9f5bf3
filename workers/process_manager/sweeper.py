"""The sweeper: re-sends the message of every order whose step is overdue.

A message can be lost (a worker killed with it prefetched, Redis restarted); the
broker itself would only redeliver after a minute. Each order's step has a due time
in `inflight_orders`; once it passes, the sweeper sends the step again (actors are
idempotent) and pushes the due time back. It also admits orders that waited for
the in-flight or rate limit. It runs beside the dispatcher, only while that holds
the dispatcher's lock. Orders waiting for their signature to settle are not its
business: the confirmation watcher looks at every one of them each round.

A step whose queue still holds messages no worker has taken is left alone: under
overload a message waits there longer than RECOVER_AFTER_MS, late but not lost, and a
duplicate queued behind it only adds work (a 30-minute soak on a loaded machine
re-sent 494,066 steps and collapsed). Once the queue has drained, a step still
overdue was lost, and is sent again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from structlog.contextvars import bound_contextvars

from db.inflight import Claimed, claim_overdue, give_back
from db.retry import TRANSIENT, Gate, Outage, every_interval
from workers.messages import Outgoing, Publisher, Step, start_messages, step_message
from workers.process_manager.admission import Admission

log = logging.getLogger(__name__)
BATCH = 1_000
# The steps the sweeper sends again (settling is the confirmation watcher's).
RESENT = (Step.ROUTE, Step.RESEND)
# How many messages wait in a queue (by name), not yet taken by any worker.
QueueDepth = Callable[[str], Awaitable[int]]


class Sweeper:
    def __init__(
        self,
        pool: AsyncConnectionPool[AsyncConnection],
        publish: Publisher,
        admission: Admission,
        recover_after_ms: int,
        interval_s: float = 1.0,
        queued: QueueDepth | None = None,
    ) -> None:
        self._pool = pool
        self._queued = queued
        self._publish = publish
        self._admission = admission
        self._recover_after_ms = recover_after_ms
        self._interval_s = interval_s

    async def sweep_once(self) -> int:
        """Re-send overdue steps and admit waiting orders; how many messages went out.
        When the send fails, the claimed rows are handed back due at once, so an outage
        of Redis spends none of their back-off."""
        backlogged = await self._backlogged()
        async with self._pool.connection() as conn, conn.transaction():
            overdue = await claim_overdue(conn, self._recover_after_ms, BATCH, backlogged)
            admitted = await self._admission.admit(conn)
        outgoing: Outgoing = [
            (step_message(Step(row.step), row.order_id, row.attempt, f"sweep:{row.resends}"), None)
            for row in overdue
        ]
        started = [(oid, attempt) for oid, _, attempt in admitted]
        outgoing += [(message, None) for message in start_messages(started, "admitted")]
        if not outgoing:
            return 0
        try:
            await self._publish(outgoing)
        except BaseException:
            claimed = overdue + [
                Claimed(oid, step, attempt, 0, 0) for oid, step, attempt in admitted
            ]
            await self._give_back(claimed)
            raise
        for row in overdue:
            with bound_contextvars(order_id=row.order_id, step=row.step, attempt=row.attempt):
                log.warning("step overdue; message sent again")
        return len(outgoing)

    async def _backlogged(self) -> list[str]:
        """The steps whose queue holds messages not yet taken by a worker."""
        if self._queued is None:
            return []
        depths = await asyncio.gather(*(self._queued(step.queue) for step in RESENT))
        return [step.value for step, depth in zip(RESENT, depths, strict=True) if depth]

    async def _give_back(self, claimed: list[Claimed]) -> None:
        try:
            async with self._pool.connection() as conn, conn.transaction():
                await give_back(conn, claimed)
        except TRANSIENT as error:
            # PostgreSQL is down too: the rows keep their pushed-back due time (one
            # back-off lost, no message lost).
            log.warning("could not hand back a failed sweep", extra={"error": repr(error)})

    async def run(self, stop: asyncio.Event, active: Gate) -> None:
        """Sweep every interval while `active` (the dispatcher holds its lock; a sweep
        under way when it is lost is cancelled); through an outage of PostgreSQL or
        Redis it backs off and goes on."""
        outage = Outage("sweeper", log)
        await every_interval(outage, stop, self._interval_s, self.sweep_once, active)
