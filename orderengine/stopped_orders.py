"""`orderengine stopped`: the orders the dispatcher stopped following, and why (an
event of theirs this engine cannot decode). Exit status 1 when there is any."""

from __future__ import annotations

import asyncio

from psycopg import AsyncConnection

from db import inflight
from db.pool import session_options
from orderengine.settings import EngineSettings


def run_stopped(settings: EngineSettings) -> int:
    async def read() -> list[inflight.Stopped]:
        options = session_options(
            settings.db_statement_timeout_ms, settings.db_idle_in_transaction_timeout_ms
        )
        async with await AsyncConnection.connect(
            settings.database_url, autocommit=True, options=options
        ) as conn:
            return await inflight.stopped(conn)

    rows = asyncio.run(read())
    if not rows:
        print("no stopped orders")
        return 0
    for row in rows:
        # Attempt 0: stopped before the dispatcher knew of any step of it.
        where = f"waiting for {row.step} (attempt {row.attempt})" if row.attempt else "unstarted"
        print(f"{row.order_id} stopped {row.stopped_at:%Y-%m-%d %H:%M:%S%z} {where}: {row.reason}")
    return 1
