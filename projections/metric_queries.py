"""The read side's numbers for `/metrics`: orders by status, stage latencies, lag."""

from __future__ import annotations

import msgspec
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from projections.stage_latency import BOUNDS_S


class StageHistogram(msgspec.Struct):
    stage: str
    cumulative: list[tuple[str, int]]  # (le, observations <= le), +Inf last
    seconds_sum: float
    count: int


class ConsumerLag(msgspec.Struct):
    consumer: str
    events_behind: int  # settled-or-not events after the checkpoint, any type
    checkpoint_age_s: float


class ReadSideFigures(msgspec.Struct):
    orders_by_status: dict[str, int]
    stages: list[StageHistogram]
    consumers: list[ConsumerLag]


_STATUS = "SELECT status, count(*) FROM order_snapshots GROUP BY status ORDER BY status"
_STAGES = (
    "SELECT stage, bucket, observations, micros_sum FROM order_stage_latency ORDER BY stage, bucket"
)
# The head minus the checkpoint counts events of every type: for a consumer that
# reads only some types (the dispatcher) it is an upper bound, not an exact lag.
_LAG = (
    "SELECT consumer, greatest(0, coalesce((SELECT max(global_position) FROM events), 0)"
    " - global_position), extract(epoch FROM now() - updated_at)::float8"
    " FROM checkpoints ORDER BY consumer"
)


async def read_side_figures(pool: AsyncConnectionPool[AsyncConnection]) -> ReadSideFigures:
    async with pool.connection() as conn:
        statuses = await (await conn.execute(_STATUS)).fetchall()
        stage_rows = await (await conn.execute(_STAGES)).fetchall()
        lags = await (await conn.execute(_LAG)).fetchall()
    return ReadSideFigures(
        orders_by_status={str(status): int(count) for status, count in statuses},
        stages=_histograms(stage_rows),
        consumers=[ConsumerLag(name, int(behind), float(age)) for name, behind, age in lags],
    )


def _histograms(rows: list[tuple[str, int, int, int]]) -> list[StageHistogram]:
    by_stage: dict[str, dict[int, tuple[int, int]]] = {}
    for stage, bucket, observations, micros in rows:
        by_stage.setdefault(stage, {})[bucket] = (observations, micros)
    histograms = []
    labels = [f"{bound:g}" for bound in BOUNDS_S] + ["+Inf"]
    for stage, buckets in sorted(by_stage.items()):
        running, cumulative = 0, []
        for index, label in enumerate(labels):
            running += buckets.get(index, (0, 0))[0]
            cumulative.append((label, running))
        micros = sum(total for _, total in buckets.values())
        histograms.append(StageHistogram(stage, cumulative, micros / 1_000_000, running))
    return histograms
