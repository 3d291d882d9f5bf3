"""Connection pools with the session limits every app connection must carry."""

from __future__ import annotations

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool


def session_options(statement_timeout_ms: int, idle_in_transaction_timeout_ms: int) -> str:
    """Server settings for every session: no statement or idle transaction may hold
    back the global read horizon (DESIGN.md: "No long transactions anywhere")."""
    return (
        f"-c statement_timeout={statement_timeout_ms}"
        f" -c idle_in_transaction_session_timeout={idle_in_transaction_timeout_ms}"
        f" -c lock_timeout={statement_timeout_ms}"
        " -c TimeZone=UTC -c application_name=orderengine"
    )


def create_pool(
    database_url: str,
    *,
    min_size: int,
    max_size: int,
    acquire_timeout_s: float,
    statement_timeout_ms: int = 5_000,
    idle_in_transaction_timeout_ms: int = 5_000,
    max_idle_s: float = 600.0,
) -> AsyncConnectionPool[AsyncConnection]:
    """A closed pool of autocommit connections; `await pool.open()` before use.

    Autocommit because every store call is one statement (the append is one function
    call), so each is its own short transaction with no extra round trips. Connections
    above `min_size` unused for `max_idle_s` are closed: a burst's connections do not
    stay open (and a backend each) for an idle engine.
    """
    return AsyncConnectionPool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        timeout=acquire_timeout_s,
        max_idle=max_idle_s,
        open=False,
        kwargs={
            "autocommit": True,
            "connect_timeout": max(1, int(acquire_timeout_s)),
            "options": session_options(statement_timeout_ms, idle_in_transaction_timeout_ms),
        },
    )
