"""The promises checked after every fault and every model step: each order reaches a
final status, none lands twice on the chain, no command is written twice, and the read
model equals a full replay of the log."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterable

import httpx
import psycopg

from simulator.core import MAX_SIGNATURES
from tests.support.engine import FINAL_EVENTS, Engine
from tests.support.servers import PROJECT_ROOT

_FINAL_STREAMS = "SELECT stream_id FROM events WHERE event_type = ANY(%s)"
# Oldest attempt first; every final event, so an order expired or cancelled after
# signing is judged as final too.
_SIGNATURES = (
    "SELECT stream_id, event_type, data->>'signature' FROM events"
    " WHERE event_type IN ('TransactionSigned', 'OrderConfirmed', 'OrderFailed',"
    " 'OrderExpired', 'OrderCancelled')"
    " ORDER BY stream_id, stream_version"
)
# A command id appended by two transactions was executed twice.
_REPEATED_COMMANDS = (
    "SELECT metadata->>'commandId' FROM events WHERE metadata ? 'commandId'"
    " GROUP BY 1 HAVING count(DISTINCT tx_id) > 1"
)
# One submission and one final outcome per order, whatever was retried.
_REPEATED_ONCE_ONLY_EVENTS = (
    "SELECT stream_id || ' ' || event_type FROM events"
    " WHERE event_type IN ('OrderSubmitted', 'OrderConfirmed', 'OrderFailed')"
    " GROUP BY stream_id, event_type HAVING count(*) > 1"
)


def stream_of(order_id: str) -> str:
    return f"order-{order_id}"


def unfinished(database_url: str, order_ids: Iterable[str]) -> set[str]:
    """The orders among `order_ids` without a final event yet."""
    with psycopg.connect(database_url) as conn:
        final = {row[0] for row in conn.execute(_FINAL_STREAMS, (list(FINAL_EVENTS),))}
    return {order_id for order_id in order_ids if stream_of(order_id) not in final}


async def wait_until_final(database_url: str, order_ids: Iterable[str], seconds: float) -> set[str]:
    """Wait until every order is final or `seconds` pass; the ones still open."""
    waiting = set(order_ids)
    deadline = time.monotonic() + seconds
    while waiting and time.monotonic() < deadline:
        waiting = await asyncio.to_thread(unfinished, database_url, waiting)
        if waiting:
            await asyncio.sleep(0.05)
    return waiting


def repeated_commands(database_url: str) -> list[str]:
    """Command ids or once-only events found more than once in the log."""
    with psycopg.connect(database_url) as conn:
        commands = [row[0] for row in conn.execute(_REPEATED_COMMANDS)]
        events = [row[0] for row in conn.execute(_REPEATED_ONCE_ONLY_EVENTS)]
    return commands + events


def double_executions(
    database_url: str, simulator_url: str, order_ids: Iterable[str] | None = None
) -> list[str]:
    """Orders (all, or `order_ids`) whose swap executed, or may still execute, more than
    once or against their outcome, asking the simulator at `simulator_url` (over HTTP,
    as the engine asks it) what became of every attempt's signature;
    `judge_signatures` says what is wrong."""
    signed: dict[str, list[str]] = {}
    outcome: dict[str, str | None] = {}  # final order -> the signature it confirmed
    only = None if order_ids is None else {stream_of(order_id) for order_id in order_ids}
    with psycopg.connect(database_url) as conn:
        for stream_id, event_type, signature in conn.execute(_SIGNATURES):
            if only is not None and stream_id not in only:
                continue
            if event_type == "TransactionSigned":
                signed.setdefault(stream_id, []).append(signature)
            else:
                outcome[stream_id] = signature if event_type == "OrderConfirmed" else None
    everything = [s for signatures in signed.values() for s in signatures]
    return judge_signatures(signed, outcome, _chain_view(simulator_url, everything))


def judge_signatures(
    signed: dict[str, list[str]], outcome: dict[str, str | None], fates: dict[str, str]
) -> list[str]:
    """One line per order whose signatures (`signed`, oldest attempt first) broke
    never-twice, given each signature's fate on the chain (`executed`, `waiting`: may
    still land, anything else: never will) and each final order's confirmed signature
    (`outcome`; None: final without one): landed more than once; final with an outcome
    that is not what landed (confirmed with another signature, failed with one that
    landed); final while any of its signatures, the last attempt's or an earlier one's,
    may still land; or a later attempt signed while an earlier signature landed or may
    still land. An order still under way may have landed unconfirmed."""
    wrong = []
    for stream_id, signatures in signed.items():
        on_chain = [s for s in signatures if fates.get(s) == "executed"]
        waiting = [s for s in signatures if fates.get(s) == "waiting"]
        earlier = set(signatures[:-1])
        final = stream_id in outcome
        expected = [s for s in [outcome.get(stream_id)] if s]
        if (
            len(on_chain) > 1
            or (final and (on_chain != expected or waiting))
            or earlier & {*on_chain, *waiting}
        ):
            wrong.append(
                f"{stream_id}: landed {on_chain}, may still land {waiting},"
                f" final with {outcome.get(stream_id)}"
            )
    return wrong


def _chain_view(simulator_url: str, signatures: list[str]) -> dict[str, str]:
    """Each signature's fate: unknown, waiting (may still land), executed, failed or
    expired."""
    fates: dict[str, str] = {}
    with httpx.Client(base_url=simulator_url, timeout=10) as http:
        for start in range(0, len(signatures), MAX_SIGNATURES):
            chunk = signatures[start : start + MAX_SIGNATURES]
            # Solana shows a signature that may still land as null, like one that never
            # will: the simulator's own test hook tells them apart.
            method = "simulator_signatureFates"
            call = {"jsonrpc": "2.0", "id": 1, "method": method, "params": [chunk]}
            answer = http.post("/", json=call)
            answer.raise_for_status()
            fates.update(zip(chunk, answer.json()["result"], strict=True))
    return fates


async def replay_differences(engine: Engine) -> str:
    """`orderengine replay --verify` against the engine's database: "" when the live
    read model equals the full replay, else the tool's output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "orderengine",
        "replay",
        "--verify",
        env=engine.environment(),
        cwd=PROJECT_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    text = output.decode()
    return "" if await process.wait() == 0 and "verify: no difference" in text else text
