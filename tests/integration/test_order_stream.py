"""The order stream over real WebSockets: replay, then live, no gap, no duplicate."""

from __future__ import annotations

import asyncio
import json
import random
import socket as socket_module
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from litestar import Litestar
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from api.app import create_app
from api.live_feed import LiveFeed
from api.read_side import ReadSide, ReadSideTasks
from api.services import ApiServices
from db.event_store import PostgresEventStore
from db.log_head import settled_head
from db.wakeups import WakeUpListener
from domain.events import OrderEvent, OrderSubmitted
from domain.records import GlobalPosition
from domain.streams import order_stream
from projections.launch_queries import LaunchReader
from projections.metric_queries import read_side_figures
from projections.snapshot_queries import SnapshotReader
from tests.support.api_keys import in_memory_admin
from tests.support.order_histories import as_new_events, confirmed_history
from tests.support.read_side_api import ReadSideApi, serving, wait_until


class Received:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.close_code: int | None = None

    @property
    def versions(self) -> list[int]:
        return [m["version"] for m in self.messages if m["type"] == "event"]

    @property
    def kinds(self) -> list[str]:
        return [m["type"] for m in self.messages]


@pytest.fixture(scope="module")
async def api(
    pool: AsyncConnectionPool[AsyncConnection], redis_server: str
) -> AsyncIterator[ReadSideApi]:
    async with serving(pool, redis_server) as api:
        yield api


async def receive_all(socket: ClientConnection, into: Received, stop_after: int = 0) -> None:
    """Collect messages until the server closes (or `stop_after` events arrived)."""
    try:
        async for raw in socket:
            into.messages.append(json.loads(raw))
            if stop_after and len(into.versions) == stop_after:
                return
    except ConnectionClosed:
        pass
    into.close_code = socket.close_code


async def follow(api: ReadSideApi, path: str) -> Received:
    received = Received()
    async with connect(f"ws://{api.base_url}{path}", additional_headers=api.auth) as socket:
        await receive_all(socket, received)
    return received


async def test_every_client_gets_every_version_once_in_order(api: ReadSideApi) -> None:
    rng = random.Random(4)
    histories = [confirmed_history(attempts=rng.randint(1, 3)) for _ in range(6)]
    for history in histories:
        await api.store.append(order_stream(_order_id(history)), 0, as_new_events(history[:1]))
    plans: list[tuple[list[OrderEvent], int, str]] = []
    for n in range(40):
        history = histories[n % len(histories)]
        order_id, after = _order_id(history), rng.randint(0, 3)
        if n % 4 == 0:  # the submit-path socket follows an existing order the same way
            plans.append((history, 0, f"/api/orders/execute?orderId={order_id}"))
        else:
            plans.append((history, after, f"/api/orders/{order_id}/stream?afterVersion={after}"))
    clients = [_late(rng.random() * 0.05, follow(api, path)) for _, _, path in plans]
    writers = [append_rest(api.store, history, rng) for history in histories]
    (*results,) = await asyncio.gather(*clients, *writers)
    for (history, after, _), received in zip(plans, results, strict=False):
        assert isinstance(received, Received)
        assert received.versions == list(range(after + 1, len(history) + 1))
        assert received.kinds.count("live") == 1
        # The last event, not the last message: a client that connects after the final
        # event gets the whole history, then `live`, then the close.
        events = [message for message in received.messages if message["type"] == "event"]
        assert events[-1]["status"] == "confirmed"
        assert received.close_code == 1000


async def test_reconnecting_with_after_version_continues_exactly(api: ReadSideApi) -> None:
    history = confirmed_history(attempts=2)
    order_id = _order_id(history)
    stream_id = order_stream(order_id)
    await api.store.append(stream_id, 0, as_new_events(history[:3]))
    first = Received()
    async with connect(
        f"ws://{api.base_url}/api/orders/{order_id}/stream", additional_headers=api.auth
    ) as socket:
        await receive_all(socket, first, stop_after=2)
    await api.store.append(stream_id, 3, as_new_events(history[3:6]))
    after = first.versions[-1]
    second = asyncio.create_task(follow(api, f"/api/orders/{order_id}/stream?afterVersion={after}"))
    await append_rest(api.store, history[:1] + history[6:], random.Random(1), first_version=6)
    resumed = await second
    assert first.versions + resumed.versions == list(range(1, len(history) + 1))
    assert resumed.close_code == 1000


