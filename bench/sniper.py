"""Sniper benchmark (issue 15, part 3): N armed snipers with varied filters, L launches
on the simulator at 400 ms slots with the crowd on, through the real dispatcher, worker
and evaluator processes. It prints the detection latency (the creation's answer to the
first `PoolMatched` of the pool committed, in ms and in 400 ms slots), the landing slot
of each buy less its pool's open slot (p50/p99, and the share within the open slot or
the next), the share of buys that failed on slippage, and the buys fired before the
open plus delay (must be 0) and the orders confirmed twice (must be 0).

    .venv/bin/python -m bench.sniper --snipers 1000 --launches 20

Not measured yet: how many buys beat the crowd (the simulator does not expose the
order within a block to the engine).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
from psycopg import AsyncConnection
from solders.keypair import Keypair

from bench.command import run_benchmark
from bench.measures import Distribution
from commands.submit_order import submit_order
from db.event_store import PostgresEventStore
from db.pool import create_pool
from domain.commands import SubmitOrder
from domain.sniper_terms import SniperTerms
from tests.support.engine import INSTANT_VENUE, running_engine
from tests.support.servers import postgres_admin_url, redis_url
from tests.support.simulator_process import simulator_process

SLOT_MS = 400
CROWD_FEE_P75 = 10_000  # the simulator's "normal" regime: the crowd's fees centre here


class SniperResult(msgspec.Struct, frozen=True, kw_only=True):
    snipers: int
    launches: int
    priority_fee: int
    matched: int
    confirmed: int
    detection: Distribution  # launch answered -> first PoolMatched of the pool, ms
    detection_slots_p99: float
    landing_slots: Distribution  # confirmed slot - open slot (the `_ms` fields hold slots)
    within_one_slot: float  # share of confirmed buys landing in the open slot or the next
    slippage_failed: float  # share of signed buys that failed on slippage
    fired_before_open: int
    confirmed_twice: int
    # Where the slots from the open to the landing go, over the confirmed buys:
    fire_slots: Distribution  # first TriggerFired's slot - open slot (`_ms` hold slots)
    fire_to_send: Distribution  # first TriggerFired -> first TransactionSent, ms
    attempts: float  # signed transactions per confirmed buy


def run(args: argparse.Namespace) -> SniperResult:
    return asyncio.run(_run(args.snipers, args.launches, args.seed, args.priority_fee))


def _terms(rng: random.Random, priority_fee: int, creators: list[str]) -> SniperTerms:
    """Filters as bots set them: each present or not, at a drawn threshold; two in five
    follow one launcher's wallet (`target.creator`), as copy-snipers do."""
    return SniperTerms(
        target_creator=rng.choice(creators) if rng.random() < 0.4 else None,
        min_liquidity=rng.choice([None, 20 * 10**9, 50 * 10**9]),
        require_mint_renounced=rng.random() < 0.5,
        require_not_freezable=True,
        min_lp_burned_pct=rng.choice([None, 50, 90]),
        max_top_holder_pct=rng.choice([None, 40, 60]),
        priority_fee=priority_fee,
    )


def _launch(rng: random.Random, creator: str) -> dict[str, Any]:
    """A launch as they come: many fail a careful bot's filters (thin, mint kept,
    freezable, LP kept, a whale holding the supply), so each sniper's first match is
    spread over the launches instead of every sniper taking the first pool."""
    return {
        "openInSlots": rng.randint(1, 4),
        "creator": creator,
        "quoteReserve": str(rng.choice([10, 30, 80, 150])),
        "mintRenounced": rng.random() < 0.6,
        "freezable": rng.random() < 0.15,
        "lpBurnedPct": rng.choice([0, 60, 95, 100]),
        "topHolderPct": rng.choice([12, 35, 55, 75]),
    }


async def _run(snipers: int, launches: int, seed: int, priority_fee: int) -> SniperResult:
    rng = random.Random(seed)
    creators = [str(Keypair.from_seed(rng.randbytes(32)).pubkey()) for _ in range(launches)]
    scratch = Path(tempfile.mkdtemp(prefix="oe-bench-sniper-"))
    with (
        simulator_process(scratch, seed, time_scale=1.0, journaled=False) as sim,
        running_engine(
            postgres_admin_url(), redis_url(), sim.url, settings=INSTANT_VENUE
        ) as engine,
    ):
        engine.start("evaluator")
        pool = create_pool(engine.database_url, min_size=1, max_size=4, acquire_timeout_s=10)
        await pool.open(wait=True)
        store = PostgresEventStore(pool)
        expires = datetime.now(UTC) + timedelta(hours=1)
        for _ in range(snipers):
            order = SubmitOrder(
                order_id=str(uuid.uuid4()),
                order_type="sniper",
                token_in="SOL",
                token_out="",
                amount_in=rng.choice([1, 2, 5]) * 10**7,  # 0.01 to 0.05 SOL
                slippage_bps=1_500,
                expires_at=expires,
                sniper=_terms(rng, priority_fee, creators),
            )
            await submit_order(store, order, None)
        await _wait(engine.database_url, "SELECT count(*) FROM armed_snipers", snipers)
        answered: dict[str, tuple[float, int]] = {}  # pool -> (answered at, open slot)
        async with httpx.AsyncClient(base_url=sim.url) as client:
            for creator in creators:
                launch = await _rpc(client, "simulator_launchPool", _launch(rng, creator))
                answered[launch["pool"]] = (time.time(), int(launch["openSlot"]))
                await asyncio.sleep(rng.uniform(1.0, 3.0))
        await _settle(engine.database_url)
        await pool.close()
        rows = await _events(engine.database_url)
    return _result(snipers, launches, priority_fee, answered, rows)


