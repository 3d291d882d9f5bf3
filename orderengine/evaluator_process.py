"""Wiring of the trigger evaluator's process: the armed-orders projection (one active,
by its advisory lock) and the evaluator that looks at every slot while it is active;
the launched-pools projection (its own lock) and the pool watcher, which finds new pools
on the chain while that one is active; the sniper matcher (its own lock), which judges
each new pool for the armed snipers, and the sniper buyer, which fires their buys at the
pool's open plus their delay while the matcher is active, and the exit watcher, which
sells a held sniper position through its child order when an exit rule fires."""

from __future__ import annotations

import asyncio
import logging
import signal

from solders.keypair import Keypair

from db.pool import session_options
from db.redis_clients import async_redis
from db.subscription import SubscriptionRunner
from db.wakeups import CommitNudger, WakeUpListener
from orderengine.bootstrap import build_event_store, build_pool
from orderengine.processes import execution_policy, solana_clients, wallet
from orderengine.readiness import announce_when
from orderengine.settings import EngineSettings
from workers.process_manager.armed_orders_projection import ArmedOrdersProjection
from workers.process_manager.exit_watcher import ExitWatcher
from workers.process_manager.launched_pools_projection import LaunchedPoolsProjection
from workers.process_manager.pool_watcher import PoolWatcher
from workers.process_manager.sniper_buyer import SniperBuyer
from workers.process_manager.sniper_matcher import SniperMatcher
from workers.process_manager.trigger_evaluator import TriggerEvaluator

log = logging.getLogger("orderengine.evaluator")


def run_evaluator(settings: EngineSettings) -> int:
    """The trigger evaluator until SIGTERM (a standby waits for the lock)."""
    keypair = wallet(settings)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await evaluate_until(settings, stop, keypair)

    asyncio.run(main())
    return 0


async def evaluate_until(settings: EngineSettings, stop: asyncio.Event, keypair: Keypair) -> None:
    pool = build_pool(settings)
    await pool.open(wait=True)
    chain = solana_clients(settings, keypair)
    wake_ups = async_redis(settings.redis_url, settings.redis_timeout_s)
    options = session_options(
        settings.db_statement_timeout_ms, settings.db_idle_in_transaction_timeout_ms
    )
    # Commits anywhere wake both projections (`db/wakeups.py`): idle, they need not poll.
    listener = WakeUpListener(settings.redis_url, redis_timeout_s=settings.redis_timeout_s)
    armed = ArmedOrdersProjection()
    runner = SubscriptionRunner(
        settings.database_url,
        build_event_store(pool),
        armed,
        poll_interval_s=settings.dispatch_poll_ms / 1000,
        idle_poll_s=settings.idle_poll_ms / 1000,
        waiter=listener.wait,
        connect_options=options,
    )
    launches = SubscriptionRunner(
        settings.database_url,
        build_event_store(pool),
        LaunchedPoolsProjection(),
        poll_interval_s=settings.dispatch_poll_ms / 1000,
        idle_poll_s=settings.idle_poll_ms / 1000,
        waiter=listener.waiter(),
        connect_options=options,
    )
    # Fires wake the dispatcher's and the API's readers at once.
    evaluator = TriggerEvaluator(
        pool,
        build_event_store(pool, CommitNudger(wake_ups)),
        chain.quotes,
        max_legs=execution_policy(settings).max_route_legs,
        interval_s=settings.trigger_poll_ms / 1000,
        idle_s=settings.idle_poll_ms / 1000,
        armed=armed.armed,
    )
    watcher = PoolWatcher(
        pool,
        build_event_store(pool, CommitNudger(wake_ups)),
        chain.launches,
        interval_s=settings.pool_watch_poll_ms / 1000,
        idle_s=settings.idle_poll_ms / 1000,
    )
    matcher = SniperMatcher(build_event_store(pool, CommitNudger(wake_ups)))
    snipers = SubscriptionRunner(
        settings.database_url,
        build_event_store(pool),
        matcher,
        poll_interval_s=settings.dispatch_poll_ms / 1000,
        idle_poll_s=settings.idle_poll_ms / 1000,
        waiter=listener.waiter(),
        connect_options=options,
    )
    buyer = SniperBuyer(
        pool,
        build_event_store(pool, CommitNudger(wake_ups)),
        chain.quotes,
        chain.launches,
        interval_s=settings.trigger_poll_ms / 1000,
        idle_s=settings.idle_poll_ms / 1000,
        buying=matcher.buying,
    )
    exits = ExitWatcher(
        pool,
        build_event_store(pool, CommitNudger(wake_ups)),
        chain.quotes,
        interval_s=settings.trigger_poll_ms / 1000,
        idle_s=settings.idle_poll_ms / 1000,
        holding=matcher.holding,
    )
    # `up` says the evaluator is ready once its projection holds its lock.
    announcing = asyncio.create_task(announce_when(runner.active, settings.data_dir))
    try:
        await asyncio.gather(
            listener.run(stop),
            runner.run_until_stopped(stop),
            evaluator.run(stop, runner.active),
            launches.run_until_stopped(stop),
            watcher.run(stop, launches.active),
            snipers.run_until_stopped(stop),
            buyer.run(stop, snipers.active),
            exits.run(stop, snipers.active),
        )
    finally:
        announcing.cancel()
        await chain.close()
        await wake_ups.aclose()
        await pool.close()
