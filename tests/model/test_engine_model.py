"""The whole engine against a model of what clients were promised: random interleavings
of market, limit and sniper submissions (with fresh, repeated and misused idempotency
keys), launches of new pools, slots passing, cancels, expiries, stream connections and
reconnections, and worker restarts, with the promises checked after every step.

Snipers with exit terms hold what they bought and sell it through one child market
order per exit arm; the model checks that every exit has exactly its one child, that a
held position is never final until its exit ends, and that every order and every child
ends.

One engine (real processes) serves every example, so the model tracks what it accepted
across examples too: the log must hold exactly one order per accepted submission.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from simulator.config import SimulatorConfig
from tests.support.engine import FINAL_EVENTS, Engine, running_engine
from tests.support.engine_checks import (
    double_executions,
    repeated_commands,
    stream_of,
)
from tests.support.fault_rig import FAST
from tests.support.order_load import ORDER_BODIES
from tests.support.servers import free_port, wait_ready
from tests.support.simulator_thread import SimulatorThread, simulator_thread

pytestmark = pytest.mark.slow
_FINAL_EVENTS_PER_ORDER = (
    "SELECT stream_id, array_agg(event_type ORDER BY stream_version) FROM events"
    " WHERE event_type = ANY(%s) GROUP BY stream_id"
)
# A sniper with exits: its buy's OrderConfirmed opens a position; the outcome follows.
_OUTCOME_EVENTS = (*FINAL_EVENTS, "PositionOpened", "PositionClosed")
_EXITS = (
    "SELECT e.stream_id, e.data->>'exitOrderId', c.stream_id, c.data->>'parentOrderId'"
    " FROM events e LEFT JOIN events c ON c.stream_id = 'order-' || (e.data->>'exitOrderId')"
    " AND c.event_type = 'OrderSubmitted' WHERE e.event_type = 'ExitTriggered'"
)
_EXIT_COUNTS = (
    "SELECT event_type, count(*) FROM events WHERE event_type = ANY(ARRAY['PoolMatched',"
    " 'PositionOpened', 'ExitTriggered', 'PositionClosed', 'ExitRearmed']) GROUP BY event_type"
)
# Children whose exit is not in the log (one statement: the parent's ExitTriggered
# commits before its child, so a child seen has its exit seen).
_ORPHANS = (
    "SELECT c.stream_id FROM events c WHERE c.event_type = 'OrderSubmitted'"
    " AND c.data->>'parentOrderId' IS NOT NULL AND NOT EXISTS (SELECT 1 FROM events e"
    " WHERE e.event_type = 'ExitTriggered' AND c.stream_id = 'order-' || (e.data->>'exitOrderId'))"
)
EXAMPLES = 200
STEPS = 8
# Worker restarts cost a process start (~1 s of CPU); a budget keeps the run short.
WORKER_RESTARTS = 6


@dataclass
class Shared:
    engine: Engine
    simulator: SimulatorThread
    api: str
    http: httpx.Client
    accepted: set[str] = field(default_factory=set)  # every order id, every example
    restarts_left: int = WORKER_RESTARTS

    def rpc(self, method: str, params: dict[str, Any]) -> Any:
        """A control call to the simulator (launches, slots)."""
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": [params]}
        reply = self.http.post(self.simulator.url, json=body)
        assert reply.status_code == 200, reply.text
        answer = reply.json()
        assert "error" not in answer, answer
        return answer["result"]


SHARED: list[Shared] = []


@pytest.fixture(scope="module")
def shared(postgres_admin: str, redis_server: str) -> Iterator[Shared]:
    with (
        simulator_thread(SimulatorConfig(seed=17)) as simulator,
        running_engine(
            postgres_admin, redis_server, simulator.url, workers=2, settings=FAST
        ) as engine,
    ):
        http = httpx.Client(timeout=10, headers=engine.auth)
        port = free_port()
        engine.start("evaluator")
        engine.start("api", "api", "--port", str(port))
        api = f"127.0.0.1:{port}"
        wait_ready(f"http://{api}", 90)
        try:
            yield Shared(engine, simulator, api, http)
        finally:
            http.close()


class EngineModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.world = SHARED[0]
        self.keys: dict[str, tuple[dict[str, Any], str]] = {}  # key -> (body, order id)
        self.orders: list[str] = []
        self.streams: dict[str, list[int]] = {}  # one reconnecting client per order
        # What each cancel was answered: 200 promises `cancelled`, 409 an order that
        # was already final otherwise; 202 may end either way.
        self.cancels: dict[str, set[int]] = {}

    def _submit(self, body: dict[str, Any], key: str | None) -> httpx.Response:
        headers = {"Idempotency-Key": key} if key else {}
        url = f"http://{self.world.api}/api/orders/execute"
        return self.world.http.post(url, json=body, headers=headers)

    def _accept(self, body: dict[str, Any], key: str | None) -> None:
        reply = self._submit(body, key)
        assert reply.status_code == 202, reply.text
        order_id = reply.json()["orderId"]
        assert order_id not in self.world.accepted
        self.orders.append(order_id)
        self.world.accepted.add(order_id)
        if key:
            self.keys[key] = (body, order_id)

    @rule(body=st.integers(0, len(ORDER_BODIES) - 1), keyed=st.booleans())
    def submit(self, body: int, keyed: bool) -> None:
        self._accept(ORDER_BODIES[body], uuid.uuid4().hex if keyed else None)

    @rule(
        body=st.integers(0, len(ORDER_BODIES) - 1),
        reachable=st.booleans(),
        life_s=st.floats(0.5, 2.0),
        keyed=st.booleans(),
    )
    def submit_limit(self, body: int, reachable: bool, life_s: float, keyed: bool) -> None:
        """A limit the market meets at once (it fires on the next slot), or one it never
        meets, expiring `life_s` from now."""
        expires = datetime.now(UTC) + timedelta(seconds=life_s)
        limit = {
            **ORDER_BODIES[body],
            "type": "limit",
            "minAmountOut": "0.000001" if reachable else "1000000000",
            "expiresAt": expires.isoformat(),
        }
        self._accept(limit, uuid.uuid4().hex if keyed else None)

    @rule(
        exit_terms=st.sampled_from(
            [
                None,
                {"maxHoldSlots": 3},
                {"takeProfitPct": 1, "maxHoldSlots": 30},
                {"stopLossPct": 1, "maxHoldSlots": 30},
            ]
        ),
        life_s=st.floats(1.0, 3.0),
        keyed=st.booleans(),
    )
    def submit_sniper(self, exit_terms: dict[str, int] | None, life_s: float, keyed: bool) -> None:
        """A sniper that buys the next launch (or expires `life_s` from now), with exit
        terms or without."""
        body: dict[str, Any] = {
            "type": "sniper",
            "tokenIn": "SOL",
            "amountIn": "0.01",
            "expiresAt": (datetime.now(UTC) + timedelta(seconds=life_s)).isoformat(),
        }
        if exit_terms is not None:
            body["exit"] = exit_terms
        self._accept(body, uuid.uuid4().hex if keyed else None)

    @rule()
    def launch(self) -> None:
        """A new pool, open at once: every armed sniper matches it."""
        self.world.rpc("simulator_launchPool", {"crowd": False, "openInSlots": 0})

    @rule(slots=st.integers(1, 5))
    def slots_pass(self, slots: int) -> None:
        self.world.rpc("simulator_advanceSlots", {"slots": slots})

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(self.orders))
        url = f"http://{self.world.api}/api/orders/{order_id}/cancel"
        reply = self.world.http.post(url)
        assert reply.status_code in (200, 202, 409), reply.text
        self.cancels.setdefault(order_id, set()).add(reply.status_code)
        if reply.status_code == 200:
            assert reply.json()["status"] == "cancelled", reply.text

    @precondition(lambda self: self.keys)
    @rule(data=st.data())
    def repeat_key(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.keys)))
        body, order_id = self.keys[key]
        reply = self._submit(body, key)
        assert reply.status_code == 200, reply.text
        assert reply.json()["orderId"] == order_id

    @precondition(lambda self: self.keys)
    @rule(data=st.data())
    def reuse_key_with_another_body(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.keys)))
        body, _ = self.keys[key]
        other = {**body, "amountIn": "2" if body["amountIn"] != "2" else "3"}
        reply = self._submit(other, key)
        assert reply.status_code == 422, reply.text

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), events=st.integers(1, 6))
    def stream(self, data: st.DataObject, events: int) -> None:
        """Connect (or reconnect after the last version seen) and read a few events."""
        order_id = data.draw(st.sampled_from(self.orders))
        seen = self.streams.setdefault(order_id, [])
        seen += self._read(order_id, seen[-1] if seen else 0, events)

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def stream_from_a_random_version(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(self.orders))
        after = data.draw(st.integers(0, 8))
        versions = self._read(order_id, after, 20)
        assert versions == list(range(after + 1, after + 1 + len(versions)))

    @rule()
    def restart_a_worker(self) -> None:
        """SIGKILL worker-0 and start it again; a no-op once the run's budget is spent
        (not a precondition: hypothesis needs the same draws when it replays)."""
        if self.world.restarts_left == 0:
            return
        self.world.restarts_left -= 1
        self.world.engine.kill("worker-0")
        self.world.engine.start("worker", "worker-0")

    def _read(self, order_id: str, after: int, most: int) -> list[int]:
        url = f"ws://{self.world.api}/api/orders/{order_id}/stream?afterVersion={after}"
        versions: list[int] = []
        auth = self.world.engine.auth
        with connect(url, open_timeout=5, close_timeout=1, additional_headers=auth) as socket:
            try:
                while len(versions) < most:
                    message = json.loads(socket.recv(timeout=5))
                    if message["type"] == "event":
                        versions.append(message["version"])
            except (ConnectionClosed, TimeoutError):
                pass  # the order is final (closed 1000), or still waiting for its next step
        return versions

    @invariant()
    def each_stream_has_every_version_once_in_order(self) -> None:
        for order_id, seen in self.streams.items():
            assert seen == list(range(1, len(seen) + 1)), (order_id, seen)

    @invariant()
    def one_order_per_accepted_submission(self) -> None:
        with psycopg.connect(self.world.engine.database_url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM events WHERE event_type = 'OrderSubmitted'"
                " AND data->>'parentOrderId' IS NULL"  # an exit's child is the engine's
            ).fetchone()
        assert row is not None
        assert row[0] == len(self.world.accepted)

    @invariant()
    def one_outcome_per_order(self) -> None:
        """At most one final event per order; a cancelled one never confirmed; a cancel
        answered 200 ended it cancelled, one answered 409 found it final otherwise."""
        with psycopg.connect(self.world.engine.database_url) as conn:
            rows = conn.execute(_FINAL_EVENTS_PER_ORDER, (list(_OUTCOME_EVENTS),)).fetchall()
        finals = {stream: outcome(kinds) for stream, kinds in rows}
        for stream, kinds in finals.items():
            assert len(kinds) <= 1, (stream, kinds)
        for order_id, answers in self.cancels.items():
            kinds = finals.get(stream_of(order_id), [])
            if 200 in answers:
                assert kinds == ["OrderCancelled"], (order_id, answers, kinds)
            if 409 in answers:
                assert kinds, (order_id, answers)
                assert kinds != ["OrderCancelled"], (order_id, answers)

    @invariant()
    def one_child_per_exit(self) -> None:
        """Every exit has its one child (the parent's, by id) once the watcher made it,
        and no child exists without its exit."""
        with psycopg.connect(self.world.engine.database_url) as conn:
            exits = conn.execute(_EXITS).fetchall()
            orphans = conn.execute(_ORPHANS).fetchall()
        assert not orphans, f"children without their exit: {orphans}"
        ids = [child_id for _, child_id, _, _ in exits]
        assert len(ids) == len(set(ids)), "each exit (and so each child) once"
        for parent, child_id, child_stream, child_parent in exits:
            assert child_id not in self.world.accepted
            if child_stream is not None:
                assert child_stream == stream_of(child_id), (parent, child_id)
                assert stream_of(child_parent) == parent, (parent, child_parent)

    @invariant()
    def nothing_twice(self) -> None:
        assert not repeated_commands(self.world.engine.database_url)
        # This example's orders after each step; every example's at the end of the run
        # (checking all of them after every step made the run quadratic).
        world = self.world
        assert not double_executions(world.engine.database_url, world.simulator.url, self.orders)


# Limit orders wait for their expiry: longer than the suite's 300 s default on a slow machine.
@pytest.mark.timeout(900)
def test_the_engine_keeps_its_promises_in_any_interleaving(shared: Shared) -> None:
    SHARED[:] = [shared]
    started = time.monotonic()
    run_state_machine_as_test(
        EngineModel,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        ),
    )
    # Every order of every example ends (checked once, at the end: a limit order waits
    # for its expiry, and examples need not wait for each other's).
    # Held positions need slots to pass for their maximum hold (the simulator's clock
    # moves only when asked, or when a transaction is followed).
    deadline = time.monotonic() + 90
    waiting = set(shared.accepted)
    while waiting and time.monotonic() < deadline:
        waiting = not_ended(shared.engine.database_url, waiting)
        if waiting:
            shared.rpc("simulator_advanceSlots", {"slots": 1})
            time.sleep(0.05)
    assert not waiting, f"orders never final: {sorted(waiting)[:10]}"
    assert not double_executions(shared.engine.database_url, shared.simulator.url)
    with psycopg.connect(shared.engine.database_url) as conn:
        counts: dict[str, int] = dict(conn.execute(_EXIT_COUNTS).fetchall())
    # Snipers met launches in some examples: positions were held and sold.
    assert counts.get("PositionOpened", 0) > 0, counts
    assert counts.get("PositionClosed", 0) > 0, counts
    print(
        f"\nmodel: {counts.get('PoolMatched', 0)} snipers matched,"
        f" {counts.get('PositionOpened', 0)} positions held,"
        f" {counts.get('ExitTriggered', 0)} exits, {counts.get('PositionClosed', 0)} sold,"
        f" {counts.get('ExitRearmed', 0)} re-armed"
    )
    print(
        f"\nmodel: {EXAMPLES} examples, {len(shared.accepted)} orders,"
        f" {WORKER_RESTARTS - shared.restarts_left} worker restarts,"
        f" {time.monotonic() - started:.0f} s"
    )


def outcome(kinds: list[str]) -> list[str]:
    """An order's outcome events: a sniper's buy that opened a position is no outcome."""
    if kinds[:2] == ["OrderConfirmed", "PositionOpened"]:
        return kinds[2:]
    return kinds


def not_ended(database_url: str, order_ids: set[str]) -> set[str]:
    """The orders (and their exits' children) not final yet; a held position is not."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(_FINAL_EVENTS_PER_ORDER, (list(_OUTCOME_EVENTS),)).fetchall()
        exits = conn.execute(_EXITS).fetchall()
    ended = {stream for stream, kinds in rows if outcome(kinds)}
    everything = {stream_of(order_id): order_id for order_id in order_ids}
    everything.update({stream_of(child): child for _, child, _, _ in exits})
    return {order_id for stream, order_id in everything.items() if stream not in ended}
