"""Wiring of the read side's processes and tools: `orderengine projector`,
`orderengine replay [--verify]` and `orderengine history ORDER_ID [--at VERSION]`."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import uuid

from psycopg import AsyncConnection

from db.pool import session_options
from db.subscription import SubscriptionRunner
from db.wakeups import WakeUpListener
from domain.streams import order_stream
from orderengine.bootstrap import build_event_store, build_pool
from orderengine.progress import progress_bars
from orderengine.readiness import announce_when
from orderengine.settings import EngineSettings
from projections.order_projector import OrderSnapshotProjection
from projections.rebuild import rebuild
from projections.timeline import timeline

log = logging.getLogger("orderengine.read_side")


def run_projector(settings: EngineSettings) -> int:
    """The `order_snapshots` projector until SIGTERM (a standby waits for the lock)."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        pool = build_pool(settings)
        await pool.open(wait=True)
        store = build_event_store(pool)
        listener = WakeUpListener(settings.redis_url, redis_timeout_s=settings.redis_timeout_s)
        runner = SubscriptionRunner(
            settings.database_url,
            store,
            OrderSnapshotProjection(store),
            poll_interval_s=settings.projector_poll_ms / 1000,
            idle_poll_s=settings.idle_poll_ms / 1000,
            waiter=listener.wait,
            connect_options=session_options(
                settings.db_statement_timeout_ms, settings.db_idle_in_transaction_timeout_ms
            ),
        )
        announcing = asyncio.create_task(announce_when(runner.active, settings.data_dir))
        try:
            await asyncio.gather(listener.run(stop), runner.run_until_stopped(stop))
        finally:
            announcing.cancel()
            await pool.close()

    asyncio.run(main())
    return 0


def run_replay(settings: EngineSettings, *, verify: bool, batch_size: int) -> int:
    """Rebuild the read model from the log, swap it in; with `verify`, print how it
    differs from the live one (exit status 1 when it does)."""

    async def main() -> int:
        pool = build_pool(settings)
        await pool.open(wait=True)
        try:
            # The session limits of every engine session: nothing the replay does may
            # hold the global log's horizon (or a lock) for long.
            options = session_options(
                settings.db_statement_timeout_ms, settings.db_idle_in_transaction_timeout_ms
            )
            async with await AsyncConnection.connect(
                settings.database_url, autocommit=True, options=options
            ) as conn:
                bars = [("replay", "events")] + ([("verify", "orders")] if verify else [])
                with progress_bars(*bars) as advances:
                    outcome = await rebuild(
                        conn,
                        build_event_store(pool),
                        verify=verify,
                        batch_size=batch_size,
                        progress=advances[0],
                        compared=advances[1] if verify else None,
                    )
        finally:
            await pool.close()
        rate = outcome.events / max(outcome.seconds, 1e-9)
        print(
            f"replayed {outcome.events:,} events into {outcome.orders:,} orders in"
            f" {outcome.seconds:.1f} s ({rate:,.0f} events/s); swapped in at"
            f" {outcome.position.tx_id}.{outcome.position.global_position}"
        )
        if verify:
            print("verify: " + ("no difference" if not outcome.differences else "DIFFERENCES"))
            for line in outcome.differences:
                print(f"  {line}")
        return 1 if outcome.differences else 0

    return asyncio.run(main())


def run_history(settings: EngineSettings, order_id: str, at_version: int | None) -> int:
    """Print an order's timeline: events, quotes, route and why, attempts."""
    try:
        canonical = str(uuid.UUID(order_id))
    except ValueError:
        print(f"{order_id!r} is not an order id (a UUID)", file=sys.stderr)
        return 2

    async def main() -> int:
        pool = build_pool(settings)
        await pool.open(wait=True)
        try:
            events = await build_event_store(pool).read_stream(order_stream(canonical))
        finally:
            await pool.close()
        if not events:
            print(f"no order {canonical}", file=sys.stderr)
            return 1
        last = events[-1].stream_version
        if at_version is not None and not 1 <= at_version <= last:
            print(f"--at {at_version}: order {canonical} has versions 1..{last}", file=sys.stderr)
            return 2
        print(f"order {canonical}")
        for line in timeline(events, at_version):
            print(line)
        return 0

    return asyncio.run(main())
