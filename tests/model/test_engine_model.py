"""The whole engine against a model of what clients were promised: random interleavings
of submissions (with fresh, repeated and misused idempotency keys), stream connections
and reconnections, and worker restarts, with the promises checked after every step.

One engine (real processes) serves every example, so the model tracks what it accepted
across examples too: the log must hold exactly one order per accepted submission.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

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
from tests.support.engine import Engine, running_engine
from tests.support.engine_checks import double_executions, repeated_commands, unfinished
from tests.support.fault_rig import FAST
from tests.support.order_load import ORDER_BODIES
from tests.support.servers import free_port
from tests.support.simulator_thread import SimulatorThread, simulator_thread

pytestmark = pytest.mark.slow
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


SHARED: list[Shared] = []


@pytest.fixture(scope="module")
def shared(postgres_admin: str, redis_server: str) -> Iterator[Shared]:
    with (
        simulator_thread(SimulatorConfig(seed=17)) as simulator,
        running_engine(
            postgres_admin, redis_server, simulator.url, workers=2, settings=FAST
        ) as engine,
        httpx.Client(timeout=10) as http,
    ):
        port = free_port()
        engine.start("api", "api", "--port", str(port))
        api = f"127.0.0.1:{port}"
        _wait_ready(http, api)
        yield Shared(engine, simulator, api, http)


class EngineModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.world = SHARED[0]
        self.keys: dict[str, tuple[int, str]] = {}  # key -> (body number, order id)
        self.orders: list[str] = []
        self.streams: dict[str, list[int]] = {}  # one reconnecting client per order

    def _submit(self, body: int, key: str | None) -> httpx.Response:
        headers = {"Idempotency-Key": key} if key else {}
        url = f"http://{self.world.api}/api/orders/execute"
        return self.world.http.post(url, json=ORDER_BODIES[body], headers=headers)

    @rule(body=st.integers(0, len(ORDER_BODIES) - 1), keyed=st.booleans())
    def submit(self, body: int, keyed: bool) -> None:
        key = uuid.uuid4().hex if keyed else None
        reply = self._submit(body, key)
        assert reply.status_code == 202, reply.text
        order_id = reply.json()["orderId"]
        assert order_id not in self.world.accepted
        self.orders.append(order_id)
        self.world.accepted.add(order_id)
        if key:
            self.keys[key] = (body, order_id)

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
        reply = self._submit((body + 1) % len(ORDER_BODIES), key)
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
        with connect(url, open_timeout=5, close_timeout=1) as socket:
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
            ).fetchone()
        assert row is not None
        assert row[0] == len(self.world.accepted)

    @invariant()
    def nothing_twice(self) -> None:
        assert not repeated_commands(self.world.engine.database_url)
        assert not double_executions(self.world.engine.database_url, self.world.simulator.url)

    def teardown(self) -> None:
        deadline = time.monotonic() + 30
        waiting = set(self.orders)
        while waiting and time.monotonic() < deadline:
            waiting = unfinished(self.world.engine.database_url, waiting)
            if waiting:
                time.sleep(0.02)  # the next look at the log
        assert not waiting, f"orders never final: {sorted(waiting)}"


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
    print(
        f"\nmodel: {EXAMPLES} examples, {len(shared.accepted)} orders,"
        f" {WORKER_RESTARTS - shared.restarts_left} worker restarts,"
        f" {time.monotonic() - started:.0f} s"
    )


def _wait_ready(http: httpx.Client, api: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if http.get(f"http://{api}/ready").status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the API did not become ready"
        time.sleep(0.05)
