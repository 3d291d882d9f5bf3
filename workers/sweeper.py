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
import contextlib
import logging

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from db.inflight import claim_overdue
from workers.admission import Admission
from workers.dispatcher import Outgoing, Publisher
from workers.messages import Step, start_messages, step_message

log = logging.getLogger("workers.sweeper")
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
        """Re-send overdue steps and admit waiting orders; how many messages went out."""
        async with self._pool.connection() as conn, conn.transaction():
            overdue = await claim_overdue(conn, self._recover_after_ms, BATCH)
            admitted = await self._admission.admit(conn)
        outgoing: Outgoing = [
            (step_message(Step(step), oid, attempt, f"sweep:{resends}"), None)
            for oid, step, attempt, resends in overdue
        ]
        admitted_ids = [oid for oid, _, _ in admitted]
        outgoing += [(message, None) for message in start_messages(admitted_ids, "admitted")]
        for order_id, step, attempt, _ in overdue:
            log.warning(
                "step overdue; message sent again",
                extra={"order_id": order_id, "step": step, "attempt": attempt},
            )
        if outgoing:
            await self._publish(outgoing)
        return len(outgoing)

    async def run(self, stop: asyncio.Event, active: asyncio.Event) -> None:
        """Sweep every interval while `active` (the dispatcher holds its lock)."""
        while not stop.is_set():
            if active.is_set():
                try:
                    await self.sweep_once()
                except Exception:
                    log.exception("sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval_s)
