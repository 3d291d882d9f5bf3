"""Keys and ownership (API.md): every route x {no key, bad key, revoked key, another
key, the owner, an admin}; revocation reaching an open stream; sockets per key; no key
string in any stored row or log line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import count_events
from tests.support.api_keys import bearer, make_key, revoke
from tests.support.read_side_api import ReadSideApi, serving

ORDER = {"type": "market", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1.5"}
BAD_KEY = "oe_0123456789abcdef_" + "x" * 43
Keys = dict[str, str | None]


@pytest.fixture
async def api(
    pool: AsyncConnectionPool[AsyncConnection], redis_server: str
) -> AsyncIterator[ReadSideApi]:
    async with serving(pool, redis_server, max_sockets_per_key=2) as api:
        yield api


def named(prefix: str) -> str:
    """A key name of this test's own (the database is the session's)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def callers(api: ReadSideApi, database_url: str) -> Keys:
    gone = named("gone")
    revoked = make_key(database_url, gone)
    revoke(database_url, gone)
    return {
        "none": None,
        "bad": BAD_KEY,
        "revoked": revoked,
        "other": make_key(database_url, named("bob")),
        "owner": make_key(database_url, named("alice")),
        "admin": api.admin_key,
    }


def headers(key: str | None, **more: str) -> dict[str, str]:
    return {**(bearer(key) if key else {}), **more}


async def socket_answer(
    api: ReadSideApi, path: str, key: str | None
) -> tuple[int | None, list[Any]]:
    messages: list[Any] = []
    async with connect(f"ws://{api.base_url}{path}", additional_headers=headers(key)) as socket:
        try:
            async for raw in socket:
                messages.append(json.loads(raw))
                if messages[-1]["type"] == "live":
                    return 0, messages  # a live stream: the order was served
        except ConnectionClosed:
            pass
        return socket.close_code, messages


HTTP_ORDER_ROUTES = ("/api/orders/{id}", "/api/orders/{id}?atVersion=1", "/api/orders/{id}/events")
SOCKET_ORDER_ROUTES = ("/api/orders/{id}/stream", "/api/orders/execute?orderId={id}")
# Routes about no one order, and what a caller with a valid key gets (no quoter, no
# wallet in this app: 503, but past the key check).
OPEN_TO_KEYS = {
    "/api/orders": 200,
    "/api/events": 200,
    "/api/tokens": 200,
    "/api/launches": 200,
    "/api/quote?tokenIn=SOL&tokenOut=USDC&amountIn=1": 503,
    "/api/wallet": 503,
}
EXPECTED = {"none": 401, "bad": 401, "revoked": 401, "other": 404, "owner": 200, "admin": 200}


