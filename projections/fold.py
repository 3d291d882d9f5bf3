"""Folding a batch of the global log into many orders' snapshots at once."""

from __future__ import annotations

from collections.abc import Iterable

from domain.records import RecordedEvent
from domain.streams import order_id_of
from projections.snapshot import OrderSnapshot, advance, is_order_event
from projections.stage_latency import Tally, tally


class SnapshotFold:
    """Snapshots by order id, plus what a batch changed: the orders it touched, the
    stage times it completed, and the orders whose next version it has not seen."""

    def __init__(self, snapshots: dict[str, OrderSnapshot] | None = None) -> None:
        self.snapshots: dict[str, OrderSnapshot] = snapshots if snapshots is not None else {}
        self.touched: set[str] = set()
        self.stage_times: Tally = {}
        self.gaps: set[str] = set()

    def apply(self, events: Iterable[RecordedEvent]) -> None:
        for event in events:
            if is_order_event(event):
                self.apply_one(event)

    def apply_one(self, event: RecordedEvent) -> None:
        order_id = order_id_of(event.stream_id)
        before = self.snapshots.get(order_id)
        version = before.state.version if before else 0
        if event.stream_version > version + 1:
            # Commit order put a later version first; the caller refolds this order.
            self.gaps.add(order_id)
            return
        after, times = advance(before, event)
        if after is not None and after is not before:
            self.snapshots[order_id] = after
            self.touched.add(order_id)
            if times:
                tally(times, self.stage_times)

    def changed(self) -> list[OrderSnapshot]:
        return [self.snapshots[order_id] for order_id in sorted(self.touched)]


def order_ids(events: Iterable[RecordedEvent]) -> list[str]:
    """The distinct orders a batch concerns, in a stable order (no lock-order surprises)."""
    return sorted({order_id_of(e.stream_id) for e in events if is_order_event(e)})
