"""Which waiting orders may start: an in-flight limit and an optional rate limit,
decided and applied by one SQL call (`admit_orders`, `db/migrations/0009_admission.sql`)
so the dispatcher and the sweeper admitting at once never pass either limit."""

from __future__ import annotations

from psycopg import AsyncConnection

from db.inflight import admit_orders


class Admission:
    """`inflight_limit` orders executing at most and `per_minute` started a minute at
    most (a token bucket with a one-second burst); 0 is no limit."""

    def __init__(self, inflight_limit: int, per_minute: int, due_in_ms: int) -> None:
        self._inflight_limit = max(0, inflight_limit)
        self._per_minute = max(0, per_minute)
        self._due_in_ms = due_in_ms

    async def admit(self, conn: AsyncConnection) -> list[tuple[str, str, int]]:
        """Admit as many waiting orders as both limits allow, oldest first, in the
        caller's transaction (other admitters wait for its commit)."""
        return await admit_orders(conn, self._inflight_limit, self._per_minute, self._due_in_ms)
