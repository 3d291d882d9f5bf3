"""A hostile client on the WebSockets: foreign origins, oversized and malformed submit
messages each end with an error message naming the field and a 44xx close, appending
nothing; `afterVersion` works on the submit path too."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import pytest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from websockets.asyncio.client import connect

from domain.events import OrderSubmitted
from domain.streams import order_stream
from tests.conftest import count_events
from tests.integration.test_order_stream import Received, receive_all
from tests.support.order_histories import as_new_events, confirmed_history
from tests.support.read_side_api import ReadSideApi, serving

ORDER = {"type": "market", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1.5"}
LISTED = "https://desk.example"


@pytest.fixture(scope="module")
async def api(
    pool: AsyncConnectionPool[AsyncConnection], redis_server: str
) -> AsyncIterator[ReadSideApi]:
    async with serving(pool, redis_server, allowed_origins=(LISTED,)) as api:
        yield api


async def submit_over_socket(api: ReadSideApi, message: str, **headers: str) -> Received:
    received = Received()
    async with connect(
        f"ws://{api.base_url}/api/orders/execute",
        additional_headers=api.auth | headers,
        max_size=None,
    ) as socket:
        await socket.send(message)
        received.messages.append(json.loads(await socket.recv()))
        if received.messages[0]["type"] == "error":
            await receive_all(socket, received)  # the close that follows
    return received


REFUSED = [
    ("1 MB message", json.dumps(ORDER) + " " * 2**20, "body"),
    ("NUL in idempotencyKey", json.dumps(ORDER | {"idempotencyKey": "a\u0000b"}), "idempotencyKey"),
    (
        "amountIn 1,000 arrays deep",
        json.dumps(ORDER).replace('"1.5"', "[" * 1000 + "]" * 1000),
        "amountIn",
    ),
    ("duplicate key", json.dumps(ORDER)[:-1] + ', "tokenIn": "USDC"}', "tokenIn"),
    ("look-alike symbol", json.dumps(ORDER | {"tokenIn": "\u017fOL"}), "tokenIn"),
]


@pytest.mark.parametrize(
    ("message", "field"), [case[1:] for case in REFUSED], ids=[case[0] for case in REFUSED]
)
async def test_a_hostile_submit_message_is_an_error_naming_the_field_and_4400(
    api: ReadSideApi, database_url: str, message: str, field: str
) -> None:
    before = count_events(database_url)
    received = await submit_over_socket(api, message)
    assert received.kinds == ["error"]
    assert received.messages[0]["field"] == field
    assert received.close_code == 4400
    assert count_events(database_url) == before


@pytest.mark.parametrize("path", ["/api/orders/execute", f"/api/orders/{uuid.uuid4()}/stream"])
async def test_a_foreign_origin_is_refused(api: ReadSideApi, database_url: str, path: str) -> None:
    before = count_events(database_url)
    received = Received()
    headers = {"Origin": "https://evil.example"}
    async with connect(
        f"ws://{api.base_url}{path}", additional_headers=api.auth | headers
    ) as socket:
        await receive_all(socket, received)  # refused before the first message is read
    assert received.kinds == ["error"]
    assert received.messages[0]["field"] == "Origin"
    assert received.close_code == 4403
    assert count_events(database_url) == before


@pytest.mark.parametrize("origin", ["own", "http://localhost:5173", "http://127.0.0.1", LISTED])
async def test_own_loopback_and_listed_origins_may_submit(api: ReadSideApi, origin: str) -> None:
    origin = f"http://{api.base_url}" if origin == "own" else origin
    received = await submit_over_socket(api, json.dumps(ORDER), Origin=origin)
    assert received.kinds == ["accepted"], received.messages


async def test_the_submit_socket_follows_an_order_after_a_version(api: ReadSideApi) -> None:
    history = confirmed_history()
    submitted = history[0]
    assert isinstance(submitted, OrderSubmitted)
    order_id = submitted.order_id
    await api.store.append(order_stream(order_id), 0, as_new_events(history))
    received = Received()
    path = f"/api/orders/execute?orderId={order_id}&afterVersion=2"
    async with connect(f"ws://{api.base_url}{path}", additional_headers=api.auth) as socket:
        await receive_all(socket, received)
    assert received.versions == list(range(3, len(history) + 1))
    assert received.close_code == 1000