async def _rpc(client: httpx.AsyncClient, method: str, params: dict[str, Any]) -> Any:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": [params]}
    return (await client.post("/", json=body)).json()["result"]


async def _wait(url: str, query: str, count: int) -> None:
    deadline = time.monotonic() + 120
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        while True:
            row = await (await conn.execute(query)).fetchone()
            if row and int(row[0]) >= count:
                return
            assert time.monotonic() < deadline, f"timed out: {query}"
            await asyncio.sleep(0.2)


async def _settle(url: str) -> None:
    """Until no matched sniper is still buying (or 60 s passed)."""
    deadline = time.monotonic() + 60
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = await (
                await conn.execute(
                    "SELECT count(*) FROM armed_snipers WHERE matched_pool IS NOT NULL"
                )
            ).fetchone()
            if row and int(row[0]) == 0:
                return
            await asyncio.sleep(0.5)


async def _events(url: str) -> list[tuple[str, str, dict[str, Any], datetime]]:
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT stream_id, event_type, data, recorded_at FROM events"
            " WHERE event_type IN ('PoolMatched', 'TriggerFired', 'OrderConfirmed',"
            " 'AttemptFailed', 'TransactionSigned', 'TransactionSent') ORDER BY global_position"
        )
        return [(str(s), str(t), dict(d), at) for s, t, d, at in await cursor.fetchall()]


def _result(
    snipers: int,
    launches: int,
    priority_fee: int,
    answered: dict[str, tuple[float, int]],
    rows: list[tuple[str, str, dict[str, Any], datetime]],
) -> SniperResult:
    pool_of: dict[str, str] = {}
    first_match: dict[str, float] = {}
    fired_early = signed = slippage = 0
    confirmed: Counter[str] = Counter()
    landing: list[float] = []
    fired: dict[str, tuple[int, float]] = {}  # order -> (slot, at) of its first fire
    sent: dict[str, float] = {}
    signed_by: Counter[str] = Counter()
    for stream, kind, data, at in rows:
        if kind == "PoolMatched":
            pool_of[stream] = data["pool"]
            first_match.setdefault(data["pool"], at.timestamp())
        elif kind == "TriggerFired" and stream in pool_of and pool_of[stream] in answered:
            fired_early += int(data["slot"] < answered[pool_of[stream]][1])
            fired.setdefault(stream, (int(data["slot"]), at.timestamp()))
        elif kind == "TransactionSigned":
            signed += 1
            signed_by[stream] += 1
        elif kind == "TransactionSent":
            sent.setdefault(stream, at.timestamp())
        elif kind == "AttemptFailed":
            slippage += int(data["code"] in ("6005", "ExceededSlippage", "SlippageExceeded"))
        elif kind == "OrderConfirmed" and stream in pool_of and pool_of[stream] in answered:
            confirmed[stream] += 1
            landing.append(float(data["slot"] - answered[pool_of[stream]][1]))
    detection = [(first_match[p] - answered[p][0]) * 1000 for p in first_match if p in answered]
    bought = [order for order in confirmed if order in fired]
    fire_slots = [float(fired[o][0] - answered[pool_of[o]][1]) for o in bought]
    fire_to_send = [(sent[o] - fired[o][1]) * 1000 for o in bought if o in sent]
    within = sum(1 for slots in landing if slots <= 1) / len(landing) if landing else 0.0
    shape = Distribution.of_ms(detection)
    return SniperResult(
        snipers=snipers,
        launches=launches,
        priority_fee=priority_fee,
        matched=len(pool_of),
        confirmed=len(confirmed),
        detection=shape,
        detection_slots_p99=shape.p99_ms / SLOT_MS,
        landing_slots=Distribution.of_ms(landing),
        within_one_slot=within,
        slippage_failed=slippage / signed if signed else 0.0,
        fired_before_open=fired_early,
        confirmed_twice=sum(1 for count in confirmed.values() if count > 1),
        fire_slots=Distribution.of_ms(fire_slots),
        fire_to_send=Distribution.of_ms(fire_to_send),
        attempts=sum(signed_by[o] for o in confirmed) / len(confirmed) if confirmed else 0.0,
    )


def show(result: SniperResult) -> None:
    landing = result.landing_slots
    print(
        f"sniper: {result.snipers} snipers, {result.launches} launches at 400 ms slots, crowd"
        f" on, priority fee {result.priority_fee}: {result.matched} matched,"
        f" {result.confirmed} confirmed; detection (over the {result.detection.count} pools"
        f" that matched) p50 {result.detection.p50_ms:.0f} ms /"
        f" p99 {result.detection.p99_ms:.0f} ms ({result.detection_slots_p99:.2f} slots);"
        f" landing - open p50 {landing.p50_ms:.0f} / p99 {landing.p99_ms:.0f} slots,"
        f" {100 * result.within_one_slot:.1f} % within one slot of the open;"
        f" {100 * result.slippage_failed:.1f} % of signed buys failed on slippage;"
        f" fired before the open {result.fired_before_open}, confirmed twice"
        f" {result.confirmed_twice}"
    )
    print(
        f"  where the slots go: fired - open p50 {result.fire_slots.p50_ms:.0f} /"
        f" p99 {result.fire_slots.p99_ms:.0f} slots; fired -> sent"
        f" p50 {result.fire_to_send.p50_ms:.0f} / p99 {result.fire_to_send.p99_ms:.0f} ms;"
        f" {result.attempts:.2f} signed transactions per confirmed buy"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--snipers", type=int, default=1000)
    parser.add_argument("--launches", type=int, default=20)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--priority-fee", type=int, default=2 * CROWD_FEE_P75)
    run_benchmark(parser, run, show)


if __name__ == "__main__":
    main()