async def test_every_route_answers_each_kind_of_caller(api: ReadSideApi, database_url: str) -> None:
    keys = callers(api, database_url)
    async with httpx.AsyncClient(base_url=f"http://{api.base_url}") as http:
        submitted = await http.post(
            "/api/orders/execute", json=ORDER, headers=headers(keys["owner"])
        )
        assert submitted.status_code == 202, submitted.text
        order_id = submitted.json()["orderId"]
        before = count_events(database_url)
        for who, key in keys.items():
            for route in HTTP_ORDER_ROUTES:
                reply = await http.get(route.format(id=order_id), headers=headers(key))
                assert reply.status_code == EXPECTED[who], (who, route, reply.text)
                if reply.status_code == 401:
                    assert reply.headers["www-authenticate"].startswith("Bearer")
                if who == "other":  # the very answer an unknown id gets
                    assert reply.json()["detail"] == f"orderId: no order {order_id}"
            for route in SOCKET_ORDER_ROUTES:
                code, messages = await socket_answer(api, route.format(id=order_id), key)
                want = {401: 4401, 404: 4404, 200: 0}[EXPECTED[who]]
                assert code == want, (who, route, messages)
            for route, status in OPEN_TO_KEYS.items():
                reply = await http.get(route, headers=headers(key))
                assert reply.status_code == (401 if EXPECTED[who] == 401 else status), (who, route)
            if EXPECTED[who] == 401:
                refused = await http.post("/api/orders/execute", json=ORDER, headers=headers(key))
                assert refused.status_code == 401
                code, _ = await socket_answer(api, "/api/orders/execute", key)
                assert code == 4401
            cancel = await http.post(f"/api/orders/{order_id}/cancel", headers=headers(key))
            if who in ("none", "bad", "revoked", "other"):
                assert cancel.status_code == EXPECTED[who], (who, cancel.text)
        assert count_events(database_url) == before + 1  # the owner's cancel, nothing else

        mine = await http.get("/api/orders", headers=headers(keys["owner"]))
        theirs = await http.get("/api/orders", headers=headers(keys["other"]))
        everyone = await http.get(
            "/api/orders", headers=headers(keys["admin"]), params={"limit": 500}
        )
        log = await http.get("/api/events", headers=headers(keys["other"]), params={"limit": 500})
        own_log = await http.get(
            "/api/events", headers=headers(keys["owner"]), params={"limit": 500}
        )
    # The projector does not run here: the list reads the read model, which is empty, so
    # only the log is checked for the order's events by owner.
    assert mine.status_code == theirs.status_code == everyone.status_code == 200
    assert all(item["orderId"] != order_id for item in theirs.json()["items"])
    assert all(item["orderId"] != order_id for item in log.json()["items"])
    assert [item["orderId"] for item in own_log.json()["items"]] == [order_id, order_id]


async def test_the_key_name_is_the_actor_and_idempotency_is_per_key(
    api: ReadSideApi, database_url: str
) -> None:
    bob_name = named("bob")
    alice, bob = make_key(database_url, named("alice")), make_key(database_url, bob_name)
    async with httpx.AsyncClient(base_url=f"http://{api.base_url}") as http:
        ids = []
        for key in (alice, bob, alice):
            reply = await http.post(
                "/api/orders/execute", json=ORDER, headers=headers(key, **{"Idempotency-Key": "k1"})
            )
            assert reply.status_code in (200, 202)
            ids.append(reply.json()["orderId"])
        events = await http.get(f"/api/orders/{ids[1]}/events", headers=headers(bob))
    assert ids[0] != ids[1]
    assert ids[0] == ids[2]
    assert events.json()[0]["metadata"]["actor"] == bob_name


async def test_a_key_revoked_while_its_client_streams_is_closed_within_a_second(
    api: ReadSideApi, database_url: str
) -> None:
    streamer = named("streamer")
    key = make_key(database_url, streamer)
    async with httpx.AsyncClient(base_url=f"http://{api.base_url}") as http:
        reply = await http.post("/api/orders/execute", json=ORDER, headers=headers(key))
        order_id = reply.json()["orderId"]
        url = f"ws://{api.base_url}/api/orders/{order_id}/stream?access_token={key}"
        async with connect(url) as socket:
            messages = [json.loads(await socket.recv()) for _ in range(2)]
            assert messages[-1]["type"] == "live"
            revoke(database_url, streamer)
            revoked_at = time.monotonic()
            with contextlib.suppress(ConnectionClosed):
                async for raw in socket:
                    messages.append(json.loads(raw))  # noqa: PERF401 - keep those before the close
            closed_after = time.monotonic() - revoked_at
            assert socket.close_code == 4401, messages
        assert closed_after < 1.0, closed_after
        assert messages[-1]["status"] == 401
        refused = await http.get(f"/api/orders/{order_id}", headers=headers(key))
        assert refused.status_code == 401


