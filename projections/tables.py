"""Which tables a projection writes: the live ones, or a rebuild's fresh copies."""

from __future__ import annotations

import msgspec


class ReadModelTables(msgspec.Struct, frozen=True):
    snapshots: str
    stage_latency: str


LIVE = ReadModelTables("order_snapshots", "order_stage_latency")
REBUILD = ReadModelTables("order_snapshots_rebuild", "order_stage_latency_rebuild")
RETIRED = ReadModelTables("order_snapshots_retired", "order_stage_latency_retired")