async def test_a_slow_client_still_gets_everything(
    pool: AsyncConnectionPool[AsyncConnection], redis_server: str
) -> None:
    # A one-event queue overflows at once, so the client is caught up from the store.
    async with serving(pool, redis_server, queue_capacity=1) as api:
        history = confirmed_history(attempts=3)
        stream_id = order_stream(_order_id(history))
        await api.store.append(stream_id, 0, as_new_events(history[:1]))
        received = Received()
        url = f"ws://{api.base_url}/api/orders/{_order_id(history)}/stream"
        async with connect(url, max_queue=1, additional_headers=api.auth) as socket:
            await wait_until(lambda: api.read_side.feed.open_sockets == 1, what="subscribed")
            # One commit of the rest: the tailer offers them in one pass, so the queue
            # overflows whatever the timing (appended one by one, a quick sender could
            # drain each before the next, and the test failed now and then in CI).
            await api.store.append(stream_id, 1, as_new_events(history[1:]))
            await receive_all(socket, received)
        assert received.versions == list(range(1, len(history) + 1))
        assert received.close_code == 1000
        assert api.read_side.feed.catch_ups > 0, "the queue should have overflowed"


@pytest.mark.parametrize(
    ("path", "code"),
    [
        (f"/api/orders/{uuid.uuid4()}/stream", 4404),
        ("/api/orders/not-a-uuid/stream", 4400),
        (f"/api/orders/{uuid.uuid4()}/stream?afterVersion=-1", 4400),
        (f"/api/orders/{uuid.uuid4()}/stream?afterVersion=two", 4400),
        (f"/api/orders/execute?orderId={uuid.uuid4()}", 4404),
        ("/api/orders/execute?orderId=42", 4400),
    ],
)
async def test_bad_streams_close_after_an_error_message(
    api: ReadSideApi, path: str, code: int
) -> None:
    received = await follow(api, path)
    assert received.kinds == ["error"]
    assert received.close_code == code


async def test_the_submit_socket_accepts_then_streams_to_the_end(api: ReadSideApi) -> None:
    received = Received()
    async with connect(
        f"ws://{api.base_url}/api/orders/execute", additional_headers=api.auth
    ) as socket:
        body = {
            "type": "market",
            "tokenIn": "SOL",
            "tokenOut": "USDC",
            "amountIn": "1.5",
            "idempotencyKey": f"ws-{uuid.uuid4()}",
        }
        await socket.send(json.dumps(body))
        accepted = json.loads(await socket.recv())
        assert accepted["type"] == "accepted"
        order_id = accepted["orderId"]
        lifecycle = confirmed_history(order_id)
        await api.store.append(order_stream(order_id), 1, as_new_events(lifecycle[1:]))
        await receive_all(socket, received)
    assert received.versions == list(range(1, len(lifecycle) + 1))
    # The rest may land before the server reads the history: then every event is replayed
    # and `live` comes last, with the socket closing right after it.
    events = [m for m in received.messages if m["type"] == "event"]
    assert events[0]["status"] == "pending"
    assert events[-1]["status"] == "confirmed"
    assert received.close_code == 1000


@pytest.mark.parametrize(
    "body",
    [
        '{"type": "market", "tokenIn": "SOL", "tokenOut": "DOGE", "amountIn": "1"}',
        '{"type": "market", "tokenIn": "SOL"',
        '{"type": "limit", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1", "surprise": 1}',
    ],
)
async def test_a_bad_submit_message_is_an_error_and_4400(api: ReadSideApi, body: str) -> None:
    received = Received()
    async with connect(
        f"ws://{api.base_url}/api/orders/execute", additional_headers=api.auth
    ) as socket:
        await socket.send(body)
        await receive_all(socket, received)
    assert received.kinds == ["error"]
    assert received.messages[0]["field"]
    assert received.close_code == 4400


async def _late(delay: float, follower: Any) -> Received:
    await asyncio.sleep(delay)  # clients arrive at random moments during the appends
    result: Received = await follower
    return result


async def append_rest(
    store: PostgresEventStore,
    history: list[OrderEvent],
    rng: random.Random,
    first_version: int = 1,
) -> None:
    """Append `history[1:]` one event per commit, the first at `first_version`."""
    stream_id = order_stream(_order_id(history))
    for offset, event in enumerate(history[1:]):
        await store.append(stream_id, first_version + offset, as_new_events([event]))
        await asyncio.sleep(rng.random() * 0.01)  # pacing the writer, not waiting for work