async def test_sockets_beyond_the_limit_per_key_are_closed_4429(
    api: ReadSideApi, database_url: str
) -> None:
    key = make_key(database_url, named("many"))
    async with httpx.AsyncClient(base_url=f"http://{api.base_url}") as http:
        reply = await http.post("/api/orders/execute", json=ORDER, headers=headers(key))
        order_id = reply.json()["orderId"]
    url = f"ws://{api.base_url}/api/orders/{order_id}/stream"
    async with (
        connect(url, additional_headers=headers(key)) as first,
        connect(url, additional_headers=headers(key)) as second,
    ):
        for socket in (first, second):
            while json.loads(await socket.recv())["type"] != "live":
                pass
        code, messages = await socket_answer(api, f"/api/orders/{order_id}/stream", key)
        assert code == 4429, messages
        other, _ = await socket_answer(api, f"/api/orders/{order_id}/stream", api.admin_key)
        assert other == 0  # another key's sockets are not counted against this one
    await asyncio.sleep(0.1)  # both closed: the key may open one again
    code, _ = await socket_answer(api, f"/api/orders/{order_id}/stream", key)
    assert code == 0


async def test_no_key_string_is_stored(api: ReadSideApi, database_url: str) -> None:
    key = make_key(database_url, named("secretive"))
    async with httpx.AsyncClient(base_url=f"http://{api.base_url}") as http:
        reply = await http.post("/api/orders/execute", json=ORDER, headers=headers(key))
        order_id = reply.json()["orderId"]
        await http.get(f"/api/orders/{order_id}/events", headers=headers(key))
        await http.get("/api/orders/nope", headers=headers(key))
        await http.post(f"/api/orders/{order_id}/cancel", headers=headers(key))
    await socket_answer(api, f"/api/orders/{order_id}/stream?access_token={key}", None)
    keys = [key, api.admin_key]
    with psycopg.connect(database_url) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        ]
        stored = [
            str(row[0])
            for table in tables
            for row in conn.execute(f'SELECT t::text FROM "{table}" t').fetchall()
        ]
    assert any("secretive" in row for row in stored)  # the scan reads the key's own row
    secret_part = key.rsplit("_", 1)[1]
    assert not [row for row in stored if any(k in row for k in keys) or secret_part in row]


async def test_over_the_rate_limit_submits_and_cancels_are_refused_and_append_nothing(
    pool: AsyncConnectionPool[AsyncConnection], redis_server: str, database_url: str
) -> None:
    async with serving(pool, redis_server, rate_limit_per_key=2) as api:
        key = make_key(database_url, named("hasty"))
        async with httpx.AsyncClient(
            base_url=f"http://{api.base_url}", headers=bearer(key)
        ) as http:
            replies = [await http.post("/api/orders/execute", json=ORDER) for _ in range(4)]
            assert [r.status_code for r in replies] == [202, 202, 202, 202]  # the burst: 2 x 2
            before = count_events(database_url)
            over = await http.post("/api/orders/execute", json=ORDER)
            assert over.status_code == 429, over.text
            assert int(over.headers["retry-after"]) >= 1
            assert over.json()["field"] == "Authorization"
            order_id = replies[0].json()["orderId"]
            cancel = await http.post(f"/api/orders/{order_id}/cancel")
            assert cancel.status_code == 429
            code, messages = await socket_answer_submitting(api, key)
            assert code == 4429, messages
            assert count_events(database_url) == before
            other = await http.post(
                "/api/orders/execute", json=ORDER, headers=bearer(api.admin_key)
            )
            assert other.status_code == 202  # the bucket is the key's own


async def socket_answer_submitting(api: ReadSideApi, key: str) -> tuple[int | None, list[Any]]:
    messages: list[Any] = []
    url = f"ws://{api.base_url}/api/orders/execute"
    async with connect(url, additional_headers=bearer(key)) as socket:
        await socket.send(json.dumps(ORDER))
        with contextlib.suppress(ConnectionClosed):
            async for raw in socket:
                messages.append(json.loads(raw))  # noqa: PERF401 - keep those before the close
        return socket.close_code, messages
