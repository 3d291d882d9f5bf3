"""The per-stage latency histogram the projector keeps next to the snapshots."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable

from psycopg import AsyncConnection, sql

from projections.snapshot import StageTime

# Upper bounds in seconds (Prometheus `le`); the last bucket is +Inf.
BOUNDS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_BOUNDS_MICROS = tuple(round(bound * 1_000_000) for bound in BOUNDS_S)

# (stage, bucket) -> (observations, microseconds summed)
Tally = dict[tuple[str, int], tuple[int, int]]


def bucket_of(micros: int) -> int:
    """Index of the first bound >= `micros` (len(BOUNDS_S) is +Inf)."""
    return bisect_left(_BOUNDS_MICROS, micros)


def tally(times: Iterable[StageTime], into: Tally | None = None) -> Tally:
    counts: Tally = {} if into is None else into
    for time in times:
        key = (time.stage, bucket_of(time.micros))
        seen, total = counts.get(key, (0, 0))
        counts[key] = (seen + 1, total + time.micros)
    return counts


async def add_tally(conn: AsyncConnection, table: str, counts: Tally) -> None:
    """Add `counts` to the histogram `table` (inside the caller's transaction)."""
    if not counts:
        return
    query = sql.SQL(
        "INSERT INTO {table} AS h (stage, bucket, observations, micros_sum)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT (stage, bucket) DO UPDATE SET"
        " observations = h.observations + excluded.observations,"
        " micros_sum = h.micros_sum + excluded.micros_sum"
    ).format(table=sql.Identifier(table))
    rows = [(stage, bucket, n, micros) for (stage, bucket), (n, micros) in sorted(counts.items())]
    async with conn.cursor() as cursor:
        await cursor.executemany(query, rows)
