"""The sweeper: re-sends the message of every order whose step is overdue.

A message can be lost (a worker killed with it prefetched, Redis restarted); the
broker itself would only redeliver after a minute. Each order's step has a due time
in `inflight_orders`; once it passes, the sweeper sends the step again (actors are
idempotent) and pushes the due time back. It also admits orders that waited for
the in-flight or rate limit. It runs beside the dispatcher, only while that holds
the dispatcher's lock. Orders waiting for their signature to settle are not its
business: the confirmation watcher looks at every one of them each round.
"""

from __future__ import annotations

import asyncio
import logging

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from structlog.contextvars import bound_contextvars

from db.inflight import Claimed, claim_overdue, give_back
from db.retry import TRANSIENT, Gate, Outage, every_interval
from workers.messages import Outgoing, Publisher, Step, start_messages, step_message
from workers.process_manager.admission import Admission

log = logging.getLogger(__name__)
BATCH = 1_000


class Sweeper:
    def __init__(
        self,
        pool: AsyncConnectionPool[AsyncConnection],
        publish: Publisher,
        admission: Admission,
        recover_after_ms: int,
        interval_s: float = 1.0,
    ) -> None:
        self._pool = pool
        self._publish = publish
        self._admission = admission
        self._recover_after_ms = recover_after_ms
        self._interval_s = interval_s

    async def sweep_once(self) -> int:
        """Re-send overdue steps and admit waiting orders; how many messages went out.
        When the send fails, the claimed rows are handed back due at once, so an outage
        of Redis spends none of their back-off."""
        async with self._pool.connection() as conn, conn.transaction():
            overdue = await claim_overdue(conn, self._recover_after_ms, BATCH)
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
