"""The `inflight_orders` table: which step each unfinished order waits for, and by when.

The dispatcher writes it in its checkpoint transaction, one statement per batch; the
sweeper claims overdue rows (and admits waiting orders) in short transactions of its
own; the confirmation watcher reads the signatures of orders waiting to settle. A
stopped row (an event of the order the dispatcher cannot decode) is nobody's business
but an operator's: neither swept nor watched, and no later step moves it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import msgspec
from psycopg import AsyncConnection


class Tracked(msgspec.Struct, frozen=True):
    order_id: str
    step: str
    attempt: int
    due_in_ms: int
    signature: str | None = None  # what the watcher follows, once the step is follow


class Watched(msgspec.Struct, frozen=True):
    order_id: str
    attempt: int
    signature: str


class Stopped(msgspec.Struct, frozen=True):
    order_id: str
    step: str  # the step it waited for when it stopped
    attempt: int
    reason: str
    stopped_at: datetime


class Claimed(msgspec.Struct, frozen=True):
    """A row a sweep took: its step is to be sent; `resends` counts this send too."""

    order_id: str
    step: str
    attempt: int
    resends: int
    resends_before: int


# The step whose rows the confirmation watcher acts on, rather than the sweeper.
WATCHED_STEP = "settle_attempt"

# A later attempt (a limit order's next arm fired) replaces what an earlier one left.
_WAIT = (
    "INSERT INTO inflight_orders (order_id, step, attempt, admitted, due_at)"
    " SELECT order_id, %s, attempt, false, now()"
    " FROM unnest(%s::text[], %s::int[]) AS t(order_id, attempt)"
    " ON CONFLICT (order_id) DO UPDATE SET step = excluded.step, attempt = excluded.attempt,"
    " admitted = false, due_at = excluded.due_at, resends = 0, signature = NULL"
    " WHERE inflight_orders.attempt < excluded.attempt AND inflight_orders.stopped_reason IS NULL"
)
_TRACK = (
    "INSERT INTO inflight_orders (order_id, step, attempt, admitted, due_at, signature)"
    " SELECT order_id, step, attempt, true, now() + make_interval(secs => due_ms / 1000.0),"
    " signature FROM unnest(%s::text[], %s::text[], %s::int[], %s::bigint[], %s::text[])"
    " AS t(order_id, step, attempt, due_ms, signature)"
    " ON CONFLICT (order_id) DO UPDATE SET step = excluded.step, attempt = excluded.attempt,"
    " admitted = true, due_at = excluded.due_at, resends = 0, signature = excluded.signature"
    " WHERE inflight_orders.stopped_reason IS NULL"
)
_WATCHED = (
    "SELECT order_id, attempt, signature FROM inflight_orders"
    " WHERE step = %s AND signature IS NOT NULL AND stopped_reason IS NULL"
    " ORDER BY due_at LIMIT %s"
)
# Admitted, so admission never starts it; counted in flight until an operator acts.
_STOP = (
    "INSERT INTO inflight_orders"
    " (order_id, step, attempt, admitted, due_at, stopped_reason, stopped_at)"
    " SELECT order_id, 'stopped', 0, true, now(), reason, now()"
    " FROM unnest(%s::text[], %s::text[]) AS t(order_id, reason)"
    " ON CONFLICT (order_id) DO UPDATE SET admitted = true,"
    " stopped_reason = excluded.stopped_reason, stopped_at = excluded.stopped_at"
)
_STOPPED = (
    "SELECT order_id, step, attempt, stopped_reason, stopped_at FROM inflight_orders"
    " WHERE stopped_reason IS NOT NULL ORDER BY stopped_at LIMIT %s"
)
_ADMIT = "SELECT order_id, step, attempt FROM admit_orders(%s, %s, %s)"
# Each resend of one order waits twice as long as the last, so a backlog that is
# merely slow is not flooded with duplicates; capped at 4 x RECOVER_AFTER_MS, because
# a message can be lost more than once in a row (a worker behind a lossy link takes
# it from the queue and never hears the answer) and each loss then cost a doubling:
# the fault suite's namespace row saw an order wait over 60 s.
_MAX_DOUBLINGS = 2
_CLAIM_OVERDUE = (
    "UPDATE inflight_orders SET resends = resends + 1,"
    f" due_at = now() + make_interval(secs => %s * (2 ^ least(resends, {_MAX_DOUBLINGS}))"
    " / 1000.0)"
    " WHERE order_id IN (SELECT order_id FROM inflight_orders WHERE admitted AND due_at < now()"
    " AND step <> ALL(%s) AND stopped_reason IS NULL ORDER BY due_at LIMIT %s"
    " FOR UPDATE SKIP LOCKED)"
    " RETURNING order_id, step, attempt, resends"
)

# A sweep whose messages never went out (Redis down) hands its rows back as they were
# before it claimed them, due at once: a failed send spends no back-off. A row the
# dispatcher moved on meanwhile (another step, attempt or resend count) is left alone.
_GIVE_BACK = (
    "UPDATE inflight_orders AS i SET resends = t.resends_before, due_at = now()"
    " FROM unnest(%s::text[], %s::text[], %s::int[], %s::int[], %s::int[])"
    " AS t(order_id, step, attempt, resends_before, resends_now)"
    " WHERE i.order_id = t.order_id AND i.step = t.step AND i.attempt = t.attempt"
    " AND i.resends = t.resends_now AND i.stopped_reason IS NULL"
)


async def wait_for_admission(conn: AsyncConnection, attempts: Mapping[str, int], step: str) -> None:
    """Orders (order id: the attempt to start) that start `step` once admitted."""
    if attempts:
        await conn.execute(_WAIT, (step, list(attempts), list(attempts.values())))


async def track(conn: AsyncConnection, rows: Sequence[Tracked]) -> None:
    """Record (or move on) the step each order waits for; it is overdue after `due_in_ms`."""
    if not rows:
        return
    columns = (
        [row.order_id for row in rows],
        [row.step for row in rows],
        [row.attempt for row in rows],
        [row.due_in_ms for row in rows],
        [row.signature for row in rows],
    )
    await conn.execute(_TRACK, columns)


async def watched(conn: AsyncConnection, limit: int) -> list[Watched]:
    """Orders whose sent signature waits to settle, the longest-waiting first."""
    cursor = await conn.execute(_WATCHED, (WATCHED_STEP, limit))
    return [Watched(row[0], row[1], row[2]) for row in await cursor.fetchall()]


async def stop(conn: AsyncConnection, reasons: dict[str, str]) -> None:
    """Stop following these orders (order id: why), where they stand."""
    if reasons:
        await conn.execute(_STOP, (list(reasons), list(reasons.values())))


async def stopped(conn: AsyncConnection, limit: int = 1_000) -> list[Stopped]:
    """The stopped orders, the longest-stopped first."""
    cursor = await conn.execute(_STOPPED, (limit,))
    return [Stopped(*row) for row in await cursor.fetchall()]


async def forget(conn: AsyncConnection, order_ids: Sequence[str]) -> None:
    if order_ids:
        await conn.execute(
            "DELETE FROM inflight_orders WHERE order_id = ANY(%s)", (list(order_ids),)
        )


async def admit_orders(
    conn: AsyncConnection, inflight_limit: int, per_minute: int, due_in_ms: int
) -> list[tuple[str, str, int]]:
    """Admit the waiting orders both limits allow (0: none), oldest first, in one
    statement: (order_id, step, attempt)."""
    cursor = await conn.execute(_ADMIT, (inflight_limit, per_minute, due_in_ms))
    return [(row[0], row[1], row[2]) for row in await cursor.fetchall()]


async def claim_overdue(
    conn: AsyncConnection, due_in_ms: int, limit: int, skip_steps: Sequence[str] = ()
) -> list[Claimed]:
    """Overdue steps (but those of `skip_steps`), pushed back so no other sweep claims
    them."""
    cursor = await conn.execute(_CLAIM_OVERDUE, (due_in_ms, [WATCHED_STEP, *skip_steps], limit))
    return [
        Claimed(row[0], row[1], row[2], resends=row[3], resends_before=row[3] - 1)
        for row in await cursor.fetchall()
    ]


async def give_back(conn: AsyncConnection, rows: Sequence[Claimed]) -> None:
    """Undo a sweep's claim on `rows` whose messages did not go out: due now, with
    the resend count (and so the back-off) they had before."""
    if not rows:
        return
    columns = (
        [row.order_id for row in rows],
        [row.step for row in rows],
        [row.attempt for row in rows],
        [row.resends_before for row in rows],
        [row.resends for row in rows],
    )
    await conn.execute(_GIVE_BACK, columns)
