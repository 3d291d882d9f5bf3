"""The recent pool launches and what each did to the sniper orders: the read behind
`GET /api/launches`.

The launches come from `launched_pools` (the launched-pools projection); each sniper's
verdict on a pool is on its own stream in the log (`PoolMatched`, `PoolSkipped` with
the refusing filter), found by pool through `events_sniper_verdicts_by_pool`
(migration 0015); the order's status is its snapshot's (`order_snapshots`), None for an
order the projector has not reached yet. An owner sees only the verdicts on the orders
it submitted (the actor of each stream's first event, as the log's own owner filter).
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from db.launched_pools import recent_launches
from domain.launches import PoolLaunched
from domain.streams import ORDER_STREAM_PREFIX
from projections.tables import LIVE

# Listed per launch and per verdict; the counts say how many there are in all.
MAX_ORDERS_PER_VERDICT = 50

_VERDICTS = sql.SQL(
    "SELECT v.pool, v.event_type, v.order_id, v.filter, s.status, v.total FROM ("
    " SELECT e.data->>'pool' AS pool, e.event_type, substr(e.stream_id, %s) AS order_id,"
    " e.data->>'filter' AS filter,"
    " row_number() OVER verdicts AS nth,"
    " count(*) OVER (PARTITION BY e.data->>'pool', e.event_type) AS total"
    " FROM events e"
    " WHERE e.event_type IN ('PoolMatched', 'PoolSkipped') AND e.data->>'pool' = ANY(%s)"
    " {owned}"
    " WINDOW verdicts AS (PARTITION BY e.data->>'pool', e.event_type"
    " ORDER BY e.global_position)"
    ") v LEFT JOIN {snapshots} s ON s.order_id = v.order_id::uuid"
    " WHERE v.nth <= %s ORDER BY v.pool, v.event_type, v.nth"
)
_OWNED = sql.SQL(
    " AND EXISTS (SELECT 1 FROM events o WHERE o.stream_id = e.stream_id"
    " AND o.stream_version = 1 AND o.metadata->>'actor' = %s)"
)


class SniperVerdict(msgspec.Struct, frozen=True, kw_only=True):
    order_id: str
    status: str | None  # None: not projected yet
    filter: str | None = None  # the refusing filter of a skip


class LaunchVerdicts(msgspec.Struct, frozen=True, kw_only=True):
    """One launch, the snipers it matched and those it skipped (oldest verdict first,
    at most `MAX_ORDERS_PER_VERDICT` each; the counts are of all of them)."""

    launch: PoolLaunched
    matched: tuple[SniperVerdict, ...]
    matched_count: int
    skipped: tuple[SniperVerdict, ...]
    skipped_count: int


class LaunchReader:
    """Reads the recent launches; two short autocommit statements a call."""

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection]) -> None:
        self._pool = pool

    async def recent(self, limit: int, *, owner: str | None = None) -> list[LaunchVerdicts]:
        """The `limit` newest launches, newest first; only `owner`'s orders when given."""
        async with self._pool.connection() as conn:
            launches = await recent_launches(conn, limit)
            rows = await _verdict_rows(conn, [launch.pool for launch in launches], owner)
        found: dict[tuple[str, str], list[SniperVerdict]] = {}
        counts: dict[tuple[str, str], int] = {}
        for pool, event_type, order_id, refusing, status, total in rows:
            verdict = SniperVerdict(order_id=order_id, status=status, filter=refusing)
            found.setdefault((pool, event_type), []).append(verdict)
            counts[(pool, event_type)] = int(total)
        return [
            LaunchVerdicts(
                launch=launch,
                matched=tuple(found.get((launch.pool, "PoolMatched"), ())),
                matched_count=counts.get((launch.pool, "PoolMatched"), 0),
                skipped=tuple(found.get((launch.pool, "PoolSkipped"), ())),
                skipped_count=counts.get((launch.pool, "PoolSkipped"), 0),
            )
            for launch in launches
        ]


async def _verdict_rows(
    conn: AsyncConnection, pools: Sequence[str], owner: str | None
) -> list[tuple[str, str, str, str | None, str | None, int]]:
    if not pools:
        return []
    query = _VERDICTS.format(
        owned=_OWNED if owner is not None else sql.SQL(""),
        snapshots=sql.Identifier(LIVE.snapshots),
    )
    first = len(ORDER_STREAM_PREFIX) + 1  # substr counts from 1
    params: list[object] = [first, list(pools)]
    if owner is not None:
        params.append(owner)
    params.append(MAX_ORDERS_PER_VERDICT)
    cursor = await conn.execute(query, params)
    return [
        (str(r[0]), str(r[1]), str(r[2]), r[3], r[4], int(r[5])) for r in await cursor.fetchall()
    ]