def _order_id(history: list[OrderEvent]) -> str:
    submitted = history[0]
    assert isinstance(submitted, OrderSubmitted)
    return submitted.order_id


async def test_a_socket_before_the_tailer_started_is_told_to_retry_never_left_open(
    pool: AsyncConnectionPool[AsyncConnection], redis_server: str
) -> None:
    """The tailer reads where the log ends only after start-up (here: until the test
    lets it). A socket accepted before then must not read its history and wait on a
    tailer that will start past the order's final event: it is told to try again,
    and once the tailer has its position the stream runs to the end."""
    store = PostgresEventStore(pool)
    let_the_tailer_start = asyncio.Event()
    feed, tasks = _slow_feed(pool, redis_server, let_the_tailer_start, start_wait_s=0)
    read_side = ReadSide(
        SnapshotReader(pool), feed, lambda: read_side_figures(pool), LaunchReader(pool)
    )
    keys, auth = in_memory_admin()
    services = ApiServices(
        store=store,
        keys=keys,
        probes={"live_feed": tasks.probe},  # postgres and redis unprobed here
        on_startup=[tasks.start],
        on_shutdown=[tasks.stop],
        read_side=read_side,
    )
    history = confirmed_history(attempts=1)
    order_id = _order_id(history)
    await store.append(order_stream(order_id), 0, as_new_events(history[:2]))
    async with _served(create_app(services)) as base_url:
        early = Received()
        stream_url = f"ws://{base_url}/api/orders/{order_id}/stream"
        async with connect(stream_url, additional_headers=auth) as socket:
            collecting = asyncio.create_task(receive_all(socket, early))
            await wait_until(
                lambda: "live" in early.kinds or collecting.done(), what="live or a refusal"
            )
            async with httpx.AsyncClient(base_url=f"http://{base_url}") as http:
                starting = await http.get("/ready")
                assert starting.status_code == 503
                assert starting.json()["liveFeed"].startswith("down")
            # The order ends before the tailer reads where the log ends.
            await store.append(order_stream(order_id), 2, as_new_events(history[2:]))
            let_the_tailer_start.set()
            await asyncio.wait_for(collecting, 10)
        assert early.close_code == 1011, early.messages
        assert early.messages[0]["status"] == 503
        await asyncio.wait_for(feed.started.wait(), 10)
        later = await follow_at(base_url, f"/api/orders/{order_id}/stream", auth)
        async with httpx.AsyncClient(base_url=f"http://{base_url}") as http:
            assert (await http.get("/ready")).json()["liveFeed"] == "ok"
    assert later.versions == list(range(1, len(history) + 1))
    assert later.close_code == 1000


async def test_the_server_accepts_sockets_once_the_tailer_has_its_position(
    pool: AsyncConnectionPool[AsyncConnection], redis_server: str
) -> None:
    store = PostgresEventStore(pool)
    let_the_tailer_start = asyncio.Event()
    feed, tasks = _slow_feed(pool, redis_server, let_the_tailer_start, start_wait_s=10)
    keys, _ = in_memory_admin()
    services = ApiServices(
        store=store, keys=keys, on_startup=[tasks.start], on_shutdown=[tasks.stop]
    )
    asyncio.get_running_loop().call_later(0.3, let_the_tailer_start.set)
    async with _served(create_app(services)):
        assert feed.started.is_set()


def _slow_feed(
    pool: AsyncConnectionPool[AsyncConnection],
    redis_url: str,
    let_it_start: asyncio.Event,
    *,
    start_wait_s: float,
) -> tuple[LiveFeed, ReadSideTasks]:
    """A real tailer whose first read of where the log ends waits for `let_it_start`."""

    async def slow_head() -> GlobalPosition:
        await let_it_start.wait()
        return await settled_head(pool)

    listener = WakeUpListener(redis_url)
    feed = LiveFeed(PostgresEventStore(pool), slow_head, waiter=listener.wait)
    return feed, ReadSideTasks(feed, listener, start_wait_s=start_wait_s)


async def follow_at(base_url: str, path: str, auth: dict[str, str]) -> Received:
    received = Received()
    async with connect(f"ws://{base_url}{path}", additional_headers=auth) as socket:
        await receive_all(socket, received)
    return received


@asynccontextmanager
async def _served(app: Litestar) -> AsyncIterator[str]:
    listener = socket_module.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        await wait_until(lambda: server.started, what="the API started")
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        listener.close()
